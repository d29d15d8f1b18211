#pragma once

// Refunds (SPEC.md P7): the payee merchant (or the admin) gives a payment's money back to the
// payer's wallet, in full or in parts up to the amount paid; each refund is one ledger entry and a
// transaction of its own. The merchant's balance gives back the amount less the fee returned; the
// platform's fee account gives back the fee in proportion (the tier's RefundFeePolicy).
// README.md beside this file: result codes in check order, the fee rule, what stays in memory.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "payments/authorization.h"
#include "payments/command.h"
#include "payments/merchants/merchants.h"
#include "payments/outcome.h"
#include "payments/wallets/wallets.h"
#include "risk/limits.h"

namespace bursar::payments::refunds {

inline constexpr uint32_t kRefundsPerPaymentMax = 100;

// The fees returned once `refunded` of a payment of `amount` with `fee` has been refunded, under
// the proportional policy: floor(fee * refunded / amount). A full refund returns the whole fee;
// the parts never return more, whatever the split.
u128 FeeReturned(u128 amount, u128 fee, u128 refunded);

// A payment's refunds so far.
struct PaymentRefunds {
    u128 refunded = 0;
    u128 fee_returned = 0;
    std::vector<uint64_t> refund_ids;  // oldest first
};

// What the module keeps of one refund; its amounts are its ledger entry's (FindTxn).
struct RefundRecord {
    uint64_t refund_id = 0;  // the refund's txn id
    uint64_t payment_id = 0;
    RefundReason reason = RefundReason::kNone;
};

class Refunds {
  public:
    // A refund gives the payment's limit quota back (risk::Limits::GiveBack).
    Outcome Refund(const Command& c, const Caller& caller, const std::optional<Txn>& payment,
                   const merchants::Merchants& merchants, risk::Limits& limits,
                   wallets::Books books);

    const PaymentRefunds* OfPayment(uint64_t payment_id) const;
    const RefundRecord* Find(uint64_t refund_id) const;
    uint64_t count() const { return records_.size(); }

    static constexpr uint32_t kSectionVersion = 1;
    bool empty() const { return records_.empty(); }
    void Save(std::string* out) const;
    // `ledger` gives each refund's amounts back (they are not saved twice).
    bool Load(std::string_view section, const ledger::StateMachine& ledger);
    // Each payment's sums equal its refunds' ledger entries, and stay within the payment.
    Status CheckInvariants(const ledger::StateMachine& ledger) const;
    uint64_t MemoryBytes() const;

  private:
    void Add(const RefundRecord& record, u128 amount, u128 fee);

    std::vector<RefundRecord> records_;  // by refund id (txn ids only grow)
    std::unordered_map<uint64_t, PaymentRefunds> payments_;
};

// A refund's amount and fee returned, from its ledger entry (zero when it has none).
struct RefundAmounts {
    u128 amount = 0;
    u128 fee = 0;
    uint32_t currency = 0;
};
RefundAmounts AmountsOf(const ledger::StateMachine& ledger, uint64_t refund_id);

}  // namespace bursar::payments::refunds
