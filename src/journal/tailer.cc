#include "journal/tailer.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/crc32c.h"

namespace bursar::journal {

Tailer::Tailer(FileSystem& fs, std::string dir, uint64_t after_seq)
    : fs_(fs), dir_(std::move(dir)), delivered_seq_(after_seq) {}

Status Tailer::OpenSegmentFor(uint64_t seq) {
    auto names = fs_.ListDir(dir_);
    if (!names) return names.error();
    std::string best;
    uint64_t best_first = 0;
    for (const std::string& name : *names) {
        uint64_t first = ParseSegmentName(name);
        if (first != 0 && first <= seq && first >= best_first) {
            best = name;
            best_first = first;
        }
    }
    if (best.empty())
        return Status(StatusCode::kNotFound, "no journal segment holds " + std::to_string(seq));
    segment_ = best;
    segment_first_seq_ = best_first;
    offset_ = kSegmentHeaderSize;
    next_seq_ = best_first;
    return Status::Ok();
}

Result<uint64_t> Tailer::Poll(const JournalEnd& committed, uint64_t records_max,
                              const RecordFn& on_record) {
    const uint64_t committed_seq = committed.seq;
    uint64_t delivered = 0;
    while (delivered_seq_ < committed_seq && delivered < records_max) {
        if (segment_.empty()) BURSAR_RETURN_IF_ERROR(OpenSegmentFor(delivered_seq_ + 1));
        const std::string path = JoinPath(dir_, segment_);
        size_t read_bytes = kReadChunkBytes;
        if (committed.segment_first_seq == segment_first_seq_ && committed.offset > offset_) {
            read_bytes = std::min<uint64_t>(read_bytes, committed.offset - offset_);
        }
        auto chunk = fs_.ReadRange(path, offset_, read_bytes);
        if (!chunk) return Error(chunk.error());
        size_t position = 0;
        bool progressed = false;
        while (position + kRecordHeaderSize <= chunk->size() && delivered_seq_ < committed_seq &&
               delivered < records_max) {
            RecordHeader header{};
            std::memcpy(&header, chunk->data() + position, sizeof(header));
            const uint64_t size = kRecordHeaderSize + uint64_t{header.payload_length};
            if (header.payload_length > kRecordPayloadMax) {
                return Error(StatusCode::kCorruption, path + ": record length out of bounds");
            }
            if (size > chunk->size() - position) {
                if (size > kReadChunkBytes && position == 0) {
                    // A record larger than a chunk: read it whole.
                    auto whole = fs_.ReadRange(path, offset_, size);
                    if (!whole) return Error(whole.error());
                    if (whole->size() < size) break;
                    *chunk = std::move(*whole);
                    continue;
                }
                break;  // the rest arrives with the next read
            }
            const char* bytes = chunk->data() + position;
            if (header.seq != next_seq_ ||
                crc32c::Unmask(header.masked_crc) != crc32c::Value(bytes + 4, size - 4)) {
                return Error(StatusCode::kCorruption, path + " at byte offset " +
                                                          std::to_string(offset_ + position) +
                                                          ": committed record does not check out");
            }
            if (header.seq > delivered_seq_) {
                RecordView view{header.seq,
                                header.timestamp,
                                static_cast<RecordType>(header.type),
                                std::string_view(bytes + kRecordHeaderSize, header.payload_length),
                                Hash256{},
                                &segment_,
                                offset_ + position};
                BURSAR_RETURN_IF_ERROR(on_record(view));
                delivered_seq_ = header.seq;
                ++delivered;
            }
            ++next_seq_;
            position += size;
            progressed = true;
        }
        offset_ += position;
        if (delivered_seq_ >= committed_seq || delivered >= records_max) break;
        if (!progressed) {
            // Nothing more in this segment: the next record is in the next one.
            auto size = fs_.FileSize(path);
            if (!size) return Error(size.error());
            if (offset_ < *size) break;  // an incomplete record: wait for it
            const std::string next = SegmentName(next_seq_);
            if (!fs_.Exists(JoinPath(dir_, next))) break;
            segment_ = next;
            segment_first_seq_ = next_seq_;
            offset_ = kSegmentHeaderSize;
        }
    }
    return delivered;
}

}  // namespace bursar::journal
