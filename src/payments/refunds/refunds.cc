#include "payments/refunds/refunds.h"

#include <algorithm>

#include "base/binary_codec.h"
#include "payments/entry.h"

namespace bursar::payments::refunds {

u128 FeeReturned(u128 amount, u128 fee, u128 refunded) {
    if (amount == 0) return 0;
    // fee <= amount <= 10^18 and refunded <= amount: the product stays below 2^120.
    return fee * refunded / amount;
}

RefundAmounts AmountsOf(const ledger::StateMachine& ledger, uint64_t refund_id) {
    RefundAmounts amounts;
    for (uint32_t leg = 0;; ++leg) {
        const ledger::Transfer* t = ledger.FindTransfer(TxnTransferId(refund_id, leg));
        if (t == nullptr) break;
        amounts.amount += t->amount;
        amounts.currency = t->currency;
        if (static_cast<LegKind>(t->user_data_32 & 0xFF) == LegKind::kRefundFee) {
            amounts.fee += t->amount;
        }
    }
    return amounts;
}

// Checks, in order: signed in (kNotSignedIn), a merchant or the admin (kRefundForbidden), the
// payment exists, is a payment, and is the calling merchant's (kRefundPaymentNotFound: another
// merchant's payment is not found, existence must not leak), not refunded in full already
// (kPaymentRefunded), the amount (zero: all that is left) is at most kAmountMinorMax
// (kAmountInvalid) and at most what is left (kRefundExceedsPayment), the payment has fewer than
// kRefundsPerPaymentMax refunds (kRefundsPerPaymentExceeded), then the entry's: the merchant's
// balance covers its part (kMerchantBalanceTooLow), no balance overflows (kBalanceOverflow).
Outcome Refunds::Refund(const Command& c, const Caller& caller, const std::optional<Txn>& payment,
                        const merchants::Merchants& merchants, risk::Limits& limits,
                        wallets::Books books) {
    if (caller.kind == Caller::Kind::kAnonymous) return Refused(ResultCode::kNotSignedIn);
    if (caller.kind != Caller::Kind::kAdmin && caller.kind != Caller::Kind::kMerchant) {
        return Refused(ResultCode::kRefundForbidden);
    }
    if (!payment || payment->type != TxnType::kPay ||
        (caller.kind == Caller::Kind::kMerchant && caller.id != payment->merchant_id)) {
        return Refused(ResultCode::kRefundPaymentNotFound);
    }
    const PaymentRefunds* so_far = OfPayment(payment->id);
    const u128 refunded = so_far == nullptr ? 0 : so_far->refunded;
    const u128 left = payment->amount - refunded;
    if (left == 0) return Refused(ResultCode::kPaymentRefunded);
    const u128 amount = c.amount == 0 ? left : c.amount;
    if (amount > kAmountMinorMax) return Refused(ResultCode::kAmountInvalid);
    if (amount > left) return Refused(ResultCode::kRefundExceedsPayment);
    if (so_far != nullptr && so_far->refund_ids.size() >= kRefundsPerPaymentMax) {
        return Refused(ResultCode::kRefundsPerPaymentExceeded);
    }
    const merchants::Merchant* merchant = merchants.Find(payment->merchant_id);
    const RefundFeePolicy policy = merchant == nullptr ? RefundFeePolicy::kProportional
                                                       : GetTier(merchant->tier).refund_fee_policy;
    const u128 returned_before = so_far == nullptr ? 0 : so_far->fee_returned;
    const u128 fee =
        policy == RefundFeePolicy::kNone
            ? 0
            : FeeReturned(payment->amount, payment->fee, refunded + amount) - returned_before;

    Txn txn;
    txn.type = TxnType::kRefund;
    txn.user_id = payment->user_id;
    txn.merchant_id = payment->merchant_id;
    txn.payment_id = payment->id;
    txn.amount = amount;
    txn.fee = fee;
    txn.currency = payment->currency;
    txn.created_at = books.timestamp;
    const u128 wallet = WalletAccountId(payment->user_id, payment->currency);
    const u128 merchant_account = MerchantAccountId(payment->merchant_id, payment->currency);
    Entry entry(books.ledger, txn);
    entry.MustCover(merchant_account, ResultCode::kMerchantBalanceTooLow);
    if (amount > fee) {
        entry.Leg(merchant_account, wallet, amount - fee, kCodeRefund, LegKind::kRefundNet,
                  payment->merchant_id);
    }
    if (fee > 0) {
        entry.Leg(FeeAccountId(payment->currency), wallet, fee, kCodeRefundFee, LegKind::kRefundFee,
                  payment->merchant_id);
    }
    if (ResultCode code = entry.Check(); code != ResultCode::kOk) return Refused(code);
    txn.id = books.next_txn_id++;
    entry.Commit(txn.id);
    Add(RefundRecord{txn.id, payment->id, c.refund_reason}, amount, fee);
    limits.GiveBack(payment->user_id, payment->merchant_id, payment->currency, amount,
                    payment->created_at, books.timestamp);
    Outcome outcome;
    outcome.txn = txn;
    return outcome;
}

void Refunds::Add(const RefundRecord& record, u128 amount, u128 fee) {
    records_.push_back(record);
    PaymentRefunds& payment = payments_[record.payment_id];
    payment.refunded += amount;
    payment.fee_returned += fee;
    payment.refund_ids.push_back(record.refund_id);
}

const PaymentRefunds* Refunds::OfPayment(uint64_t payment_id) const {
    auto it = payments_.find(payment_id);
    return it == payments_.end() ? nullptr : &it->second;
}

const RefundRecord* Refunds::Find(uint64_t refund_id) const {
    auto it = std::lower_bound(
        records_.begin(), records_.end(), refund_id,
        [](const RefundRecord& record, uint64_t id) { return record.refund_id < id; });
    return it == records_.end() || it->refund_id != refund_id ? nullptr : &*it;
}

// The section: u64 count, then per refund (by refund id) u64 refund id, u64 payment id, u8
// reason. The amounts are the ledger's.
void Refunds::Save(std::string* out) const {
    BinaryWriter w(out);
    w.U64(records_.size());
    for (const RefundRecord& record : records_) {
        w.U64(record.refund_id);
        w.U64(record.payment_id);
        w.U8(static_cast<uint8_t>(record.reason));
    }
}

bool Refunds::Load(std::string_view section, const ledger::StateMachine& ledger) {
    BinaryReader r(section);
    uint64_t count = 0;
    if (!r.U64(&count) || count > r.remaining() / 17) return false;
    records_.clear();
    payments_.clear();
    records_.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        RefundRecord record;
        uint8_t reason = 0;
        if (!r.U64(&record.refund_id) || !r.U64(&record.payment_id) || !r.U8(&reason) ||
            reason > kRefundReasonMax || record.refund_id == 0 ||
            (!records_.empty() && record.refund_id <= records_.back().refund_id)) {
            return false;
        }
        record.reason = static_cast<RefundReason>(reason);
        const RefundAmounts amounts = AmountsOf(ledger, record.refund_id);
        if (amounts.amount == 0) return false;
        Add(record, amounts.amount, amounts.fee);
    }
    return r.done();
}

Status Refunds::CheckInvariants(const ledger::StateMachine& ledger) const {
    auto corrupt = [](uint64_t payment, const std::string& what) {
        return Status(StatusCode::kCorruption,
                      "refunds: payment " + std::to_string(payment) + ": " + what);
    };
    uint64_t listed = 0;
    for (const auto& [payment_id, payment] : payments_) {
        u128 paid = 0, fee = 0, refunded = 0, returned = 0;
        for (uint32_t leg = 0;; ++leg) {
            const ledger::Transfer* t = ledger.FindTransfer(TxnTransferId(payment_id, leg));
            if (t == nullptr) break;
            paid += t->amount;
            if (static_cast<LegKind>(t->user_data_32 & 0xFF) == LegKind::kFee) fee += t->amount;
        }
        for (uint64_t refund_id : payment.refund_ids) {
            const RefundRecord* record = Find(refund_id);
            if (record == nullptr || record->payment_id != payment_id) {
                return corrupt(payment_id, "refund " + std::to_string(refund_id) + " not listed");
            }
            const RefundAmounts amounts = AmountsOf(ledger, refund_id);
            refunded += amounts.amount;
            returned += amounts.fee;
        }
        listed += payment.refund_ids.size();
        if (refunded != payment.refunded || returned != payment.fee_returned) {
            return corrupt(payment_id, "sums differ from the refunds' ledger entries");
        }
        if (paid == 0 || refunded > paid || returned > fee) {
            return corrupt(payment_id, "refunded more than was paid, or more fee than charged");
        }
        if (payment.refund_ids.size() > kRefundsPerPaymentMax) {
            return corrupt(payment_id, "more refunds than the bound");
        }
    }
    if (listed != records_.size()) {
        return Status(StatusCode::kCorruption, "refunds: records not listed by their payment");
    }
    return Status::Ok();
}

uint64_t Refunds::MemoryBytes() const {
    // A record in the vector; per payment refunded, a hash node (key, sums, vector) and its
    // bucket, and 8 bytes per refund id in its vector.
    constexpr uint64_t kNodeBytes = 16 + sizeof(uint64_t) + sizeof(PaymentRefunds) + 8;
    return records_.capacity() * sizeof(RefundRecord) + payments_.size() * kNodeBytes +
           records_.size() * sizeof(uint64_t);
}

}  // namespace bursar::payments::refunds
