#pragma once

// The one deadline queue of the state machine: (time, module, object id), earliest first, ties in
// module then object order, so that firing is deterministic. Any module adds its deadlines here;
// the engine's tick applies an (empty) batch as soon as the earliest is due, so a session expires
// or a hold is released on time without traffic (ARCHITECTURE.md §2.1).
//
// The queue is derived state: each module adds its deadlines again when it is loaded from a
// snapshot, so it is neither in snapshots nor in the state hash.

#include <cstdint>
#include <optional>
#include <set>

namespace bursar::payments {

// The modules that have deadlines, in firing order for equal times. Stable numbers.
enum class DeadlineModule : uint8_t {
    kSessions = 1,     // a session's expiry (object: the session's number)
    kIdempotency = 2,  // the oldest stored answer's end of retention (object: its number)
    kHolds = 3,        // a pre-authorization's expiry (object: the hold id)
};

struct Deadline {
    uint64_t time = 0;  // ns since the epoch: due in the first batch at or after it
    DeadlineModule module = DeadlineModule::kSessions;
    uint64_t object_id = 0;

    auto operator<=>(const Deadline&) const = default;
};

class DeadlineQueue {
  public:
    void Add(const Deadline& deadline) { deadlines_.insert(deadline); }
    void Remove(const Deadline& deadline) { deadlines_.erase(deadline); }
    std::optional<uint64_t> Earliest() const;
    bool Due(uint64_t timestamp) const { return Earliest().value_or(UINT64_MAX) <= timestamp; }
    // Takes the earliest deadline due at `timestamp`, if any. Fire in a loop: a module may add a
    // deadline (its next) while one fires.
    std::optional<Deadline> PopDue(uint64_t timestamp);
    uint64_t size() const { return deadlines_.size(); }
    void Clear() { deadlines_.clear(); }

  private:
    std::set<Deadline> deadlines_;
};

}  // namespace bursar::payments
