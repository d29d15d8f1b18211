#pragma once

// Appends records to the journal's segments. Not thread-safe: one owner (the engine's journal
// thread). A failed write or fsync poisons the writer: every later call fails (fail-stop), because
// after a failed fsync the state of the file is unknown (LevelDB, PostgreSQL's fsyncgate).

#include <cstdint>
#include <memory>
#include <string>

#include "base/file_system.h"
#include "base/sha256.h"
#include "base/status.h"
#include "journal/format.h"

namespace bursar::journal {

// Where the journal ends: what recovery found, what the writer continues from.
struct JournalTail {
    uint64_t next_seq = 1;
    Hash256 last_hash{};             // hash of record next_seq - 1 (zero when none)
    std::string last_segment;        // file name of the last segment ("" when none)
    uint64_t last_segment_size = 0;  // its valid size in bytes
};

struct WriterOptions {
    uint64_t segment_bytes_max = kSegmentBytesDefault;
};

class JournalWriter {
  public:
    static Result<std::unique_ptr<JournalWriter>> Open(FileSystem& fs, std::string dir,
                                                       const JournalTail& tail,
                                                       const WriterOptions& options = {});

    // `record` holds kRecordHeaderSize bytes of room followed by the payload; the writer fills the
    // header in place and appends the record. Not durable until Sync().
    Status Append(RecordType type, uint64_t timestamp, std::string* record, uint64_t* seq);
    Status Sync();

    uint64_t next_seq() const { return next_seq_; }
    const Hash256& last_hash() const { return last_hash_; }
    uint64_t bytes_written() const { return bytes_written_; }
    bool poisoned() const { return !poison_.ok(); }

  private:
    JournalWriter(FileSystem& fs, std::string dir, const WriterOptions& options)
        : fs_(fs), dir_(std::move(dir)), options_(options) {}
    Status StartSegment();
    Status Fail(Status status);

    FileSystem& fs_;
    std::string dir_;
    WriterOptions options_;
    std::unique_ptr<WritableFile> file_;
    uint64_t segment_records_ = 0;
    uint64_t next_seq_ = 1;
    Hash256 last_hash_{};
    uint64_t bytes_written_ = 0;
    Status poison_;
};

}  // namespace bursar::journal
