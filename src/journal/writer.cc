#include "journal/writer.h"

#include <cstring>

#include "base/assert.h"
#include "base/crc32c.h"

namespace bursar::journal {

Result<std::unique_ptr<JournalWriter>> JournalWriter::Open(FileSystem& fs, std::string dir,
                                                           const JournalTail& tail,
                                                           const WriterOptions& options) {
    std::unique_ptr<JournalWriter> writer(new JournalWriter(fs, std::move(dir), options));
    writer->next_seq_ = tail.next_seq;
    writer->last_hash_ = tail.last_hash;
    if (tail.last_segment.empty()) {
        Status status = writer->StartSegment();
        if (!status.ok()) return Error(status);
    } else {
        auto file = fs.OpenAppendable(JoinPath(writer->dir_, tail.last_segment));
        if (!file) return Error(file.error());
        BURSAR_ASSERT((*file)->Size() == tail.last_segment_size);
        writer->file_ = std::move(*file);
        writer->segment_records_ = tail.last_segment_size > kSegmentHeaderSize ? 1 : 0;
    }
    return writer;
}

Status JournalWriter::Fail(Status status) {
    poison_ = Status(StatusCode::kStopped, "journal stopped after: " + status.ToString());
    return status;
}

Status JournalWriter::StartSegment() {
    if (file_) {
        // The old segment is complete on disk before the new one exists, so that damage in it is
        // never taken for a torn tail, nor a torn tail in it for corruption.
        Status status = file_->Sync();
        if (status.ok()) status = file_->Close();
        if (!status.ok()) return Fail(status);
    }
    SegmentHeader header{};
    std::memcpy(header.magic, kSegmentMagic, sizeof(header.magic));
    header.version = kFormatVersion;
    header.first_seq = next_seq_;
    std::memcpy(header.prev_hash, last_hash_.data(), 32);
    header.masked_crc = crc32c::Mask(crc32c::Value(&header, offsetof(SegmentHeader, masked_crc)));
    const std::string path = JoinPath(dir_, SegmentName(next_seq_));
    auto file = fs_.OpenAppendable(path);
    if (!file) return Fail(file.error());
    file_ = std::move(*file);
    if (file_->Size() != 0) {
        return Fail(Status(StatusCode::kCorruption, path + ": new segment is not empty"));
    }
    Status status = file_->Append(&header, sizeof(header));
    if (status.ok()) status = file_->Sync();
    if (status.ok()) status = fs_.SyncDir(dir_);
    if (!status.ok()) return Fail(status);
    segment_records_ = 0;
    bytes_written_ += sizeof(header);
    return Status::Ok();
}

Status JournalWriter::Append(RecordType type, uint64_t timestamp, std::string* record,
                             uint64_t* seq) {
    if (!poison_.ok()) return poison_;
    BURSAR_ASSERT(record->size() >= kRecordHeaderSize);
    const size_t payload_length = record->size() - kRecordHeaderSize;
    if (payload_length > kRecordPayloadMax) {
        return Status(StatusCode::kInvalidArgument, "journal record payload over 64 MiB");
    }
    if (segment_records_ > 0 && file_->Size() + record->size() > options_.segment_bytes_max) {
        Status status = StartSegment();
        if (!status.ok()) return status;
    }

    RecordHeader header{};
    header.payload_length = static_cast<uint32_t>(payload_length);
    header.type = static_cast<uint16_t>(type);
    header.seq = next_seq_;
    header.timestamp = timestamp;
    std::memcpy(header.prev_hash, last_hash_.data(), 32);
    std::memcpy(record->data(), &header, sizeof(header));
    uint32_t crc = crc32c::Value(record->data() + 4, record->size() - 4);
    header.masked_crc = crc32c::Mask(crc);
    std::memcpy(record->data(), &header.masked_crc, 4);

    Status status = file_->Append(record->data(), record->size());
    if (!status.ok()) return Fail(status);
    last_hash_ = Sha256::Of(record->data(), record->size());
    *seq = next_seq_++;
    ++segment_records_;
    bytes_written_ += record->size();
    return Status::Ok();
}

Status JournalWriter::Sync() {
    if (!poison_.ok()) return poison_;
    Status status = file_->Sync();
    if (!status.ok()) return Fail(status);
    return Status::Ok();
}

}  // namespace bursar::journal
