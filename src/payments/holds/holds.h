#pragma once

// Pre-authorizations (SPEC.md P6): the paying user (or the admin) reserves an amount of their
// wallet for a merchant of the enterprise or premium tier; the merchant (or the admin) captures
// it, whole or in parts, each capture a payment of its own (the net to the merchant, the tier's
// fee to the platform, refundable like any payment), or cancels what is left; what is left is
// released at the expiry, exactly at created_at + expires_in, by the deadline queue.
//
// In the ledger a reserve is one pending transfer wallet → merchant (the wallet's pending debits
// are its frozen amount). A capture voids it, posts the payment and reserves what is left anew,
// in one entry of linked transfers; a release voids it. README.md beside this file: the commands'
// result codes in check order, the invariants, what stays in memory.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "payments/authorization.h"
#include "payments/command.h"
#include "payments/deadlines.h"
#include "payments/merchants/merchants.h"
#include "payments/outcome.h"
#include "payments/users/users.h"
#include "payments/wallets/wallets.h"
#include "risk/limits.h"

namespace bursar::payments::holds {

inline constexpr uint64_t kHoldExpiryDefaultSeconds = 7 * 86'400;
inline constexpr uint64_t kHoldExpiryMaxSeconds = 30 * 86'400;
inline constexpr uint32_t kCapturesPerHoldMax = 100;

// A page of pre-authorizations, newest first.
struct HoldFilter {
    std::optional<uint64_t> user_id;
    std::optional<uint64_t> merchant_id;
    std::optional<HoldStatus> status;
    std::optional<uint64_t> before_id;  // the cursor: holds with a smaller id
    uint32_t size = 20;
};

class Holds {
  public:
    Outcome Authorize(const Command& c, const Caller& caller, const users::Users& users,
                      const merchants::Merchants& merchants, wallets::Books books,
                      DeadlineQueue& deadlines);
    Outcome Capture(const Command& c, const Caller& caller, const merchants::Merchants& merchants,
                    risk::Limits& limits, wallets::Books books, DeadlineQueue& deadlines);
    Outcome Cancel(const Command& c, const Caller& caller, wallets::Books books,
                   DeadlineQueue& deadlines);
    // The deadline of hold `id` is due: what is left is released, the hold expired.
    void Expire(uint64_t id, wallets::Books books);

    const Hold* Find(uint64_t id) const;
    std::vector<const Hold*> List(const HoldFilter& filter, bool* more) const;
    uint64_t count() const { return holds_.size(); }
    uint64_t open_count() const { return open_; }

    static constexpr uint32_t kSectionVersion = 1;
    bool empty() const { return holds_.empty(); }
    void Save(std::string* out) const;
    bool Load(std::string_view section, DeadlineQueue& deadlines);
    // Per wallet and currency, the ledger's pending debits equal the open holds' remaining
    // amounts (and per currency in total: nothing else reserves); a closed hold's captured plus
    // released equals its amount; each hold's transfers are in the ledger.
    Status CheckInvariants(const ledger::StateMachine& ledger) const;
    uint64_t MemoryBytes() const;

  private:
    ResultCode OpenHoldFor(const Command& c, const Caller& caller, uint64_t timestamp,
                           const Hold** hold) const;
    // Voids the open reserve of `hold` in `entry`'s terms and releases what is left.
    void Release(Hold& hold, HoldStatus status, wallets::Books books);

    std::vector<Hold> holds_;                                          // hold id = index + 1
    std::map<std::pair<uint64_t, std::string>, uint64_t> references_;  // (merchant, ref) → id
    uint64_t open_ = 0;
    uint64_t heap_bytes_ = 0;  // the holds' captures and long references (HeapBytes)
};

}  // namespace bursar::payments::holds
