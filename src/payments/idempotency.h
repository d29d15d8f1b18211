#pragma once

// The idempotency store (SPEC.md P11): the stored outcome of each command sent with an
// Idempotency-Key, by scope (the caller) and key, kept kIdempotencyRetentionNs after it was
// stored. Stored answers expire oldest first through one entry in the deadline queue (the
// oldest's end of retention). Their snapshot form is kept up to date in a ChunkedLog as they are
// stored, so that freezing shares it instead of writing every answer again.

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/chunked_log.h"
#include "base/sha256.h"
#include "base/status.h"
#include "payments/deadlines.h"
#include "payments/outcome.h"

namespace bursar::payments {

inline constexpr uint64_t kIdempotencyRetentionNs = 24ull * 3600 * 1'000'000'000;  // 24 hours

class IdempotencyStore {
  public:
    struct Answer {
        Hash256 fingerprint{};
        // Stored by a journal-v1 binary: `fingerprint` is of the raw request (Command's
        // v1_fingerprint), and the outcome holds the rendered answer (Outcome::legacy).
        bool v1 = false;
        Outcome outcome;  // its txn is what the answer shows: a replay moves nothing
        uint64_t created_at = 0;
    };

    // The stored answer (decoded: answers are held encoded, about 100 bytes for a payment).
    std::optional<Answer> Find(std::string_view scoped_key) const;
    void Store(std::string scoped_key, Answer answer, DeadlineQueue& deadlines);
    // The deadline of this module fired: drops the answers whose retention ended at `timestamp`.
    void Expire(uint64_t timestamp, DeadlineQueue& deadlines);

    uint64_t size() const { return answers_.size(); }
    // Answers stored by a journal-v1 binary still held: while there are, the API also sends the
    // v1 fingerprint of keyed requests. Read from any thread.
    uint64_t v1_count() const { return v1_count_.load(std::memory_order_relaxed); }
    uint64_t MemoryBytes() const;

    // The snapshot section: a count, then the records as the log holds them.
    struct Frozen {
        std::string head;
        ChunkedLog::Frozen records;
    };
    void FreezeInto(Frozen* frozen) const;
    static constexpr uint32_t kSectionVersion = 1;
    bool Load(std::string_view section, DeadlineQueue& deadlines);
    // A journal-v1 snapshot's records (key, fingerprint, status, body, time), `count` of them.
    bool LoadV1(std::string_view records, uint64_t count, DeadlineQueue& deadlines);

  private:
    struct Held {
        uint64_t created_at;
        std::string key;     // in answers_
        uint64_t log_bytes;  // of its record in log_
    };
    void Hold(std::string key, Answer answer);

    struct Stored {
        Hash256 fingerprint;
        bool v1;
        std::string outcome;  // EncodeOutcome's bytes
        uint64_t created_at;
    };
    std::map<std::string, Stored, std::less<>> answers_;  // scope '\n' key -> answer
    std::deque<Held> held_;                               // oldest first
    ChunkedLog log_;                                      // held_'s records, in order
    std::atomic<uint64_t> v1_count_{0};
};

}  // namespace bursar::payments
