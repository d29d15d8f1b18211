#include "ledger/reference_model.h"

#include <algorithm>
#include <optional>

#include "base/assert.h"
#include "ledger/currency.h"

namespace bursar::ledger {
namespace {

using AccountCode = CreateAccountResult;
using TransferCode = CreateTransferResult;

// ApplyRequest answers chain failures with the transfer codes; accounts share their numbers.
static_assert(uint32_t(AccountCode::kLinkedEventFailed) ==
              uint32_t(TransferCode::kLinkedEventFailed));
static_assert(uint32_t(AccountCode::kLinkedEventChainOpen) ==
              uint32_t(TransferCode::kLinkedEventChainOpen));
static_assert(account_flags::kLinked == transfer_flags::kLinked);

// max(0, a - b - c) without wrapping.
u128 Headroom(u128 a, u128 b, u128 c) {
    if (a <= b) return 0;
    return a - b > c ? a - b - c : 0;
}

// False when a + b + c exceeds 2^128 - 1.
bool SumFits(u128 a, u128 b, u128 c) {
    u128 sum = 0;
    return CheckedAdd(a, b, &sum) && CheckedAdd(sum, c, &sum);
}

// A pending transfer's expiry; 0 when it never expires. Overflow was refused at creation.
uint64_t ExpiresAt(const Transfer& pending) {
    if (pending.timeout == 0) return 0;
    return pending.timestamp + uint64_t{pending.timeout} * kNanosecondsPerSecond;
}

}  // namespace

void ReferenceModel::BeginBatch(uint64_t timestamp) {
    BURSAR_ASSERT(!in_batch_);
    BURSAR_ASSERT(timestamp > last_timestamp_);
    in_batch_ = true;
    last_timestamp_ = timestamp;
    next_timestamp_ = timestamp;
    // The order of expiry does not change the resulting state, so map order will do.
    for (auto& [id, status] : state_.statuses) {
        const Transfer& pending = state_.transfers.at(id);
        if (status != PendingStatus::kPending || pending.timeout == 0) continue;
        if (ExpiresAt(pending) > timestamp) continue;
        state_.accounts.at(pending.debit_account_id).debits_pending -= pending.amount;
        state_.accounts.at(pending.credit_account_id).credits_pending -= pending.amount;
        status = PendingStatus::kExpired;
    }
}

void ReferenceModel::EndBatch() {
    BURSAR_ASSERT(in_batch_);
    in_batch_ = false;
}

template <typename Event, typename Create, typename Settled>
void ReferenceModel::ApplyRequest(std::span<const Event> events, Create create, Settled settled,
                                  std::vector<EventResult>* results) {
    BURSAR_ASSERT(in_batch_);
    const auto linked = [](const Event& event) {
        return (event.flags & transfer_flags::kLinked) != 0;
    };
    size_t first = 0;
    while (first < events.size()) {
        size_t last = first;  // the chain is events[first..last]
        while (linked(events[last]) && last + 1 < events.size()) ++last;
        const bool open = linked(events[last]);

        std::optional<State> before;
        if (last > first) before = state_;
        std::vector<uint32_t> chain_results;
        bool failed = false;
        for (size_t i = first; i <= last; ++i) {
            const uint64_t timestamp = next_timestamp_++;
            last_timestamp_ = timestamp;
            uint32_t result = 0;
            if (open && i == last) {
                result = static_cast<uint32_t>(TransferCode::kLinkedEventChainOpen);
            } else if (!failed) {
                result = static_cast<uint32_t>(create(events[i], timestamp));
            }
            if (result != 0) failed = true;
            chain_results.push_back(result);
        }
        if (failed) {
            if (before) state_ = std::move(*before);
            for (uint32_t& result : chain_results) {
                if (result == 0) result = static_cast<uint32_t>(TransferCode::kLinkedEventFailed);
            }
        }
        for (size_t i = first; i <= last; ++i) {
            const uint32_t result = chain_results[i - first];
            settled(events[i], result);
            if (result != 0) results->push_back({static_cast<uint32_t>(i), result});
        }
        first = last + 1;
    }
}

void ReferenceModel::CreateAccounts(std::span<const Account> events,
                                    std::vector<EventResult>* results) {
    ApplyRequest(
        events,
        [this](const Account& event, uint64_t timestamp) {
            return CreateAccount(event, timestamp);
        },
        [](const Account&, uint32_t) {}, results);
}

void ReferenceModel::CreateTransfers(std::span<const Transfer> events,
                                     std::vector<EventResult>* results) {
    ApplyRequest(
        events,
        [this](const Transfer& event, uint64_t timestamp) {
            return CreateTransfer(event, timestamp);
        },
        [this](const Transfer& event, uint32_t result) {
            if (IsStateDependentFailure(static_cast<TransferCode>(result))) {
                state_.failed_ids.insert(event.id);
            }
        },
        results);
}

CreateAccountResult ReferenceModel::CreateAccount(const Account& event, uint64_t timestamp) {
    using account_flags::kCreditsMustNotExceedDebits;
    using account_flags::kDebitsMustNotExceedCredits;
    if (event.timestamp != 0) return AccountCode::kTimestampMustBeZero;
    if (event.reserved != 0) return AccountCode::kReservedField;
    if ((event.flags & ~account_flags::kAll) != 0) return AccountCode::kReservedFlag;
    if (event.id == 0) return AccountCode::kIdMustNotBeZero;
    if (event.id == kU128Max) return AccountCode::kIdMustNotBeIntMax;
    if ((event.flags & kDebitsMustNotExceedCredits) != 0 &&
        (event.flags & kCreditsMustNotExceedDebits) != 0) {
        return AccountCode::kFlagsAreMutuallyExclusive;
    }
    if (event.debits_pending != 0) return AccountCode::kDebitsPendingMustBeZero;
    if (event.debits_posted != 0) return AccountCode::kDebitsPostedMustBeZero;
    if (event.credits_pending != 0) return AccountCode::kCreditsPendingMustBeZero;
    if (event.credits_posted != 0) return AccountCode::kCreditsPostedMustBeZero;
    if (event.currency == 0) return AccountCode::kCurrencyMustNotBeZero;
    if (FindCurrency(event.currency) == nullptr) return AccountCode::kCurrencyUnknown;
    if (event.kind == 0) return AccountCode::kKindMustNotBeZero;
    if (const Account* stored = FindAccount(event.id)) {
        if (event.flags != stored->flags) return AccountCode::kExistsWithDifferentFlags;
        if (event.user_data_128 != stored->user_data_128) {
            return AccountCode::kExistsWithDifferentUserData128;
        }
        if (event.user_data_64 != stored->user_data_64) {
            return AccountCode::kExistsWithDifferentUserData64;
        }
        if (event.user_data_32 != stored->user_data_32) {
            return AccountCode::kExistsWithDifferentUserData32;
        }
        if (event.currency != stored->currency) return AccountCode::kExistsWithDifferentCurrency;
        if (event.kind != stored->kind) return AccountCode::kExistsWithDifferentKind;
        return AccountCode::kExists;
    }
    Account account = event;
    account.timestamp = timestamp;
    state_.accounts.emplace(account.id, account);
    return AccountCode::kOk;
}

CreateTransferResult ReferenceModel::CreateTransfer(const Transfer& event, uint64_t timestamp) {
    using namespace transfer_flags;
    if (event.timestamp != 0) return TransferCode::kTimestampMustBeZero;
    if ((event.flags & ~kAll) != 0) return TransferCode::kReservedFlag;
    if (event.id == 0) return TransferCode::kIdMustNotBeZero;
    if (event.id == kU128Max) return TransferCode::kIdMustNotBeIntMax;
    if (const Transfer* stored = FindTransfer(event.id)) return TransferExists(event, *stored);
    if (state_.failed_ids.contains(event.id)) return TransferCode::kIdAlreadyFailed;

    const bool pending = (event.flags & kPending) != 0;
    const bool post = (event.flags & kPostPendingTransfer) != 0;
    const bool void_ = (event.flags & kVoidPendingTransfer) != 0;
    const bool balancing = (event.flags & (kBalancingDebit | kBalancingCredit)) != 0;
    if (int{pending} + int{post} + int{void_} > 1 || ((post || void_) && balancing)) {
        return TransferCode::kFlagsAreMutuallyExclusive;
    }
    if (post || void_) return PostOrVoid(event, timestamp);

    if (event.debit_account_id == 0) return TransferCode::kDebitAccountIdMustNotBeZero;
    if (event.debit_account_id == kU128Max) return TransferCode::kDebitAccountIdMustNotBeIntMax;
    if (event.credit_account_id == 0) return TransferCode::kCreditAccountIdMustNotBeZero;
    if (event.credit_account_id == kU128Max) return TransferCode::kCreditAccountIdMustNotBeIntMax;
    if (event.debit_account_id == event.credit_account_id) {
        return TransferCode::kAccountsMustBeDifferent;
    }
    if (event.pending_id != 0) return TransferCode::kPendingIdMustBeZero;
    if (!pending && event.timeout != 0) return TransferCode::kTimeoutReservedForPendingTransfer;
    if (event.amount == 0) return TransferCode::kAmountMustNotBeZero;
    if (event.currency == 0) return TransferCode::kCurrencyMustNotBeZero;
    if (event.code == 0) return TransferCode::kCodeMustNotBeZero;

    auto dr_it = state_.accounts.find(event.debit_account_id);
    if (dr_it == state_.accounts.end()) return TransferCode::kDebitAccountNotFound;
    auto cr_it = state_.accounts.find(event.credit_account_id);
    if (cr_it == state_.accounts.end()) return TransferCode::kCreditAccountNotFound;
    Account& dr = dr_it->second;
    Account& cr = cr_it->second;
    if (dr.currency != cr.currency) return TransferCode::kAccountsMustHaveTheSameCurrency;
    if (event.currency != dr.currency) {
        return TransferCode::kTransferMustHaveTheSameCurrencyAsAccounts;
    }

    u128 amount = event.amount;
    if ((event.flags & kBalancingDebit) != 0) {
        amount = std::min(amount, Headroom(dr.credits_posted, dr.debits_posted, dr.debits_pending));
    }
    if ((event.flags & kBalancingCredit) != 0) {
        amount =
            std::min(amount, Headroom(cr.debits_posted, cr.credits_posted, cr.credits_pending));
    }
    if (pending) {
        if (!SumFits(dr.debits_pending, amount, 0)) return TransferCode::kOverflowsDebitsPending;
        if (!SumFits(cr.credits_pending, amount, 0)) return TransferCode::kOverflowsCreditsPending;
    } else {
        if (!SumFits(dr.debits_posted, amount, 0)) return TransferCode::kOverflowsDebitsPosted;
        if (!SumFits(cr.credits_posted, amount, 0)) return TransferCode::kOverflowsCreditsPosted;
    }
    if (!SumFits(dr.debits_pending, dr.debits_posted, amount)) {
        return TransferCode::kOverflowsDebits;
    }
    if (!SumFits(cr.credits_pending, cr.credits_posted, amount)) {
        return TransferCode::kOverflowsCredits;
    }
    if (pending && u128{timestamp} + u128{event.timeout} * kNanosecondsPerSecond > UINT64_MAX) {
        return TransferCode::kOverflowsTimeout;
    }
    if ((dr.flags & account_flags::kDebitsMustNotExceedCredits) != 0 &&
        dr.debits_pending + dr.debits_posted + amount > dr.credits_posted) {
        return TransferCode::kExceedsCredits;
    }
    if ((cr.flags & account_flags::kCreditsMustNotExceedDebits) != 0 &&
        cr.credits_pending + cr.credits_posted + amount > cr.debits_posted) {
        return TransferCode::kExceedsDebits;
    }

    if (pending) {
        dr.debits_pending += amount;
        cr.credits_pending += amount;
        state_.statuses[event.id] = PendingStatus::kPending;
    } else {
        dr.debits_posted += amount;
        cr.credits_posted += amount;
    }
    Transfer transfer = event;
    transfer.amount = amount;
    transfer.timestamp = timestamp;
    state_.transfers.emplace(transfer.id, transfer);
    return TransferCode::kOk;
}

CreateTransferResult ReferenceModel::PostOrVoid(const Transfer& event, uint64_t timestamp) {
    const bool post = (event.flags & transfer_flags::kPostPendingTransfer) != 0;
    if (event.pending_id == 0) return TransferCode::kPendingIdMustNotBeZero;
    if (event.pending_id == kU128Max) return TransferCode::kPendingIdMustNotBeIntMax;
    if (event.pending_id == event.id) return TransferCode::kPendingIdMustBeDifferent;
    if (event.timeout != 0) return TransferCode::kTimeoutReservedForPendingTransfer;
    const Transfer* found = FindTransfer(event.pending_id);
    if (found == nullptr) return TransferCode::kPendingTransferNotFound;
    const Transfer p = *found;
    if ((p.flags & transfer_flags::kPending) == 0) return TransferCode::kPendingTransferNotPending;
    if (event.debit_account_id != 0 && event.debit_account_id != p.debit_account_id) {
        return TransferCode::kPendingTransferHasDifferentDebitAccountId;
    }
    if (event.credit_account_id != 0 && event.credit_account_id != p.credit_account_id) {
        return TransferCode::kPendingTransferHasDifferentCreditAccountId;
    }
    if (event.currency != 0 && event.currency != p.currency) {
        return TransferCode::kPendingTransferHasDifferentCurrency;
    }
    if (event.code != 0 && event.code != p.code) {
        return TransferCode::kPendingTransferHasDifferentCode;
    }
    if (post && event.amount > p.amount) return TransferCode::kExceedsPendingTransferAmount;
    if (!post && event.amount != 0 && event.amount != p.amount) {
        return TransferCode::kPendingTransferHasDifferentAmount;
    }
    const PendingStatus status = state_.statuses.at(p.id);
    if (status == PendingStatus::kPosted) return TransferCode::kPendingTransferAlreadyPosted;
    if (status == PendingStatus::kVoided) return TransferCode::kPendingTransferAlreadyVoided;
    if (status == PendingStatus::kExpired) return TransferCode::kPendingTransferExpired;
    BURSAR_ASSERT(status == PendingStatus::kPending);
    // Expired from the event's point of view even when the sweep has not run yet.
    if (p.timeout != 0 && ExpiresAt(p) <= timestamp) return TransferCode::kPendingTransferExpired;

    Account& dr = state_.accounts.at(p.debit_account_id);
    Account& cr = state_.accounts.at(p.credit_account_id);
    const u128 amount = post && event.amount != 0 ? event.amount : p.amount;
    if (post) {
        if (!SumFits(dr.debits_posted, amount, 0)) return TransferCode::kOverflowsDebitsPosted;
        if (!SumFits(cr.credits_posted, amount, 0)) return TransferCode::kOverflowsCreditsPosted;
    }

    dr.debits_pending -= p.amount;
    cr.credits_pending -= p.amount;
    if (post) {
        dr.debits_posted += amount;
        cr.credits_posted += amount;
    }
    state_.statuses.at(p.id) = post ? PendingStatus::kPosted : PendingStatus::kVoided;
    Transfer transfer = event;
    transfer.debit_account_id = p.debit_account_id;
    transfer.credit_account_id = p.credit_account_id;
    transfer.currency = p.currency;
    transfer.code = p.code;
    transfer.amount = amount;
    transfer.timestamp = timestamp;
    state_.transfers.emplace(transfer.id, transfer);
    return TransferCode::kOk;
}

CreateTransferResult ReferenceModel::TransferExists(const Transfer& event, const Transfer& stored) {
    using namespace transfer_flags;
    const bool post_or_void = (event.flags & (kPostPendingTransfer | kVoidPendingTransfer)) != 0;
    const bool balancing = (event.flags & (kBalancingDebit | kBalancingCredit)) != 0;
    // For a post or void a zero field means "as the pending transfer" and is not compared.
    const auto differs = [post_or_void](auto event_field, auto stored_field) {
        if (post_or_void && event_field == 0) return false;
        return event_field != stored_field;
    };
    if (event.flags != stored.flags) return TransferCode::kExistsWithDifferentFlags;
    if (event.pending_id != stored.pending_id) return TransferCode::kExistsWithDifferentPendingId;
    if (event.timeout != stored.timeout) return TransferCode::kExistsWithDifferentTimeout;
    if (differs(event.debit_account_id, stored.debit_account_id)) {
        return TransferCode::kExistsWithDifferentDebitAccountId;
    }
    if (differs(event.credit_account_id, stored.credit_account_id)) {
        return TransferCode::kExistsWithDifferentCreditAccountId;
    }
    if (balancing ? event.amount < stored.amount : differs(event.amount, stored.amount)) {
        return TransferCode::kExistsWithDifferentAmount;
    }
    if (event.user_data_128 != stored.user_data_128) {
        return TransferCode::kExistsWithDifferentUserData128;
    }
    if (event.user_data_64 != stored.user_data_64) {
        return TransferCode::kExistsWithDifferentUserData64;
    }
    if (event.user_data_32 != stored.user_data_32) {
        return TransferCode::kExistsWithDifferentUserData32;
    }
    if (differs(event.currency, stored.currency)) return TransferCode::kExistsWithDifferentCurrency;
    if (differs(event.code, stored.code)) return TransferCode::kExistsWithDifferentCode;
    return TransferCode::kExists;
}

const Account* ReferenceModel::FindAccount(u128 id) const {
    auto it = state_.accounts.find(id);
    return it == state_.accounts.end() ? nullptr : &it->second;
}

const Transfer* ReferenceModel::FindTransfer(u128 id) const {
    auto it = state_.transfers.find(id);
    return it == state_.transfers.end() ? nullptr : &it->second;
}

PendingStatus ReferenceModel::GetPendingStatus(u128 transfer_id) const {
    auto it = state_.statuses.find(transfer_id);
    return it == state_.statuses.end() ? PendingStatus::kNone : it->second;
}

}  // namespace bursar::ledger
