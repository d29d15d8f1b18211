#pragma once

// Appends records to the journal's segments. Not thread-safe: one owner (the engine's journal
// thread). A failed write or fsync poisons the writer: every later call fails (fail-stop), because
// after a failed fsync the state of the file is unknown (LevelDB, PostgreSQL's fsyncgate).
//
// Preallocation: a background thread writes the next segment ahead, as zeros, and syncs it. The
// writer then fills that space: an fsync of bytes that overwrite written blocks commits no file
// metadata (size, block allocation), which on ext4 otherwise costs a journal commit that also
// waits for other files' data (measured in docs/benchmarks.md). At rotation the old segment is
// cut to its records, so only the last segment ends in zeros. Until a prepared segment is ready
// (the first one of a new journal, or when writing outruns the preparer) segments grow by appends,
// as without preallocation; once one is ready, the next append starts it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

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
    uint64_t last_segment_size = 0;  // its valid size in bytes (preallocated zeros may follow)
};

struct WriterOptions {
    uint64_t segment_bytes_max = kSegmentBytesDefault;
    // Write the next segment ahead (see above). Tests that inject faults into the file system
    // turn it off, so that the preparer's writes and syncs do not take the injected fault.
    bool preallocate = true;
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

    ~JournalWriter();
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;

    // Where the records appended so far end (durable after Sync()).
    JournalEnd end() const;
    uint64_t next_seq() const { return next_seq_; }
    const Hash256& last_hash() const { return last_hash_; }
    uint64_t bytes_written() const { return bytes_written_; }
    bool poisoned() const { return !poison_.ok(); }

  private:
    JournalWriter(FileSystem& fs, std::string dir, const WriterOptions& options)
        : fs_(fs), dir_(std::move(dir)), options_(options) {}
    Status StartSegment();
    Status Fail(Status status);
    // Starts writing the next segment ahead unless that runs or is done, or preallocation is off.
    void StartPreparing();
    // True when a prepared segment is ready to be started; never waits for the preparer.
    bool PreparedReady();
    // The preparer's work: kPreallocatedSegmentName, segment_bytes_max zero bytes, synced.
    void Prepare();

    FileSystem& fs_;
    std::string dir_;
    WriterOptions options_;
    std::unique_ptr<WritableFile> file_;
    std::string segment_;  // file name of the current segment
    uint64_t segment_first_seq_ = 0;
    uint64_t segment_file_bytes_ = 0;  // its size on disk, preallocated zeros included
    uint64_t segment_records_ = 0;
    uint64_t next_seq_ = 1;
    Hash256 last_hash_{};
    uint64_t bytes_written_ = 0;
    Status poison_;

    std::thread preparer_;                // joined before the next start and by the destructor
    std::atomic<bool> preparing_{false};  // the preparer runs
    std::atomic<bool> prepared_{false};   // kPreallocatedSegmentName is ready
    std::atomic<bool> stopping_{false};   // the destructor asks the preparer to give up
};

}  // namespace bursar::journal
