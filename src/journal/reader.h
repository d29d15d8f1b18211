#pragma once

// Reads the journal back: recovery, `bursar verify` and `bursar journal dump`. Checks each record's
// CRC, the sequence numbers, and the hash chain. A damaged record that reaches the end of the last
// segment is a torn tail (a write that never completed): the end of the journal, truncated when
// `repair` is set. Damage anywhere else is corruption, reported with the file and byte offset,
// unless the operator chose RecoveryMode::kTruncateAtCorruption.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/file_system.h"
#include "base/sha256.h"
#include "base/status.h"
#include "journal/format.h"
#include "journal/writer.h"

namespace bursar::journal {

struct RecordView {
    uint64_t seq;
    uint64_t timestamp;
    RecordType type;
    std::string_view payload;
    Hash256 hash;
    const std::string* segment;  // file name
    uint64_t offset;             // of the record header in the segment
};

enum class RecoveryMode {
    kStrict,                // corruption refuses to go on
    kTruncateAtCorruption,  // operator's choice: drop everything from the first corruption on
};

struct ScanOptions {
    // Records with seq <= this are checked but not delivered (they are in the snapshot).
    uint64_t deliver_after_seq = 0;
    // Start at the first segment rather than the one holding deliver_after_seq (verify).
    bool from_first_segment = false;
    // Write to repair: truncate a torn tail (and, with kTruncateAtCorruption, a corruption).
    bool repair = false;
    RecoveryMode mode = RecoveryMode::kStrict;
    // A record that must have this hash: the snapshot's, so a replaced journal is noticed.
    std::optional<std::pair<uint64_t, Hash256>> anchor;
    std::function<void(uint64_t bytes_done, uint64_t bytes_total)> progress;
};

struct ScanResult {
    JournalTail tail;
    uint64_t records_read = 0;
    uint64_t first_seq = 0;        // of the first segment read (0 when none)
    uint64_t torn_bytes = 0;       // bytes cut off (or that would be) at the tail
    std::string torn_description;  // where and why, for the log
};

using RecordFn = std::function<Status(const RecordView&)>;

Result<ScanResult> Scan(FileSystem& fs, const std::string& dir, const ScanOptions& options,
                        const RecordFn& on_record);

}  // namespace bursar::journal
