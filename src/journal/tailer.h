#pragma once

// Follows the journal while it is being written, for readers that derive state from it (the read
// model's projector, the event feed). It reads only what is new since the last poll, only records
// up to the committed end the caller gives (later bytes may be a write in progress, or the zeros
// of a preallocated segment: given the end's byte offset, it reads no further than that), and
// checks each record's CRC and sequence number. A record that fails the CRC below
// the committed position is corruption (the engine fsynced it). It does not hash records: the
// views it gives have a zero `hash` (the hash chain is checked by recovery and `bursar verify`;
// hashing every record again in every follower cost more than the followers' own work).

#include <cstdint>
#include <string>

#include "base/file_system.h"
#include "base/status.h"
#include "journal/format.h"
#include "journal/reader.h"

namespace bursar::journal {

class Tailer {
  public:
    // Delivers records after `after_seq`.
    Tailer(FileSystem& fs, std::string dir, uint64_t after_seq);

    // Delivers the records up to `committed.seq` not delivered yet, at most `records_max`.
    // Returns how many were delivered.
    Result<uint64_t> Poll(const JournalEnd& committed, uint64_t records_max,
                          const RecordFn& on_record);
    // The same when only the committed sequence number is known (a journal no longer written).
    Result<uint64_t> Poll(uint64_t committed_seq, uint64_t records_max, const RecordFn& on_record) {
        return Poll(JournalEnd{.seq = committed_seq}, records_max, on_record);
    }
    uint64_t position() const { return delivered_seq_; }

    static constexpr size_t kReadChunkBytes = 8u << 20;

  private:
    Status OpenSegmentFor(uint64_t seq);

    FileSystem& fs_;
    std::string dir_;
    uint64_t delivered_seq_;
    std::string segment_;  // file name, "" before the first open
    uint64_t segment_first_seq_ = 0;
    uint64_t offset_ = 0;    // next byte to read in the segment
    uint64_t next_seq_ = 0;  // sequence number of the record at offset_
};

}  // namespace bursar::journal
