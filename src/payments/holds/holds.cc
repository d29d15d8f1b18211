#include "payments/holds/holds.h"

#include <algorithm>

#include "base/binary_codec.h"
#include "ledger/currency.h"
#include "payments/charges/charges.h"
#include "payments/entry.h"
#include "payments/limits/limits.h"

namespace bursar::payments::holds {
namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000;

// What a hold holds on the heap beyond its record: its captures' ids and a long reference.
uint64_t HeapBytes(const Hold& hold) {
    return hold.captures.capacity() * sizeof(uint64_t) +
           (hold.reference.capacity() > 15 ? hold.reference.capacity() + 1 : 0);
}

Deadline ExpiryOf(const Hold& hold) {
    return Deadline{hold.expires_at, DeadlineModule::kHolds, hold.id};
}

// The entry's transaction for the hold's own transfers (user_data: the payer and the currency).
Txn HoldTxn(const Hold& hold) {
    Txn txn;
    txn.user_id = hold.user_id;
    txn.merchant_id = hold.merchant_id;
    txn.currency = hold.currency;
    return txn;
}

// Why an existing hold the caller may act on cannot be captured or cancelled at `timestamp`;
// kOk when it can. A hold past its expiry whose deadline has not fired yet (a later command of
// the batch that reached it) is expired already: never captured late.
ResultCode ClosedCode(const Hold& hold, uint64_t timestamp) {
    switch (hold.status) {
        case HoldStatus::kCaptured:
            return ResultCode::kHoldCaptured;
        case HoldStatus::kCancelled:
            return ResultCode::kHoldCancelled;
        case HoldStatus::kExpired:
            return ResultCode::kHoldExpired;
        case HoldStatus::kAuthorized:
        case HoldStatus::kPartiallyCaptured:
            break;
    }
    return timestamp >= hold.expires_at ? ResultCode::kHoldExpired : ResultCode::kOk;
}

}  // namespace

// Checks, in order: wallets::CheckPayer (signed in, the user exists, the caller may act for them,
// the amount, the currency), the merchant exists (kMerchantNotFound), its tier allows
// pre-authorization (kHoldTierNotPermitted), the expiry (0: the default; at most 30 days:
// kHoldExpiryInvalid), the reference is not the merchant's already (kHoldReferenceTaken), the
// wallet exists (kInsufficientFunds), then the entry's: the available balance covers the amount
// (kInsufficientFunds), no balance overflows (kBalanceOverflow).
Outcome Holds::Authorize(const Command& c, const Caller& caller, const users::Users& users,
                         const merchants::Merchants& merchants, wallets::Books books,
                         DeadlineQueue& deadlines) {
    if (ResultCode code = wallets::CheckPayer(c, caller, users); code != ResultCode::kOk) {
        return Refused(code);
    }
    const merchants::Merchant* merchant = merchants.Find(c.merchant_id);
    if (merchant == nullptr) return Refused(ResultCode::kMerchantNotFound);
    if (!GetTier(merchant->tier).pre_authorization) {
        return Refused(ResultCode::kHoldTierNotPermitted);
    }
    const uint64_t expires_in = c.expires_in == 0 ? kHoldExpiryDefaultSeconds : c.expires_in;
    if (expires_in > kHoldExpiryMaxSeconds) return Refused(ResultCode::kHoldExpiryInvalid);
    if (!c.reference.empty() && references_.contains({c.merchant_id, c.reference})) {
        return Refused(ResultCode::kHoldReferenceTaken);
    }
    Hold hold;
    hold.id = holds_.size() + 1;
    hold.user_id = c.user_id;
    hold.merchant_id = c.merchant_id;
    hold.currency = c.currency;
    hold.amount = c.amount;
    hold.created_at = books.timestamp;
    hold.expires_at = books.timestamp + expires_in * kNsPerSecond;
    hold.reference = c.reference;
    const u128 wallet = WalletAccountId(c.user_id, c.currency);
    if (books.ledger.FindAccount(wallet) == nullptr) {
        return Refused(ResultCode::kInsufficientFunds);
    }
    const u128 merchant_account = MerchantAccountId(c.merchant_id, c.currency);
    Entry entry(books.ledger, HoldTxn(hold));
    entry.NeedAccount(merchant_account, ledger::AccountKind::kMerchant, 0);
    entry.PendingLeg(HoldTransferId(hold.id, 0), wallet, merchant_account, c.amount, kCodeHold,
                     LegKind::kHold, c.merchant_id);
    if (ResultCode code = entry.Check(); code != ResultCode::kOk) return Refused(code);
    entry.Commit(hold.id);
    hold.transfers = 1;
    if (!hold.reference.empty()) references_[{hold.merchant_id, hold.reference}] = hold.id;
    deadlines.Add(ExpiryOf(hold));
    ++open_;
    heap_bytes_ += HeapBytes(hold);
    holds_.push_back(hold);
    Outcome outcome;
    outcome.hold = std::move(hold);
    return outcome;
}

// Checks, in order: signed in (kNotSignedIn), a merchant or the admin (kHoldForbidden), the hold
// exists and is the calling merchant's (kHoldNotFound), it is open (kHoldCaptured,
// kHoldCancelled, kHoldExpired), the amount (0: all that is left) is at most kAmountMinorMax
// (kAmountInvalid) and at most what is left (kCaptureExceedsHold), fewer than
// kCapturesPerHoldMax captures (kCapturesPerHoldExceeded), the limits as a payment's
// (limits::CheckPayment), then the entry's (kBalanceOverflow).
// The checks Capture and Cancel start with, in order: signed in (kNotSignedIn), a merchant or the
// admin (kHoldForbidden), the hold exists and is the calling merchant's (kHoldNotFound), it is open
// (kHoldCaptured, kHoldCancelled, kHoldExpired). kOk and the hold in `*hold` when all pass.
ResultCode Holds::OpenHoldFor(const Command& c, const Caller& caller, uint64_t timestamp,
                              const Hold** hold) const {
    if (caller.kind == Caller::Kind::kAnonymous) return ResultCode::kNotSignedIn;
    if (caller.kind != Caller::Kind::kAdmin && caller.kind != Caller::Kind::kMerchant) {
        return ResultCode::kHoldForbidden;
    }
    const Hold* found = Find(c.hold_id);
    if (found == nullptr ||
        (caller.kind == Caller::Kind::kMerchant && caller.id != found->merchant_id)) {
        return ResultCode::kHoldNotFound;
    }
    if (ResultCode code = ClosedCode(*found, timestamp); code != ResultCode::kOk) return code;
    *hold = found;
    return ResultCode::kOk;
}

Outcome Holds::Capture(const Command& c, const Caller& caller,
                       const merchants::Merchants& merchants, risk::Limits& limits,
                       wallets::Books books, DeadlineQueue& deadlines) {
    const Hold* found = nullptr;
    if (ResultCode code = OpenHoldFor(c, caller, books.timestamp, &found);
        code != ResultCode::kOk) {
        return Refused(code);
    }
    const u128 remaining = found->remaining();
    const u128 amount = c.amount == 0 ? remaining : c.amount;
    if (amount > kAmountMinorMax) return Refused(ResultCode::kAmountInvalid);
    if (amount > remaining) return Refused(ResultCode::kCaptureExceedsHold);
    if (found->captures.size() >= kCapturesPerHoldMax) {
        return Refused(ResultCode::kCapturesPerHoldExceeded);
    }
    if (ResultCode code =
            limits::CheckPayment(limits, merchants, found->user_id, found->merchant_id,
                                 found->currency, amount, books.timestamp);
        code != ResultCode::kOk) {
        return Refused(code);
    }
    const merchants::Merchant* merchant = merchants.Find(found->merchant_id);
    const uint32_t fee_rate =
        GetTier(merchant == nullptr ? Tier::kStarter : merchant->tier).fee_basis_points;

    Txn txn;
    txn.type = TxnType::kPay;
    txn.user_id = found->user_id;
    txn.merchant_id = found->merchant_id;
    txn.amount = amount;
    txn.fee = charges::Fee(amount, fee_rate);
    txn.currency = found->currency;
    txn.created_at = books.timestamp;
    const u128 wallet = WalletAccountId(found->user_id, found->currency);
    const u128 merchant_account = MerchantAccountId(found->merchant_id, found->currency);
    const u128 left = remaining - amount;
    const bool reserve_again = left > 0 && !c.final;
    Entry entry(books.ledger, txn);
    entry.NeedAccount(FeeAccountId(found->currency), ledger::AccountKind::kFeeRevenue, 0);
    entry.VoidLeg(HoldTransferId(found->id, found->transfers),
                  HoldTransferId(found->id, found->transfers - 1), wallet, merchant_account,
                  remaining, kCodeHold, LegKind::kHoldVoid, found->merchant_id);
    entry.Leg(wallet, merchant_account, amount - txn.fee, kCodePayNet, LegKind::kNet,
              found->merchant_id);
    if (txn.fee > 0) {
        entry.Leg(wallet, FeeAccountId(found->currency), txn.fee, kCodeFee, LegKind::kFee,
                  found->merchant_id);
    }
    if (reserve_again) {
        entry.PendingLeg(HoldTransferId(found->id, found->transfers + 1), wallet, merchant_account,
                         left, kCodeHold, LegKind::kHold, found->merchant_id);
    }
    if (ResultCode code = entry.Check(); code != ResultCode::kOk) return Refused(code);
    txn.id = books.next_txn_id++;
    const uint64_t paid_at = entry.Commit(txn.id);
    limits::RecordPayment(limits, paid_at, txn.user_id, txn.merchant_id, txn.currency, amount);

    Hold& hold = holds_[found->id - 1];
    hold.captured += amount;
    hold.transfers += reserve_again ? 2 : 1;
    heap_bytes_ -= HeapBytes(hold);
    hold.captures.push_back(txn.id);
    heap_bytes_ += HeapBytes(hold);
    if (reserve_again) {
        hold.status = HoldStatus::kPartiallyCaptured;
    } else {
        hold.status = HoldStatus::kCaptured;
        hold.released = left;
        hold.closed_at = books.timestamp;
        deadlines.Remove(ExpiryOf(hold));
        --open_;
    }
    Outcome outcome;
    outcome.txn = txn;
    outcome.hold = hold;
    return outcome;
}

// Checks, in order: signed in (kNotSignedIn), a merchant or the admin (kHoldForbidden), the hold
// exists and is the calling merchant's (kHoldNotFound), it is open (kHoldCaptured,
// kHoldCancelled, kHoldExpired). The release cannot fail: the reserve is there.
Outcome Holds::Cancel(const Command& c, const Caller& caller, wallets::Books books,
                      DeadlineQueue& deadlines) {
    const Hold* found = nullptr;
    if (ResultCode code = OpenHoldFor(c, caller, books.timestamp, &found);
        code != ResultCode::kOk) {
        return Refused(code);
    }
    Hold& hold = holds_[found->id - 1];
    deadlines.Remove(ExpiryOf(hold));
    Release(hold, HoldStatus::kCancelled, books);
    Outcome outcome;
    outcome.hold = hold;
    return outcome;
}

void Holds::Expire(uint64_t id, wallets::Books books) {
    if (id == 0 || id > holds_.size() || !holds_[id - 1].open()) return;
    Release(holds_[id - 1], HoldStatus::kExpired, books);
}

void Holds::Release(Hold& hold, HoldStatus status, wallets::Books books) {
    const u128 remaining = hold.remaining();
    const u128 wallet = WalletAccountId(hold.user_id, hold.currency);
    const u128 merchant_account = MerchantAccountId(hold.merchant_id, hold.currency);
    Entry entry(books.ledger, HoldTxn(hold));
    entry.VoidLeg(HoldTransferId(hold.id, hold.transfers),
                  HoldTransferId(hold.id, hold.transfers - 1), wallet, merchant_account, remaining,
                  kCodeHold, LegKind::kHoldVoid, hold.merchant_id);
    const ResultCode code = entry.Check();
    BURSAR_ASSERT(code == ResultCode::kOk);
    entry.Commit(hold.id);
    hold.transfers += 1;
    hold.released += remaining;
    hold.status = status;
    hold.closed_at = books.timestamp;
    --open_;
}

const Hold* Holds::Find(uint64_t id) const {
    return id == 0 || id > holds_.size() ? nullptr : &holds_[id - 1];
}

std::vector<const Hold*> Holds::List(const HoldFilter& filter, bool* more) const {
    std::vector<const Hold*> page;
    uint64_t id = std::min<uint64_t>(holds_.size(), filter.before_id.value_or(UINT64_MAX) - 1);
    for (; id >= 1 && page.size() <= filter.size; --id) {
        const Hold& hold = holds_[id - 1];
        if (filter.user_id && hold.user_id != *filter.user_id) continue;
        if (filter.merchant_id && hold.merchant_id != *filter.merchant_id) continue;
        if (filter.status && hold.status != *filter.status) continue;
        page.push_back(&hold);
    }
    *more = page.size() > filter.size;
    if (*more) page.resize(filter.size);
    return page;
}

// The section: u64 count, then each hold in id order as an outcome holds it (WriteHold).
void Holds::Save(std::string* out) const {
    BinaryWriter w(out);
    w.U64(holds_.size());
    for (const Hold& hold : holds_) WriteHold(w, hold);
}

bool Holds::Load(std::string_view section, DeadlineQueue& deadlines) {
    BinaryReader r(section);
    uint64_t count = 0;
    if (!r.U64(&count) || count > r.remaining()) return false;
    holds_.clear();
    references_.clear();
    open_ = 0;
    heap_bytes_ = 0;
    holds_.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        Hold hold;
        if (!ReadHold(r, &hold) || hold.id != i + 1) return false;
        if (!hold.reference.empty()) references_[{hold.merchant_id, hold.reference}] = hold.id;
        if (hold.open()) {
            deadlines.Add(ExpiryOf(hold));
            ++open_;
        }
        heap_bytes_ += HeapBytes(hold);
        holds_.push_back(std::move(hold));
    }
    return r.done();
}

Status Holds::CheckInvariants(const ledger::StateMachine& ledger) const {
    auto corrupt = [](uint64_t id, const std::string& what) {
        return Status(StatusCode::kCorruption, "holds: pa_" + std::to_string(id) + ": " + what);
    };
    std::map<u128, u128> frozen;           // wallet → open holds' remaining
    std::map<uint32_t, u128> by_currency;  // currency → the same
    uint64_t open = 0, references = 0;
    for (const Hold& hold : holds_) {
        if (hold.amount == 0 || hold.transfers == 0) return corrupt(hold.id, "empty");
        if (hold.captures.size() > kCapturesPerHoldMax) return corrupt(hold.id, "captures");
        if (!hold.reference.empty()) ++references;
        const ledger::Transfer* last =
            ledger.FindTransfer(HoldTransferId(hold.id, hold.transfers - 1));
        if (last == nullptr || ledger.FindTransfer(HoldTransferId(hold.id, hold.transfers))) {
            return corrupt(hold.id, "its transfers are not the ledger's");
        }
        if (hold.open()) {
            ++open;
            if (hold.released != 0 || hold.captured >= hold.amount || hold.closed_at != 0) {
                return corrupt(hold.id, "open with its amount used");
            }
            if (!(last->flags & ledger::transfer_flags::kPending) ||
                last->amount != hold.remaining()) {
                return corrupt(hold.id, "the reserve is not what is left");
            }
            frozen[WalletAccountId(hold.user_id, hold.currency)] += hold.remaining();
            by_currency[hold.currency] += hold.remaining();
        } else if (hold.captured + hold.released != hold.amount || hold.closed_at == 0) {
            return corrupt(hold.id, "closed with captured + released != authorized");
        }
    }
    if (open != open_ || references != references_.size()) {
        return Status(StatusCode::kCorruption, "holds: counts differ");
    }
    for (const auto& [wallet, amount] : frozen) {
        const ledger::Account* account = ledger.FindAccount(wallet);
        if (account == nullptr || account->debits_pending != amount) {
            return Status(StatusCode::kCorruption, "holds: a wallet's frozen amount differs");
        }
    }
    for (const ledger::CurrencyInfo& currency : ledger::Currencies()) {
        const int index = ledger::CurrencyIndex(currency.id);
        if (index < 0) continue;
        auto it = by_currency.find(currency.id);
        const u128 expected = it == by_currency.end() ? 0 : it->second;
        if (ledger.totals(index).debits_pending != expected) {
            return Status(StatusCode::kCorruption, "holds: pending debits in " +
                                                       std::string(currency.code) +
                                                       " are not the open holds'");
        }
    }
    return Status::Ok();
}

// Called for every batch (the engine's memory bound): constant time, the heap bytes kept as they
// change.
uint64_t Holds::MemoryBytes() const {
    const uint64_t bytes = holds_.capacity() * sizeof(Hold) + heap_bytes_;
    // A map node: three pointers and a color, the key (id, string) and the value.
    constexpr uint64_t kNodeBytes = 32 + sizeof(std::pair<uint64_t, std::string>) + 8;
    return bytes + references_.size() * kNodeBytes;
}

}  // namespace bursar::payments::holds
