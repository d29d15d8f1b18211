#include "journal/reader.h"

#include <algorithm>
#include <vector>

#include "base/crc32c.h"

namespace bursar::journal {
namespace {

struct Segment {
    uint64_t first_seq;
    std::string name;
};

bool AllZero(const char* p, size_t size) {
    return std::all_of(p, p + size, [](char c) { return c == 0; });
}

// True when a record that checks out (CRC, a later sequence number) starts anywhere after
// `from`: then damage before it cannot be a torn tail. Runs only when damage was found.
bool ValidRecordAfter(const std::string& bytes, uint64_t from, uint64_t expected_seq) {
    for (uint64_t offset = from; offset + kRecordHeaderSize <= bytes.size(); ++offset) {
        RecordHeader header{};
        std::memcpy(&header, bytes.data() + offset, sizeof(header));
        if (header.seq <= expected_seq || header.seq - expected_seq > (1ull << 32)) continue;
        const uint64_t size = kRecordHeaderSize + uint64_t{header.payload_length};
        if (header.payload_length > kRecordPayloadMax || size > bytes.size() - offset) continue;
        if (crc32c::Unmask(header.masked_crc) ==
            crc32c::Value(bytes.data() + offset + 4, size - 4)) {
            return true;
        }
    }
    return false;
}

std::string Where(const std::string& name, uint64_t offset) {
    return name + " at byte offset " + std::to_string(offset);
}

}  // namespace

Result<ScanResult> Scan(FileSystem& fs, const std::string& dir, const ScanOptions& options,
                        const RecordFn& on_record) {
    auto names = fs.ListDir(dir);
    if (!names) return Error(names.error());
    std::vector<Segment> segments;
    for (const std::string& name : *names) {
        uint64_t first_seq = ParseSegmentName(name);
        if (first_seq != 0) segments.push_back(Segment{first_seq, name});
    }
    std::sort(segments.begin(), segments.end(),
              [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });

    size_t start = 0;
    if (!options.from_first_segment) {
        const uint64_t wanted = std::max<uint64_t>(options.deliver_after_seq, 1);
        for (size_t i = 0; i < segments.size(); ++i) {
            if (segments[i].first_seq <= wanted) start = i;
        }
    }

    uint64_t bytes_total = 0;
    for (size_t i = start; i < segments.size(); ++i) {
        auto size = fs.FileSize(JoinPath(dir, segments[i].name));
        if (size) bytes_total += *size;
    }

    ScanResult result;
    uint64_t bytes_done = 0;
    uint64_t expected_seq = 0;  // 0: not known yet
    Hash256 last_hash{};
    bool stop = false;

    // Cuts the journal at (segment i, offset): the rest of the segment and all later segments.
    auto cut = [&](size_t i, uint64_t offset, const std::string& why) -> Status {
        const std::string path = JoinPath(dir, segments[i].name);
        auto size = fs.FileSize(path);
        result.torn_bytes = (size ? *size : offset) - offset;
        result.torn_description = why;
        for (size_t later = i + 1; later < segments.size(); ++later) {
            auto later_size = fs.FileSize(JoinPath(dir, segments[later].name));
            if (later_size) result.torn_bytes += *later_size;
        }
        if (!options.repair) return Status::Ok();
        for (size_t later = segments.size(); later-- > i + 1;) {
            BURSAR_RETURN_IF_ERROR(fs.Remove(JoinPath(dir, segments[later].name)));
        }
        if (offset == 0) {
            BURSAR_RETURN_IF_ERROR(fs.Remove(path));
        } else {
            BURSAR_RETURN_IF_ERROR(fs.Truncate(path, offset));
        }
        return fs.SyncDir(dir);
    };

    for (size_t i = start; i < segments.size() && !stop; ++i) {
        const Segment& segment = segments[i];
        const bool last = i + 1 == segments.size();
        const std::string path = JoinPath(dir, segment.name);
        auto data = fs.ReadFile(path);
        if (!data) return Error(data.error());
        const std::string& bytes = *data;

        // The segment header.
        SegmentHeader header{};
        std::string header_problem;
        if (bytes.size() < kSegmentHeaderSize) {
            header_problem = "short segment header";
        } else {
            std::memcpy(&header, bytes.data(), sizeof(header));
            if (std::memcmp(header.magic, kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
                header_problem = "bad segment magic";
            } else if (crc32c::Unmask(header.masked_crc) !=
                       crc32c::Value(&header, offsetof(SegmentHeader, masked_crc))) {
                header_problem = "segment header checksum mismatch";
            } else if (header.version != kFormatVersion) {
                return Error(StatusCode::kUnsupported,
                             path + ": journal format version " + std::to_string(header.version));
            } else if (header.first_seq != segment.first_seq) {
                header_problem = "segment header names another sequence number";
            }
        }
        if (!header_problem.empty()) {
            // A segment whose creation was cut short holds no record: the end of the journal.
            const bool torn = last && (bytes.size() <= kSegmentHeaderSize ||
                                       AllZero(bytes.data(), kSegmentHeaderSize));
            if (torn || options.mode == RecoveryMode::kTruncateAtCorruption) {
                BURSAR_RETURN_IF_ERROR(cut(i, 0, Where(segment.name, 0) + ": " + header_problem));
                break;
            }
            return Error(StatusCode::kCorruption, Where(path, 0) + ": " + header_problem);
        }
        if (result.first_seq == 0) result.first_seq = header.first_seq;
        const Hash256 header_prev = ToHash(header.prev_hash);
        if (expected_seq == 0) {
            if (header.first_seq == 1 && header_prev != Hash256{}) {
                return Error(StatusCode::kCorruption, Where(path, 0) + ": first segment chained");
            }
            expected_seq = header.first_seq;
            last_hash = header_prev;
        } else if (header.first_seq != expected_seq) {
            return Error(StatusCode::kCorruption,
                         path + ": starts at sequence " + std::to_string(header.first_seq) +
                             ", expected " + std::to_string(expected_seq) + " (missing records)");
        } else if (header_prev != last_hash) {
            return Error(StatusCode::kCorruption, Where(path, 0) + ": hash chain broken");
        }

        uint64_t offset = kSegmentHeaderSize;
        bool preallocated_end = false;
        while (offset < bytes.size()) {
            const uint64_t remaining = bytes.size() - offset;
            RecordHeader record{};
            std::string problem;
            if (remaining < kRecordHeaderSize) {
                problem = "partial record header";
            } else {
                std::memcpy(&record, bytes.data() + offset, sizeof(record));
                const uint64_t record_size = kRecordHeaderSize + uint64_t{record.payload_length};
                if (record.payload_length > kRecordPayloadMax) {
                    problem = "record length out of bounds";
                } else if (record_size > remaining) {
                    problem = "partial record";
                } else if (crc32c::Unmask(record.masked_crc) !=
                           crc32c::Value(bytes.data() + offset + 4, record_size - 4)) {
                    problem = "record checksum mismatch";
                }
            }
            if (!problem.empty() && last && AllZero(bytes.data() + offset, remaining)) {
                // Zeros to the end of the last segment: space written ahead, not yet used.
                preallocated_end = true;
                break;
            }
            if (!problem.empty()) {
                const std::string where = Where(path, offset) + ": " + problem;
                // In the last segment, damage after which no valid record follows is a write that
                // never completed. Earlier segments were synced whole before the next began.
                const bool torn = last && !ValidRecordAfter(bytes, offset + 1, expected_seq);
                if (torn || options.mode == RecoveryMode::kTruncateAtCorruption) {
                    BURSAR_RETURN_IF_ERROR(cut(i, offset, where));
                    stop = true;
                    break;
                }
                return Error(StatusCode::kCorruption, where);
            }

            const uint64_t record_size = kRecordHeaderSize + uint64_t{record.payload_length};
            if (record.seq != expected_seq) {
                return Error(StatusCode::kCorruption,
                             Where(path, offset) + ": sequence " + std::to_string(record.seq) +
                                 ", expected " + std::to_string(expected_seq));
            }
            if (ToHash(record.prev_hash) != last_hash) {
                return Error(StatusCode::kCorruption, Where(path, offset) + ": hash chain broken");
            }
            if (record.type != static_cast<uint16_t>(RecordType::kBatch)) {
                return Error(StatusCode::kUnsupported,
                             Where(path, offset) + ": record type " + std::to_string(record.type));
            }
            const Hash256 hash = Sha256::Of(bytes.data() + offset, record_size);
            if (options.anchor && options.anchor->first == record.seq &&
                options.anchor->second != hash) {
                return Error(StatusCode::kCorruption,
                             Where(path, offset) + ": record differs from the snapshot's");
            }
            if (record.seq > options.deliver_after_seq) {
                RecordView view{record.seq,
                                record.timestamp,
                                static_cast<RecordType>(record.type),
                                std::string_view(bytes.data() + offset + kRecordHeaderSize,
                                                 record.payload_length),
                                hash,
                                &segment.name,
                                offset};
                BURSAR_RETURN_IF_ERROR(on_record(view));
            }
            ++result.records_read;
            last_hash = hash;
            ++expected_seq;
            offset += record_size;
        }
        bytes_done += bytes.size();
        if (options.progress) options.progress(bytes_done, bytes_total);
        result.tail.last_segment = segment.name;
        result.tail.last_segment_size = stop || preallocated_end ? offset : bytes.size();
    }

    result.tail.next_seq = expected_seq == 0 ? 1 : expected_seq;
    result.tail.last_hash = last_hash;
    if (options.anchor && options.anchor->first >= result.tail.next_seq) {
        return Error(StatusCode::kCorruption, "journal in " + dir + " ends at sequence " +
                                                  std::to_string(result.tail.next_seq - 1) +
                                                  ", before the snapshot's " +
                                                  std::to_string(options.anchor->first));
    }
    return result;
}

}  // namespace bursar::journal
