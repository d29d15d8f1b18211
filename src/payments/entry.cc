#include "payments/entry.h"

#include <algorithm>

#include "base/assert.h"

namespace bursar::payments {
namespace {

namespace tf = ledger::transfer_flags;

bool Overflows(u128 a, u128 b, u128 c = 0) {
    u128 sum = 0;
    return __builtin_add_overflow(a, b, &sum) || __builtin_add_overflow(sum, c, &sum);
}

}  // namespace

void Entry::NeedAccount(u128 id, ledger::AccountKind kind, uint16_t flags) {
    accounts_.push_back(NeededAccount{id, kind, flags});
}

void Entry::MustCover(u128 id, ResultCode code) { covered_.push_back(Covered{id, code}); }

void Entry::Leg(u128 debit, u128 credit, u128 amount, uint16_t code, LegKind kind, uint64_t other) {
    legs_.push_back(PlannedLeg{debit, credit, amount, code, kind, other});
}

void Entry::PendingLeg(u128 id, u128 debit, u128 credit, u128 amount, uint16_t code, LegKind kind,
                       uint64_t other) {
    legs_.push_back(PlannedLeg{debit, credit, amount, code, kind, other, id, tf::kPending, 0});
}

void Entry::VoidLeg(u128 id, u128 pending_id, u128 debit, u128 credit, u128 amount, uint16_t code,
                    LegKind kind, uint64_t other) {
    legs_.push_back(PlannedLeg{debit, credit, amount, code, kind, other, id,
                               tf::kVoidPendingTransfer, pending_id});
}

ResultCode Entry::Check() const {
    // The balances the legs touch, as they would be after each leg (an account that does not
    // exist yet starts at zero with the flags it will be created with).
    struct Balance {
        u128 id;
        uint16_t flags;
        u128 debits_pending, debits_posted, credits_pending, credits_posted;
    };
    std::vector<Balance> balances;
    // Room for every account the legs name: references into it stay valid while it grows.
    balances.reserve(2 * legs_.size());
    auto balance_of = [&](u128 id) -> Balance& {
        for (Balance& b : balances) {
            if (b.id == id) return b;
        }
        Balance b{id, 0, 0, 0, 0, 0};
        if (const ledger::Account* a = ledger_.FindAccount(id)) {
            b = Balance{id,
                        a->flags,
                        a->debits_pending,
                        a->debits_posted,
                        a->credits_pending,
                        a->credits_posted};
        } else {
            auto needed = std::find_if(accounts_.begin(), accounts_.end(),
                                       [&](const NeededAccount& n) { return n.id == id; });
            BURSAR_ASSERT(needed != accounts_.end());
            b.flags = needed->flags;
        }
        balances.push_back(b);
        return balances.back();
    };
    for (const PlannedLeg& leg : legs_) {
        Balance& debit = balance_of(leg.debit);
        Balance& credit = balance_of(leg.credit);
        if (leg.flags & tf::kVoidPendingTransfer) {
            // The pending transfer is the caller's (a module's own reserve): its amount is there.
            BURSAR_ASSERT(debit.debits_pending >= leg.amount &&
                          credit.credits_pending >= leg.amount);
            debit.debits_pending -= leg.amount;
            credit.credits_pending -= leg.amount;
            continue;
        }
        if (Overflows(debit.debits_posted, leg.amount) ||
            Overflows(credit.credits_posted, leg.amount) ||
            Overflows(debit.debits_pending, debit.debits_posted, leg.amount) ||
            Overflows(credit.credits_pending, credit.credits_posted, leg.amount)) {
            return ResultCode::kBalanceOverflow;
        }
        const bool exceeds =
            debit.debits_pending + debit.debits_posted + leg.amount > debit.credits_posted;
        if ((debit.flags & ledger::account_flags::kDebitsMustNotExceedCredits) && exceeds) {
            return ResultCode::kInsufficientFunds;
        }
        if (exceeds) {
            for (const Covered& covered : covered_) {
                if (covered.id == leg.debit) return covered.code;
            }
        }
        if (leg.flags & tf::kPending) {
            debit.debits_pending += leg.amount;
            credit.credits_pending += leg.amount;
        } else {
            debit.debits_posted += leg.amount;
            credit.credits_posted += leg.amount;
        }
    }
    return ResultCode::kOk;
}

std::vector<ledger::Transfer> Entry::Transfers(uint64_t txn_id) const {
    std::vector<ledger::Transfer> transfers;
    transfers.reserve(legs_.size());
    uint32_t numbered = 0;
    for (const PlannedLeg& leg : legs_) {
        ledger::Transfer t{};
        t.id = leg.id != 0 ? leg.id : TxnTransferId(txn_id, numbered++);
        t.flags = leg.flags;
        t.pending_id = leg.pending_id;
        t.debit_account_id = leg.debit;
        t.credit_account_id = leg.credit;
        t.amount = leg.amount;
        t.currency = txn_.currency;
        t.code = leg.code;
        t.user_data_128 = MakeU128(txn_.user_id, leg.other);
        t.user_data_64 = txn_id;
        t.user_data_32 =
            (uint32_t{static_cast<uint8_t>(txn_.type)} << 8) | static_cast<uint8_t>(leg.kind);
        if (!transfers.empty()) transfers.back().flags |= tf::kLinked;
        transfers.push_back(t);
    }
    return transfers;
}

void Entry::CreateAccounts() {
    for (const NeededAccount& needed : accounts_) {
        if (ledger_.FindAccount(needed.id) != nullptr) continue;
        ledger::Account account{};
        account.id = needed.id;
        account.currency = txn_.currency;
        account.kind = static_cast<uint16_t>(needed.kind);
        account.flags = needed.flags;
        std::vector<ledger::EventResult> results;
        ledger_.CreateAccounts(std::span<const ledger::Account>(&account, 1), &results);
        BURSAR_ASSERT(results.empty());
    }
}

uint64_t Entry::Commit(uint64_t txn_id) {
    CreateAccounts();
    std::vector<ledger::EventResult> results;
    const std::vector<ledger::Transfer> transfers = Transfers(txn_id);
    ledger_.CreateTransfers(transfers, &results);
    // Check() decided: ids are fresh, the accounts exist, the balances hold.
    BURSAR_ASSERT(results.empty());
    // Each transfer took the next timestamp of the batch, in order: the last is the ledger's last.
    for (size_t i = 0; i < legs_.size(); ++i) {
        if (legs_[i].id != 0) continue;
        const uint64_t at = ledger_.last_timestamp() - (transfers.size() - 1 - i);
        BURSAR_DASSERT(ledger_.FindTransfer(transfers[i].id)->timestamp == at);
        return at;
    }
    return 0;
}

ResultCode Entry::CommitV1(uint64_t txn_id, u128 payer_wallet) {
    CreateAccounts();
    if (payer_wallet != 0 && ledger_.FindAccount(payer_wallet) == nullptr) {
        return ResultCode::kInsufficientFunds;
    }
    std::vector<ledger::EventResult> results;
    ledger_.CreateTransfers(Transfers(txn_id), &results);
    for (const ledger::EventResult& r : results) {
        const auto code = static_cast<ledger::CreateTransferResult>(r.result);
        if (code == ledger::CreateTransferResult::kLinkedEventFailed) continue;
        if (code == ledger::CreateTransferResult::kExceedsCredits) {
            return ResultCode::kInsufficientFunds;
        }
        if (code >= ledger::CreateTransferResult::kOverflowsDebitsPending &&
            code <= ledger::CreateTransferResult::kOverflowsCredits) {
            return ResultCode::kBalanceOverflow;
        }
        BURSAR_ASSERT(false);  // ids are fresh and accounts exist: any other result is a bug
    }
    return ResultCode::kOk;
}

}  // namespace bursar::payments
