#pragma once

// The journal's on-disk format, version 1 (docs/formats/journal.md). All integers little-endian.
//
// Segment file `journal-<first seq, 20 digits>.log`: a 64-byte segment header, then records, then
// in the last segment possibly zero bytes: space written ahead (preallocated) for later records.
// Record: a 64-byte header, then `payload_length` bytes of payload. The record's hash is SHA-256
// over its header and payload; each record header carries the previous record's hash (zero for
// sequence 1), which makes the journal a hash chain (SPEC.md L8).

#include <cstdint>
#include <cstring>
#include <string>

#include "base/sha256.h"

namespace bursar::journal {

inline constexpr char kSegmentMagic[8] = {'B', 'R', 'S', 'R', 'J', 'R', 'N', 'L'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 64;
inline constexpr size_t kRecordHeaderSize = 64;
inline constexpr uint32_t kRecordPayloadMax = 64u << 20;       // 64 MiB
inline constexpr uint64_t kSegmentBytesDefault = 64ull << 20;  // rotate past 64 MiB
inline constexpr const char* kSegmentPrefix = "journal-";
inline constexpr const char* kSegmentSuffix = ".log";
// The next segment while it is written ahead (zero-filled); renamed to its segment name when the
// writer starts it. Not a segment: readers ignore it, and the writer removes a leftover one.
inline constexpr const char* kPreallocatedSegmentName = "journal-next.prealloc";

enum class RecordType : uint16_t {
    kBatch = 1,  // one engine batch: its timestamp, operations, events and results
};

struct SegmentHeader {
    char magic[8];
    uint32_t version;
    uint32_t reserved;
    uint64_t first_seq;
    uint8_t prev_hash[32];  // hash of the record before first_seq (zero when first_seq is 1)
    uint32_t reserved2;
    uint32_t masked_crc;  // CRC32C of the 60 bytes before it
};
static_assert(sizeof(SegmentHeader) == kSegmentHeaderSize);

struct RecordHeader {
    uint32_t masked_crc;  // CRC32C of bytes [4, 64 + payload_length) of the record
    uint32_t payload_length;
    uint16_t type;
    uint16_t reserved;
    uint32_t reserved2;
    uint64_t seq;
    uint64_t timestamp;
    uint8_t prev_hash[32];
};
static_assert(sizeof(RecordHeader) == kRecordHeaderSize);

// Where the durable records end: the last one's sequence number, the first sequence number of the
// segment holding it, and the byte offset just past it in that segment. Readers following the
// journal read no further (what follows may be a write in progress, or preallocated zeros).
// A zero segment_first_seq means that only `seq` is known.
struct JournalEnd {
    uint64_t seq = 0;
    uint64_t segment_first_seq = 0;
    uint64_t offset = 0;
};

std::string SegmentName(uint64_t first_seq);
// The first sequence number of a segment file name, or 0 when the name is not a segment's.
uint64_t ParseSegmentName(const std::string& name);

inline Hash256 ToHash(const uint8_t (&bytes)[32]) {
    Hash256 hash;
    std::memcpy(hash.data(), bytes, 32);
    return hash;
}

}  // namespace bursar::journal
