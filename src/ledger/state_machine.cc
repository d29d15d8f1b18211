#include "ledger/state_machine.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "base/assert.h"

namespace bursar::ledger {
namespace {

using TR = CreateTransferResult;
using AR = CreateAccountResult;

// Balance fields, in the order of Account and of Undo::balances.
enum Field : int { kDebitsPending = 0, kDebitsPosted = 1, kCreditsPending = 2, kCreditsPosted = 3 };

u128& BalanceField(Account& account, int field) {
    switch (field) {
        case kDebitsPending:
            return account.debits_pending;
        case kDebitsPosted:
            return account.debits_posted;
        case kCreditsPending:
            return account.credits_pending;
        default:
            return account.credits_posted;
    }
}

u128 SaturatingSub(u128 a, u128 b) { return a > b ? a - b : 0; }

bool Overflows(u128 a, u128 b) {
    u128 sum = 0;
    return !CheckedAdd(a, b, &sum);
}

bool Overflows3(u128 a, u128 b, u128 c) {
    u128 sum = 0;
    return !CheckedAdd(a, b, &sum) || !CheckedAdd(sum, c, &sum);
}

int CurrencyIndexOf(uint32_t currency) {
    int index = CurrencyIndex(currency);
    BURSAR_ASSERT(index >= 0);  // accounts are only created with known currencies
    return index;
}

uint64_t ExpiresAt(const Transfer& pending) {
    BURSAR_DASSERT(pending.timeout != 0);
    return pending.timestamp + static_cast<uint64_t>(pending.timeout) * kNanosecondsPerSecond;
}

// Runs the events of one request with linked-chain semantics (docs/ledger/result-codes.md).
// `prefetch` is called for the event kPrefetchDistance ahead of the one being applied, so that
// the index slots it will probe are in the cache by then (the indexes are far larger than it).
constexpr size_t kPrefetchDistance = 16;

template <typename Event, typename ApplyFn, typename PrefetchFn, typename Machine>
void ApplyEvents(Machine& machine, std::span<const Event> events, uint16_t linked_flag,
                 uint32_t chain_open, uint32_t chain_failed, std::vector<EventResult>* results,
                 ApplyFn&& apply, PrefetchFn&& prefetch) {
    BURSAR_ASSERT(events.size() <= kBatchEventsMax);
    for (size_t i = 0; i < std::min(kPrefetchDistance, events.size()); ++i) prefetch(events[i]);
    constexpr size_t kNoChain = SIZE_MAX;
    size_t chain = kNoChain;  // index of the first event of the open chain
    bool chain_broken = false;
    for (size_t i = 0; i < events.size(); ++i) {
        const Event& event = events[i];
        if (i + kPrefetchDistance < events.size()) prefetch(events[i + kPrefetchDistance]);
        uint64_t timestamp = machine.TakeTimestamp();
        bool linked = (event.flags & linked_flag) != 0;
        std::optional<uint32_t> result;
        if (linked) {
            if (chain == kNoChain) {
                chain = i;
                machine.OpenChain();
            }
            if (i == events.size() - 1) result = chain_open;
        }
        if (!result) result = chain_broken ? chain_failed : apply(event, timestamp);
        if (*result != 0) {
            if (chain != kNoChain && !chain_broken) {
                chain_broken = true;
                machine.CloseChain(/*commit=*/false);
                for (size_t j = chain; j < i; ++j) {
                    results->push_back({static_cast<uint32_t>(j), chain_failed});
                }
            }
            results->push_back({static_cast<uint32_t>(i), *result});
        }
        if (chain != kNoChain && (!linked || *result == chain_open)) {
            if (!chain_broken) machine.CloseChain(/*commit=*/true);
            chain = kNoChain;
            chain_broken = false;
        }
    }
}

}  // namespace

// The chain hooks ApplyEvents needs; kept out of the public header.
class StateMachineAccess {
  public:
    explicit StateMachineAccess(StateMachine& machine) : machine_(machine) {}
    uint64_t TakeTimestamp() { return machine_.TakeTimestamp(); }
    void OpenChain() {
        BURSAR_ASSERT(!machine_.in_chain_);
        BURSAR_ASSERT(machine_.undo_.empty());
        machine_.in_chain_ = true;
    }
    void CloseChain(bool commit) {
        if (!machine_.in_chain_) return;  // already closed by a failure
        if (!commit) machine_.RollBack(0);
        machine_.undo_.clear();
        machine_.in_chain_ = false;
    }

  private:
    StateMachine& machine_;
};

StateMachine::StateMachine(const StateMachineOptions& options)
    : account_index_(options.accounts_expected),
      transfer_index_(options.transfers_expected),
      failed_ids_(1024) {}

void StateMachine::BeginBatch(uint64_t timestamp) {
    BURSAR_ASSERT(!in_batch_);
    BURSAR_ASSERT(timestamp > last_timestamp_);
    in_batch_ = true;
    batch_next_timestamp_ = timestamp;
    last_timestamp_ = timestamp;
    ExpireDue(timestamp);
}

void StateMachine::EndBatch() {
    BURSAR_ASSERT(in_batch_);
    BURSAR_ASSERT(!in_chain_);
    BURSAR_ASSERT(undo_.empty());
    for (const CurrencyTotals& totals : totals_) {
        BURSAR_ASSERT(totals.debits_pending == totals.credits_pending);
        BURSAR_ASSERT(totals.debits_posted == totals.credits_posted);
    }
    in_batch_ = false;
}

uint64_t StateMachine::TakeTimestamp() {
    BURSAR_ASSERT(in_batch_);
    const uint64_t timestamp = batch_next_timestamp_++;
    last_timestamp_ = timestamp;
    return timestamp;
}

bool StateMachine::HasExpiryDue(uint64_t timestamp) const {
    return !expiry_heap_.empty() && expiry_heap_.front().expires_at <= timestamp;
}

void StateMachine::CreateAccounts(std::span<const Account> events,
                                  std::vector<EventResult>* results) {
    BURSAR_ASSERT(in_batch_);
    StateMachineAccess access(*this);
    ApplyEvents(
        access, events, account_flags::kLinked, static_cast<uint32_t>(AR::kLinkedEventChainOpen),
        static_cast<uint32_t>(AR::kLinkedEventFailed), results,
        [this](const Account& event, uint64_t timestamp) {
            return static_cast<uint32_t>(CreateAccount(event, timestamp));
        },
        [this](const Account& event) { account_index_.Prefetch(event.id); });
}

void StateMachine::CreateTransfers(std::span<const Transfer> events,
                                   std::vector<EventResult>* results) {
    BURSAR_ASSERT(in_batch_);
    StateMachineAccess access(*this);
    ApplyEvents(
        access, events, transfer_flags::kLinked, static_cast<uint32_t>(TR::kLinkedEventChainOpen),
        static_cast<uint32_t>(TR::kLinkedEventFailed), results,
        [this](const Transfer& event, uint64_t timestamp) {
            CreateTransferResult result = CreateTransfer(event, timestamp);
            if (IsStateDependentFailure(result)) {
                failed_ids_.Insert(event.id, static_cast<uint32_t>(result));
            }
            return static_cast<uint32_t>(result);
        },
        [this](const Transfer& event) {
            transfer_index_.Prefetch(event.id);
            if (event.pending_id != 0) transfer_index_.Prefetch(event.pending_id);
            account_index_.Prefetch(event.debit_account_id);
            account_index_.Prefetch(event.credit_account_id);
        });
}

CreateAccountResult StateMachine::CreateAccount(const Account& a, uint64_t timestamp) {
    if (a.timestamp != 0) return AR::kTimestampMustBeZero;
    if (a.reserved != 0) return AR::kReservedField;
    if ((a.flags & ~account_flags::kAll) != 0) return AR::kReservedFlag;
    if (a.id == 0) return AR::kIdMustNotBeZero;
    if (a.id == kU128Max) return AR::kIdMustNotBeIntMax;
    if ((a.flags & account_flags::kDebitsMustNotExceedCredits) &&
        (a.flags & account_flags::kCreditsMustNotExceedDebits)) {
        return AR::kFlagsAreMutuallyExclusive;
    }
    if (a.debits_pending != 0) return AR::kDebitsPendingMustBeZero;
    if (a.debits_posted != 0) return AR::kDebitsPostedMustBeZero;
    if (a.credits_pending != 0) return AR::kCreditsPendingMustBeZero;
    if (a.credits_posted != 0) return AR::kCreditsPostedMustBeZero;
    if (a.currency == 0) return AR::kCurrencyMustNotBeZero;
    if (CurrencyIndex(a.currency) < 0) return AR::kCurrencyUnknown;
    if (a.kind == 0) return AR::kKindMustNotBeZero;

    uint32_t existing = account_index_.Find(a.id);
    if (existing != IdIndex::kNotFound) {
        const Account& e = accounts_[existing];
        if (a.flags != e.flags) return AR::kExistsWithDifferentFlags;
        if (a.user_data_128 != e.user_data_128) return AR::kExistsWithDifferentUserData128;
        if (a.user_data_64 != e.user_data_64) return AR::kExistsWithDifferentUserData64;
        if (a.user_data_32 != e.user_data_32) return AR::kExistsWithDifferentUserData32;
        if (a.currency != e.currency) return AR::kExistsWithDifferentCurrency;
        if (a.kind != e.kind) return AR::kExistsWithDifferentKind;
        return AR::kExists;
    }

    Account stored = a;
    stored.timestamp = timestamp;
    uint32_t index = accounts_.PushBack(stored);
    account_index_.Insert(a.id, index);
    if (in_chain_) undo_.push_back(Undo{Undo::Kind::kAccountCreated, index, {}, {}});
    return AR::kOk;
}

CreateTransferResult StateMachine::CreateTransfer(const Transfer& t, uint64_t timestamp) {
    using namespace transfer_flags;
    if (t.timestamp != 0) return TR::kTimestampMustBeZero;
    if ((t.flags & ~kAll) != 0) return TR::kReservedFlag;
    if (t.id == 0) return TR::kIdMustNotBeZero;
    if (t.id == kU128Max) return TR::kIdMustNotBeIntMax;

    uint32_t existing = transfer_index_.Find(t.id);
    if (existing != IdIndex::kNotFound) return TransferExists(t, transfers_[existing]);
    if (failed_ids_.size() != 0 && failed_ids_.Find(t.id) != IdIndex::kNotFound) {
        return TR::kIdAlreadyFailed;
    }

    const bool pending = (t.flags & kPending) != 0;
    const bool post = (t.flags & kPostPendingTransfer) != 0;
    const bool void_ = (t.flags & kVoidPendingTransfer) != 0;
    const bool balancing = (t.flags & (kBalancingDebit | kBalancingCredit)) != 0;
    if (int(pending) + int(post) + int(void_) > 1) return TR::kFlagsAreMutuallyExclusive;
    if ((post || void_) && balancing) return TR::kFlagsAreMutuallyExclusive;
    if (post || void_) return PostOrVoid(t, timestamp);

    if (t.debit_account_id == 0) return TR::kDebitAccountIdMustNotBeZero;
    if (t.debit_account_id == kU128Max) return TR::kDebitAccountIdMustNotBeIntMax;
    if (t.credit_account_id == 0) return TR::kCreditAccountIdMustNotBeZero;
    if (t.credit_account_id == kU128Max) return TR::kCreditAccountIdMustNotBeIntMax;
    if (t.debit_account_id == t.credit_account_id) return TR::kAccountsMustBeDifferent;
    if (t.pending_id != 0) return TR::kPendingIdMustBeZero;
    if (!pending && t.timeout != 0) return TR::kTimeoutReservedForPendingTransfer;
    if (t.amount == 0) return TR::kAmountMustNotBeZero;
    if (t.currency == 0) return TR::kCurrencyMustNotBeZero;
    if (t.code == 0) return TR::kCodeMustNotBeZero;

    uint32_t dr_index = account_index_.Find(t.debit_account_id);
    if (dr_index == IdIndex::kNotFound) return TR::kDebitAccountNotFound;
    uint32_t cr_index = account_index_.Find(t.credit_account_id);
    if (cr_index == IdIndex::kNotFound) return TR::kCreditAccountNotFound;
    Account& dr = accounts_[dr_index];
    Account& cr = accounts_[cr_index];
    if (dr.currency != cr.currency) return TR::kAccountsMustHaveTheSameCurrency;
    if (t.currency != dr.currency) return TR::kTransferMustHaveTheSameCurrencyAsAccounts;

    // Never overflows: every change below is checked against overflows_debits / _credits.
    const u128 dr_debits = dr.debits_pending + dr.debits_posted;
    const u128 cr_credits = cr.credits_pending + cr.credits_posted;
    u128 amount = t.amount;
    if (t.flags & kBalancingDebit)
        amount = std::min(amount, SaturatingSub(dr.credits_posted, dr_debits));
    if (t.flags & kBalancingCredit) {
        amount = std::min(amount, SaturatingSub(cr.debits_posted, cr_credits));
    }

    if (pending) {
        if (Overflows(dr.debits_pending, amount)) return TR::kOverflowsDebitsPending;
        if (Overflows(cr.credits_pending, amount)) return TR::kOverflowsCreditsPending;
    } else {
        if (Overflows(dr.debits_posted, amount)) return TR::kOverflowsDebitsPosted;
        if (Overflows(cr.credits_posted, amount)) return TR::kOverflowsCreditsPosted;
    }
    if (Overflows3(dr.debits_pending, dr.debits_posted, amount)) return TR::kOverflowsDebits;
    if (Overflows3(cr.credits_pending, cr.credits_posted, amount)) return TR::kOverflowsCredits;
    if (pending && t.timeout != 0) {
        uint64_t expires_at = 0;
        if (__builtin_add_overflow(
                timestamp, static_cast<uint64_t>(t.timeout) * kNanosecondsPerSecond, &expires_at)) {
            return TR::kOverflowsTimeout;
        }
    }
    if ((dr.flags & account_flags::kDebitsMustNotExceedCredits) &&
        dr_debits + amount > dr.credits_posted) {
        return TR::kExceedsCredits;
    }
    if ((cr.flags & account_flags::kCreditsMustNotExceedDebits) &&
        cr_credits + amount > cr.debits_posted) {
        return TR::kExceedsDebits;
    }

    SaveBalances(dr_index);
    SaveBalances(cr_index);
    const int currency = CurrencyIndexOf(dr.currency);
    if (pending) {
        dr.debits_pending += amount;
        cr.credits_pending += amount;
        AddTotals(currency, kDebitsPending, amount, false);
        AddTotals(currency, kCreditsPending, amount, false);
    } else {
        dr.debits_posted += amount;
        cr.credits_posted += amount;
        AddTotals(currency, kDebitsPosted, amount, false);
        AddTotals(currency, kCreditsPosted, amount, false);
    }
    InsertTransfer(t, timestamp, amount, pending ? PendingStatus::kPending : PendingStatus::kNone);

    // Postconditions: the limits hold.
    BURSAR_ASSERT(!(dr.flags & account_flags::kDebitsMustNotExceedCredits) ||
                  dr.debits_pending + dr.debits_posted <= dr.credits_posted);
    BURSAR_ASSERT(!(cr.flags & account_flags::kCreditsMustNotExceedDebits) ||
                  cr.credits_pending + cr.credits_posted <= cr.debits_posted);
    return TR::kOk;
}

CreateTransferResult StateMachine::PostOrVoid(const Transfer& t, uint64_t timestamp) {
    using namespace transfer_flags;
    const bool post = (t.flags & kPostPendingTransfer) != 0;
    if (t.pending_id == 0) return TR::kPendingIdMustNotBeZero;
    if (t.pending_id == kU128Max) return TR::kPendingIdMustNotBeIntMax;
    if (t.pending_id == t.id) return TR::kPendingIdMustBeDifferent;
    if (t.timeout != 0) return TR::kTimeoutReservedForPendingTransfer;

    uint32_t p_index = transfer_index_.Find(t.pending_id);
    if (p_index == IdIndex::kNotFound) return TR::kPendingTransferNotFound;
    const Transfer& p = transfers_[p_index];
    if (!(p.flags & kPending)) return TR::kPendingTransferNotPending;
    if (t.debit_account_id != 0 && t.debit_account_id != p.debit_account_id) {
        return TR::kPendingTransferHasDifferentDebitAccountId;
    }
    if (t.credit_account_id != 0 && t.credit_account_id != p.credit_account_id) {
        return TR::kPendingTransferHasDifferentCreditAccountId;
    }
    if (t.currency != 0 && t.currency != p.currency)
        return TR::kPendingTransferHasDifferentCurrency;
    if (t.code != 0 && t.code != p.code) return TR::kPendingTransferHasDifferentCode;

    u128 amount = p.amount;
    if (post) {
        if (t.amount != 0) amount = t.amount;
        if (amount > p.amount) return TR::kExceedsPendingTransferAmount;
    } else if (t.amount != 0 && t.amount != p.amount) {
        return TR::kPendingTransferHasDifferentAmount;
    }

    switch (statuses_[p_index]) {
        case PendingStatus::kPosted:
            return TR::kPendingTransferAlreadyPosted;
        case PendingStatus::kVoided:
            return TR::kPendingTransferAlreadyVoided;
        case PendingStatus::kExpired:
            return TR::kPendingTransferExpired;
        case PendingStatus::kPending:
            break;
        case PendingStatus::kNone:
            BURSAR_ASSERT(false);
    }
    if (p.timeout != 0 && ExpiresAt(p) <= timestamp) return TR::kPendingTransferExpired;

    uint32_t dr_index = account_index_.Find(p.debit_account_id);
    uint32_t cr_index = account_index_.Find(p.credit_account_id);
    BURSAR_ASSERT(dr_index != IdIndex::kNotFound && cr_index != IdIndex::kNotFound);
    Account& dr = accounts_[dr_index];
    Account& cr = accounts_[cr_index];
    // A post cannot overflow: creating `p` checked debits_pending + debits_posted + p.amount (and
    // the credit side) against 2^128 - 1, and a post moves at most p.amount from pending to posted.
    BURSAR_ASSERT(!Overflows(dr.debits_posted, amount) && !Overflows(cr.credits_posted, amount));
    BURSAR_ASSERT(dr.debits_pending >= p.amount && cr.credits_pending >= p.amount);
    SaveBalances(dr_index);
    SaveBalances(cr_index);
    const int currency = CurrencyIndexOf(p.currency);
    dr.debits_pending -= p.amount;
    cr.credits_pending -= p.amount;
    AddTotals(currency, kDebitsPending, p.amount, true);
    AddTotals(currency, kCreditsPending, p.amount, true);
    if (post) {
        dr.debits_posted += amount;
        cr.credits_posted += amount;
        AddTotals(currency, kDebitsPosted, amount, false);
        AddTotals(currency, kCreditsPosted, amount, false);
    }
    SetStatus(p_index, post ? PendingStatus::kPosted : PendingStatus::kVoided);

    Transfer stored = t;
    stored.debit_account_id = p.debit_account_id;
    stored.credit_account_id = p.credit_account_id;
    stored.currency = p.currency;
    stored.code = p.code;
    InsertTransfer(stored, timestamp, amount, PendingStatus::kNone);
    return TR::kOk;
}

CreateTransferResult StateMachine::TransferExists(const Transfer& t, const Transfer& e) const {
    using namespace transfer_flags;
    const bool resolves = (t.flags & (kPostPendingTransfer | kVoidPendingTransfer)) != 0;
    if (t.flags != e.flags) return TR::kExistsWithDifferentFlags;
    if (t.pending_id != e.pending_id) return TR::kExistsWithDifferentPendingId;
    if (t.timeout != e.timeout) return TR::kExistsWithDifferentTimeout;
    if (!(resolves && t.debit_account_id == 0) && t.debit_account_id != e.debit_account_id) {
        return TR::kExistsWithDifferentDebitAccountId;
    }
    if (!(resolves && t.credit_account_id == 0) && t.credit_account_id != e.credit_account_id) {
        return TR::kExistsWithDifferentCreditAccountId;
    }
    if (t.flags & (kBalancingDebit | kBalancingCredit)) {
        if (t.amount < e.amount) return TR::kExistsWithDifferentAmount;
    } else if (!(resolves && t.amount == 0) && t.amount != e.amount) {
        return TR::kExistsWithDifferentAmount;
    }
    if (t.user_data_128 != e.user_data_128) return TR::kExistsWithDifferentUserData128;
    if (t.user_data_64 != e.user_data_64) return TR::kExistsWithDifferentUserData64;
    if (t.user_data_32 != e.user_data_32) return TR::kExistsWithDifferentUserData32;
    if (!(resolves && t.currency == 0) && t.currency != e.currency) {
        return TR::kExistsWithDifferentCurrency;
    }
    if (!(resolves && t.code == 0) && t.code != e.code) return TR::kExistsWithDifferentCode;
    return TR::kExists;
}

void StateMachine::InsertTransfer(const Transfer& event, uint64_t timestamp, u128 amount,
                                  PendingStatus status) {
    Transfer stored = event;
    stored.amount = amount;
    stored.timestamp = timestamp;
    uint32_t index = transfers_.PushBack(stored);
    statuses_.PushBack(status);
    transfer_index_.Insert(stored.id, index);
    if (status == PendingStatus::kPending && stored.timeout != 0) {
        expiry_heap_.push_back(ExpiryEntry{ExpiresAt(stored), timestamp, index});
        std::push_heap(expiry_heap_.begin(), expiry_heap_.end(), ExpiryLater{});
    }
    if (in_chain_) undo_.push_back(Undo{Undo::Kind::kTransferCreated, index, {}, {}});
}

void StateMachine::SaveBalances(uint32_t account_index) {
    if (!in_chain_) return;
    const Account& a = accounts_[account_index];
    undo_.push_back(Undo{Undo::Kind::kBalances,
                         account_index,
                         {},
                         {a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted}});
}

void StateMachine::SetStatus(uint32_t transfer_index, PendingStatus status) {
    if (in_chain_) {
        undo_.push_back(Undo{Undo::Kind::kStatus, transfer_index, statuses_[transfer_index], {}});
    }
    statuses_[transfer_index] = status;
}

void StateMachine::AddTotals(uint32_t currency, int field, u128 amount, bool subtract) {
    CurrencyTotals& totals = totals_[currency];
    u128* target = field == kDebitsPending    ? &totals.debits_pending
                   : field == kDebitsPosted   ? &totals.debits_posted
                   : field == kCreditsPending ? &totals.credits_pending
                                              : &totals.credits_posted;
    // Totals are sums over all accounts and may exceed 2^128 - 1: they wrap, and equality of
    // debits and credits is checked modulo 2^128.
    *target = subtract ? *target - amount : *target + amount;
}

void StateMachine::RollBack(size_t undo_mark) {
    while (undo_.size() > undo_mark) {
        const Undo undo = undo_.back();
        undo_.pop_back();
        switch (undo.kind) {
            case Undo::Kind::kAccountCreated:
                BURSAR_ASSERT(undo.index + 1 == accounts_.size());
                account_index_.Erase(accounts_[undo.index].id);
                accounts_.PopBack();
                break;
            case Undo::Kind::kTransferCreated:
                BURSAR_ASSERT(undo.index + 1 == transfers_.size());
                transfer_index_.Erase(transfers_[undo.index].id);
                transfers_.PopBack();
                statuses_.PopBack();
                break;
            case Undo::Kind::kBalances: {
                Account& account = accounts_[undo.index];
                const int currency = CurrencyIndexOf(account.currency);
                for (int field = 0; field < 4; ++field) {
                    u128& value = BalanceField(account, field);
                    AddTotals(currency, field, value - undo.balances[field], true);
                    value = undo.balances[field];
                }
                break;
            }
            case Undo::Kind::kStatus:
                statuses_[undo.index] = undo.status;
                break;
        }
    }
}

void StateMachine::ExpireDue(uint64_t timestamp) {
    while (!expiry_heap_.empty() && expiry_heap_.front().expires_at <= timestamp) {
        std::pop_heap(expiry_heap_.begin(), expiry_heap_.end(), ExpiryLater{});
        const ExpiryEntry entry = expiry_heap_.back();
        expiry_heap_.pop_back();
        // Entries of transfers rolled back with their chain, or resolved since, are stale.
        if (entry.transfer_index >= transfers_.size()) continue;
        const Transfer& p = transfers_[entry.transfer_index];
        if (p.timestamp != entry.transfer_timestamp) continue;
        if (statuses_[entry.transfer_index] != PendingStatus::kPending) continue;
        Account& dr = accounts_[AccountIndex(p.debit_account_id)];
        Account& cr = accounts_[AccountIndex(p.credit_account_id)];
        BURSAR_ASSERT(dr.debits_pending >= p.amount && cr.credits_pending >= p.amount);
        dr.debits_pending -= p.amount;
        cr.credits_pending -= p.amount;
        const int currency = CurrencyIndexOf(p.currency);
        AddTotals(currency, kDebitsPending, p.amount, true);
        AddTotals(currency, kCreditsPending, p.amount, true);
        statuses_[entry.transfer_index] = PendingStatus::kExpired;
    }
}

uint32_t StateMachine::AccountIndex(u128 id) const {
    uint32_t index = account_index_.Find(id);
    BURSAR_ASSERT(index != IdIndex::kNotFound);
    return index;
}

const Account* StateMachine::FindAccount(u128 id) const {
    if (id == 0 || id == kU128Max) return nullptr;
    uint32_t index = account_index_.Find(id);
    return index == IdIndex::kNotFound ? nullptr : &accounts_[index];
}

const Transfer* StateMachine::FindTransfer(u128 id) const {
    if (id == 0 || id == kU128Max) return nullptr;
    uint32_t index = transfer_index_.Find(id);
    return index == IdIndex::kNotFound ? nullptr : &transfers_[index];
}

PendingStatus StateMachine::GetPendingStatus(u128 transfer_id) const {
    if (transfer_id == 0 || transfer_id == kU128Max) return PendingStatus::kNone;
    uint32_t index = transfer_index_.Find(transfer_id);
    return index == IdIndex::kNotFound ? PendingStatus::kNone : statuses_[index];
}

Status StateMachine::CheckInvariants() const {
    CurrencyTotals sums[kCurrenciesMax] = {};
    u128 pending_sums[kCurrenciesMax] = {};
    for (uint64_t i = 0; i < accounts_.size(); ++i) {
        const Account& a = accounts_[i];
        int currency = CurrencyIndex(a.currency);
        if (currency < 0) return Status(StatusCode::kCorruption, "account with unknown currency");
        sums[currency].debits_pending += a.debits_pending;
        sums[currency].debits_posted += a.debits_posted;
        sums[currency].credits_pending += a.credits_pending;
        sums[currency].credits_posted += a.credits_posted;
        if ((a.flags & account_flags::kDebitsMustNotExceedCredits) &&
            a.debits_pending + a.debits_posted > a.credits_posted) {
            return Status(StatusCode::kCorruption,
                          "account " + U128ToString(a.id) + " debits exceed credits");
        }
        if ((a.flags & account_flags::kCreditsMustNotExceedDebits) &&
            a.credits_pending + a.credits_posted > a.debits_posted) {
            return Status(StatusCode::kCorruption,
                          "account " + U128ToString(a.id) + " credits exceed debits");
        }
    }
    for (uint64_t i = 0; i < transfers_.size(); ++i) {
        if (statuses_[i] == PendingStatus::kPending) {
            pending_sums[CurrencyIndex(transfers_[i].currency)] += transfers_[i].amount;
        }
    }
    for (size_t c = 0; c < kCurrenciesMax; ++c) {
        const CurrencyTotals& s = sums[c];
        const CurrencyTotals& t = totals_[c];
        std::string currency = c < Currencies().size() ? std::string(Currencies()[c].code) : "?";
        if (s.debits_pending != s.credits_pending || s.debits_posted != s.credits_posted) {
            return Status(StatusCode::kCorruption, currency + ": debits differ from credits");
        }
        if (s.debits_pending != t.debits_pending || s.debits_posted != t.debits_posted ||
            s.credits_pending != t.credits_pending || s.credits_posted != t.credits_posted) {
            return Status(StatusCode::kCorruption, currency + ": totals differ from accounts");
        }
        if (pending_sums[c] != s.debits_pending) {
            return Status(StatusCode::kCorruption,
                          currency + ": pending transfers differ from pending balances");
        }
    }
    return Status::Ok();
}

std::unique_ptr<FrozenState> StateMachine::Freeze() const {
    auto frozen = std::make_unique<FrozenState>();
    FreezeInto(frozen.get());
    return frozen;
}

void StateMachine::FreezeInto(FrozenState* frozen) const {
    BURSAR_ASSERT(!in_batch_);
    frozen->last_timestamp_ = last_timestamp_;
    frozen->accounts_.clear();
    frozen->statuses_.clear();
    frozen->failed_.clear();
    frozen->failed_sorted_ = false;
    frozen->accounts_.reserve(accounts_.size());
    accounts_.ForEachRun([&](const Account* p, uint64_t n) {
        frozen->accounts_.insert(frozen->accounts_.end(), p, p + n);
    });
    frozen->transfer_segments_ = transfers_.Segments();
    frozen->transfer_count_ = transfers_.size();
    frozen->statuses_.reserve(statuses_.size());
    statuses_.ForEachRun([&](const PendingStatus* p, uint64_t n) {
        frozen->statuses_.insert(frozen->statuses_.end(), p, p + n);
    });
    frozen->failed_.reserve(failed_ids_.size());
    failed_ids_.ForEach(
        [&](u128 id, uint32_t result) { frozen->failed_.emplace_back(id, result); });
}

void FrozenState::SortFailedIds() const {
    if (failed_sorted_) return;
    std::sort(failed_.begin(), failed_.end());
    failed_sorted_ = true;
}

Hash256 FrozenState::StateHash() const {
    SortFailedIds();
    Sha256 sha;
    sha.Update(&last_timestamp_, sizeof(last_timestamp_));
    uint64_t counts[3] = {accounts_.size(), transfer_count_, failed_.size()};
    sha.Update(counts, sizeof(counts));
    sha.Update(accounts_.data(), accounts_.size() * sizeof(Account));
    SegmentedArray<Transfer>::ForEachRun(
        transfer_segments_, transfer_count_,
        [&](const Transfer* p, uint64_t n) { sha.Update(p, n * sizeof(Transfer)); });
    sha.Update(statuses_.data(), statuses_.size());
    for (const auto& [id, result] : failed_) {
        sha.Update(&id, sizeof(id));
        sha.Update(&result, sizeof(result));
    }
    return sha.Finish();
}

uint64_t StateMachine::MemoryBytes() const {
    return accounts_.MemoryBytes() + transfers_.MemoryBytes() + statuses_.MemoryBytes() +
           account_index_.MemoryBytes() + transfer_index_.MemoryBytes() +
           failed_ids_.MemoryBytes() + expiry_heap_.capacity() * sizeof(ExpiryEntry);
}

namespace {

constexpr uint64_t kSaveMagic = 0x314d545352535242ull;  // the bytes "BRSRSTM1", little-endian

template <typename T>
bool ReadArray(const ReadFn& read, SegmentedArray<T>* array, uint64_t count_max) {
    uint64_t count = 0;
    if (!read(&count, sizeof(count)) || count > count_max) return false;
    constexpr uint64_t kChunk = 4096;
    std::vector<T> chunk(kChunk);
    while (count > 0) {
        uint64_t n = std::min(count, kChunk);
        if (!read(chunk.data(), n * sizeof(T))) return false;
        for (uint64_t i = 0; i < n; ++i) array->PushBack(chunk[i]);
        count -= n;
    }
    return true;
}

}  // namespace

uint64_t FrozenState::SaveBytes() const {
    constexpr uint64_t kFailedIdBytes = sizeof(u128) + sizeof(uint32_t);
    return sizeof(kSaveMagic) + sizeof(last_timestamp_) + 4 * sizeof(uint64_t) +
           accounts_.size() * sizeof(Account) + transfer_count_ * sizeof(Transfer) +
           statuses_.size() * sizeof(PendingStatus) + failed_.size() * kFailedIdBytes;
}

bool FrozenState::Save(const WriteFn& write) const {
    SortFailedIds();
    if (!write(&kSaveMagic, sizeof(kSaveMagic))) return false;
    if (!write(&last_timestamp_, sizeof(last_timestamp_))) return false;
    uint64_t count = accounts_.size();
    if (!write(&count, sizeof(count)) || !write(accounts_.data(), count * sizeof(Account))) {
        return false;
    }
    count = transfer_count_;
    if (!write(&count, sizeof(count))) return false;
    bool ok = true;
    SegmentedArray<Transfer>::ForEachRun(
        transfer_segments_, transfer_count_,
        [&](const Transfer* p, uint64_t n) { ok = ok && write(p, n * sizeof(Transfer)); });
    count = statuses_.size();
    if (!ok || !write(&count, sizeof(count)) || !write(statuses_.data(), count)) return false;
    count = failed_.size();
    if (!write(&count, sizeof(count))) return false;
    for (const auto& [id, result] : failed_) {
        if (!write(&id, sizeof(id)) || !write(&result, sizeof(result))) return false;
    }
    return true;
}

Result<std::unique_ptr<StateMachine>> StateMachine::Load(const ReadFn& read,
                                                         const StateMachineOptions& options) {
    auto machine = std::make_unique<StateMachine>(options);
    auto corrupt = [](const char* what) {
        return Error(StatusCode::kCorruption, std::string("state: ") + what);
    };
    uint64_t magic = 0;
    if (!read(&magic, sizeof(magic)) || magic != kSaveMagic) return corrupt("bad magic");
    if (!read(&machine->last_timestamp_, sizeof(machine->last_timestamp_))) {
        return corrupt("short read");
    }
    constexpr uint64_t kMax = SegmentedArray<Transfer>::kRecordsMax;
    if (!ReadArray(read, &machine->accounts_, kMax) ||
        !ReadArray(read, &machine->transfers_, kMax) ||
        !ReadArray(read, &machine->statuses_, kMax)) {
        return corrupt("short read in records");
    }
    if (machine->statuses_.size() != machine->transfers_.size()) return corrupt("status count");
    uint64_t failed_count = 0;
    if (!read(&failed_count, sizeof(failed_count)) || failed_count > kMax) {
        return corrupt("failed id count");
    }
    machine->failed_ids_.Reset(failed_count);
    for (uint64_t i = 0; i < failed_count; ++i) {
        u128 id = 0;
        uint32_t result = 0;
        if (!read(&id, sizeof(id)) || !read(&result, sizeof(result))) return corrupt("failed ids");
        if (id == 0 || id == kU128Max || machine->failed_ids_.Find(id) != IdIndex::kNotFound) {
            return corrupt("failed id");
        }
        machine->failed_ids_.Insert(id, result);
    }
    machine->RebuildIndexes();
    Status status = machine->CheckInvariants();
    if (!status.ok()) return Error(status);
    return machine;
}

void StateMachine::RebuildIndexes() {
    account_index_.Reset(std::max<uint64_t>(accounts_.size(), 1024));
    transfer_index_.Reset(std::max<uint64_t>(transfers_.size(), 1 << 16));
    for (auto& totals : totals_) totals = CurrencyTotals{};
    expiry_heap_.clear();
    for (uint64_t i = 0; i < accounts_.size(); ++i) {
        const Account& a = accounts_[i];
        account_index_.Insert(a.id, static_cast<uint32_t>(i));
        const int currency = CurrencyIndexOf(a.currency);
        AddTotals(currency, kDebitsPending, a.debits_pending, false);
        AddTotals(currency, kDebitsPosted, a.debits_posted, false);
        AddTotals(currency, kCreditsPending, a.credits_pending, false);
        AddTotals(currency, kCreditsPosted, a.credits_posted, false);
    }
    for (uint64_t i = 0; i < transfers_.size(); ++i) {
        const Transfer& t = transfers_[i];
        transfer_index_.Insert(t.id, static_cast<uint32_t>(i));
        if (statuses_[i] == PendingStatus::kPending && t.timeout != 0) {
            expiry_heap_.push_back(
                ExpiryEntry{ExpiresAt(t), t.timestamp, static_cast<uint32_t>(i)});
        }
    }
    std::make_heap(expiry_heap_.begin(), expiry_heap_.end(), ExpiryLater{});
}

}  // namespace bursar::ledger
