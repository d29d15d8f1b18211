#include "journal/writer.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/assert.h"
#include "base/clock.h"
#include "base/crc32c.h"
#include "base/thread.h"
#include "base/write_pacer.h"

namespace bursar::journal {

namespace {

// The preparer writes zeros a page per write: the page cache keeps what one buffered write brings
// in folios of about its size (ext4's large folios, Linux 6.16 on), and the journal's small
// writes would then each dirty, and its fsync write back, a whole large folio (measured: 1.7 GB/s
// written for 16 MB/s of records with 1 MiB writes; docs/benchmarks.md). It is paced
// (base/write_pacer.h): it syncs every kPrepareSyncBytes and writes at most
// kPrepareBytesPerSecondMax, so that the journal's own fsync never waits behind more than a
// megabyte of it (at 8 MiB between syncs the journal's fsync waited up to 60 ms).
constexpr size_t kPrepareChunkBytes = 4096;
constexpr uint64_t kPrepareSyncBytes = 1ull << 20;
constexpr uint64_t kPrepareBytesPerSecondMax = 64ull << 20;
constexpr int kPreparerNice = 19;  // background work: the request path goes first

}  // namespace

Result<std::unique_ptr<JournalWriter>> JournalWriter::Open(FileSystem& fs, std::string dir,
                                                           const JournalTail& tail,
                                                           const WriterOptions& options) {
    std::unique_ptr<JournalWriter> writer(new JournalWriter(fs, std::move(dir), options));
    writer->next_seq_ = tail.next_seq;
    writer->last_hash_ = tail.last_hash;
    // A segment an earlier process was writing ahead may be incomplete: it is written again.
    const std::string prepared = JoinPath(writer->dir_, kPreallocatedSegmentName);
    if (fs.Exists(prepared)) {
        Status status = fs.Remove(prepared);
        if (!status.ok()) return Error(status);
    }
    if (tail.last_segment.empty()) {
        Status status = writer->StartSegment();
        if (!status.ok()) return Error(status);
    } else {
        const std::string path = JoinPath(writer->dir_, tail.last_segment);
        auto size = fs.FileSize(path);
        if (!size) return Error(size.error());
        BURSAR_ASSERT(*size >= tail.last_segment_size);
        // Preallocated zeros after the records: the next record goes where they begin.
        auto file = *size > tail.last_segment_size ? fs.OpenAt(path, tail.last_segment_size)
                                                   : fs.OpenAppendable(path);
        if (!file) return Error(file.error());
        BURSAR_ASSERT((*file)->Size() == tail.last_segment_size);
        writer->file_ = std::move(*file);
        writer->segment_ = tail.last_segment;
        writer->segment_first_seq_ = ParseSegmentName(tail.last_segment);
        writer->segment_file_bytes_ = *size;
        writer->segment_records_ = tail.last_segment_size > kSegmentHeaderSize ? 1 : 0;
    }
    writer->StartPreparing();
    return writer;
}

JournalWriter::~JournalWriter() {
    stopping_.store(true);
    if (preparer_.joinable()) preparer_.join();
}

Status JournalWriter::Fail(Status status) {
    poison_ = Status(StatusCode::kStopped, "journal stopped after: " + status.ToString());
    return status;
}

Status JournalWriter::StartSegment() {
    if (file_) {
        // The old segment is complete on disk, and cut to its records, before the new one exists,
        // so that damage in it is never taken for a torn tail, nor a torn tail in it for
        // corruption, and only the last segment ends in preallocated zeros.
        const uint64_t used = file_->Size();
        Status status = file_->Sync();
        if (status.ok()) status = file_->Close();
        if (status.ok() && segment_file_bytes_ > used) {
            status = fs_.Truncate(JoinPath(dir_, segment_), used);
        }
        if (!status.ok()) return Fail(status);
    }
    SegmentHeader header{};
    std::memcpy(header.magic, kSegmentMagic, sizeof(header.magic));
    header.version = kFormatVersion;
    header.first_seq = next_seq_;
    std::memcpy(header.prev_hash, last_hash_.data(), 32);
    header.masked_crc = crc32c::Mask(crc32c::Value(&header, offsetof(SegmentHeader, masked_crc)));
    const std::string name = SegmentName(next_seq_);
    const std::string path = JoinPath(dir_, name);
    if (PreparedReady()) {
        // The prepared segment gets its header, then its name; the name is durable with the
        // directory's sync.
        prepared_.store(false);
        const std::string prepared = JoinPath(dir_, kPreallocatedSegmentName);
        auto size = fs_.FileSize(prepared);
        if (!size) return Fail(size.error());
        auto file = fs_.OpenAt(prepared, 0);
        if (!file) return Fail(file.error());
        Status status = (*file)->Append(&header, sizeof(header));
        if (status.ok()) status = (*file)->Sync();
        if (status.ok()) status = fs_.Rename(prepared, path);
        if (status.ok()) status = fs_.SyncDir(dir_);
        if (!status.ok()) return Fail(status);
        file_ = std::move(*file);
        segment_file_bytes_ = std::max<uint64_t>(*size, sizeof(header));
    } else {
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
        segment_file_bytes_ = sizeof(header);
    }
    segment_ = name;
    segment_first_seq_ = next_seq_;
    segment_records_ = 0;
    bytes_written_ += sizeof(header);
    StartPreparing();
    return Status::Ok();
}

void JournalWriter::StartPreparing() {
    if (!options_.preallocate || preparing_.load() || prepared_.load()) return;
    if (preparer_.joinable()) preparer_.join();  // finished: preparing_ is false
    preparing_.store(true);
    preparer_ = std::thread([this] { Prepare(); });
}

bool JournalWriter::PreparedReady() {
    if (preparing_.load()) return false;  // never wait for it: grow by appends meanwhile
    if (preparer_.joinable()) preparer_.join();
    return prepared_.load();
}

void JournalWriter::Prepare() {
    SetCurrentThreadName("journal-prep");
    SetCurrentThreadNice(kPreparerNice);
    static const std::string zeros(kPrepareChunkBytes, '\0');
    const std::string path = JoinPath(dir_, kPreallocatedSegmentName);
    Status status = fs_.Exists(path) ? fs_.Remove(path) : Status::Ok();
    std::unique_ptr<WritableFile> file;
    if (status.ok()) {
        auto opened = fs_.OpenAppendable(path);
        if (opened) {
            file = std::move(*opened);
        } else {
            status = opened.error();
        }
    }
    Clock& clock = SystemClock::Instance();
    WritePacer pacer(kPrepareBytesPerSecondMax, kPrepareSyncBytes, clock.MonotonicNs());
    uint64_t written = 0;
    while (status.ok() && written < options_.segment_bytes_max && !stopping_.load()) {
        const size_t size = std::min<uint64_t>(zeros.size(), options_.segment_bytes_max - written);
        status = file->Append(zeros.data(), size);
        written += size;
        const WritePacer::Step step = pacer.Wrote(size, clock.MonotonicNs());
        if (status.ok() && step.sync) status = file->Sync();
        if (step.wait_ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(step.wait_ns));
    }
    if (status.ok() && !stopping_.load()) status = file->Sync();
    if (file) (void)file->Close();
    const bool ready = status.ok() && !stopping_.load();
    // A failure only costs the preallocation: the writer grows the next segment by appends.
    if (!ready && fs_.Exists(path)) (void)fs_.Remove(path);
    prepared_.store(ready);
    preparing_.store(false);
}

Status JournalWriter::Append(RecordType type, uint64_t timestamp, std::string* record,
                             uint64_t* seq) {
    if (!poison_.ok()) return poison_;
    BURSAR_ASSERT(record->size() >= kRecordHeaderSize);
    const size_t payload_length = record->size() - kRecordHeaderSize;
    if (payload_length > kRecordPayloadMax) {
        return Status(StatusCode::kInvalidArgument, "journal record payload over 64 MiB");
    }
    if (segment_records_ > 0) {
        const bool full = file_->Size() + record->size() > options_.segment_bytes_max;
        // A segment growing by appends gives way to a prepared one as soon as that is ready.
        const bool growing = segment_file_bytes_ <= file_->Size();
        if (full || (growing && PreparedReady())) {
            Status status = StartSegment();
            if (!status.ok()) return status;
        }
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
    segment_file_bytes_ = std::max(segment_file_bytes_, file_->Size());
    last_hash_ = Sha256::Of(record->data(), record->size());
    *seq = next_seq_++;
    ++segment_records_;
    bytes_written_ += record->size();
    return Status::Ok();
}

JournalEnd JournalWriter::end() const {
    return JournalEnd{next_seq_ - 1, segment_first_seq_, file_->Size()};
}

Status JournalWriter::Sync() {
    if (!poison_.ok()) return poison_;
    Status status = file_->Sync();
    if (!status.ok()) return Fail(status);
    return Status::Ok();
}

}  // namespace bursar::journal
