#pragma once

// Snapshot sections (docs/formats/snapshot.md): the state is a sequence of sections
// {id, version, length, bytes}, one per module, in id order. The state hash is the SHA-256 of the
// sections' (id, version, hash) in id order, so a replay that diverges names its module.

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/sha256.h"

namespace bursar::payments {

// Stable numbers; a loader refuses an id it does not know.
enum class SectionId : uint32_t {
    kLedger = 1,       // ledger::StateMachine: accounts, transfers, statuses, failed ids
    kTxns = 2,         // the next transaction id (top-ups, transfers, payments share it)
    kUsers = 3,        // users, sessions
    kMerchants = 4,    // merchants and their API key hashes
    kIdempotency = 5,  // stored answers of Idempotency-Keys
    kRefunds = 6,      // refunds and the payments they refund
    kHolds = 7,        // pre-authorizations
    kLimits = 8,       // risk settings, limit overrides and counters
};
inline constexpr uint32_t kSectionIdMax = 8;
// Sections 1 to kSectionIdAlways are in every state. A later one (added after snapshot format
// v2's first sections) is written only when its module holds something: a state without it is
// saved, and hashed, as a binary from before the module saved it, so their hashes agree.
inline constexpr uint32_t kSectionIdAlways = 5;

const char* SectionName(uint32_t id);  // "ledger", "txns", "users", ...

struct SectionHash {
    uint32_t id = 0;
    uint32_t version = 0;
    Hash256 hash{};

    bool operator==(const SectionHash&) const = default;
};

Hash256 CombineSectionHashes(const std::vector<SectionHash>& sections);

}  // namespace bursar::payments
