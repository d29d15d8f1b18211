#include "payments/wallets/wallets.h"

#include "ledger/currency.h"
#include "payments/entry.h"

namespace bursar::payments::wallets {
namespace {

using ledger::AccountKind;

constexpr uint16_t kWalletFlags = ledger::account_flags::kDebitsMustNotExceedCredits;

Txn NewTxn(const Command& c, TxnType type, uint64_t timestamp) {
    Txn txn;
    txn.type = type;
    txn.user_id = c.user_id;
    txn.amount = c.amount;
    txn.currency = c.currency;
    txn.created_at = timestamp;
    return txn;
}

Outcome Moved(Txn txn, uint64_t txn_id, u128 balance) {
    Outcome outcome;
    txn.id = txn_id;
    outcome.txn = txn;
    outcome.balance = balance;
    return outcome;
}

}  // namespace

ResultCode CheckPayer(const Command& c, const Caller& caller, const users::Users& users) {
    if (caller.kind == Caller::Kind::kAnonymous) return ResultCode::kUnauthenticated;
    if (!users.Exists(c.user_id)) return ResultCode::kUserNotFound;
    if (!MayActForUser(caller, c.user_id)) return ResultCode::kForbidden;
    if (c.amount == 0 || c.amount > kAmountMinorMax) return ResultCode::kAmountInvalid;
    if (ledger::FindCurrency(c.currency) == nullptr) return ResultCode::kCurrencyUnknown;
    return ResultCode::kOk;
}

u128 Balance(const ledger::StateMachine& ledger, uint64_t user_id, uint32_t currency) {
    const ledger::Account* wallet = ledger.FindAccount(WalletAccountId(user_id, currency));
    return wallet == nullptr ? 0 : wallet->credits_posted - wallet->debits_posted;
}

// Checks, in order: CheckPayer, then the entry's (kBalanceOverflow).
Outcome Topup(const Command& c, const Caller& caller, const users::Users& users, Books books) {
    if (ResultCode code = CheckPayer(c, caller, users); code != ResultCode::kOk) {
        return Refused(code);
    }
    const Txn txn = NewTxn(c, TxnType::kTopup, books.timestamp);
    const u128 wallet = WalletAccountId(c.user_id, c.currency);
    Entry entry(books.ledger, txn);
    entry.NeedAccount(ClearingAccountId(c.currency), AccountKind::kPspClearing, 0);
    entry.NeedAccount(wallet, AccountKind::kUserWallet, kWalletFlags);
    entry.Leg(ClearingAccountId(c.currency), wallet, c.amount, kCodeTopup, LegKind::kTopup, 0);
    if (c.version == 1) {  // v1 took the id before the ledger's checks, and kept it on a refusal
        const uint64_t id = books.next_txn_id++;
        const ResultCode code = entry.CommitV1(id, 0);
        if (code != ResultCode::kOk) return Refused(code);
        return Moved(txn, id, Balance(books.ledger, c.user_id, c.currency));
    }
    if (ResultCode code = entry.Check(); code != ResultCode::kOk) return Refused(code);
    const uint64_t id = books.next_txn_id++;
    entry.Commit(id);
    return Moved(txn, id, Balance(books.ledger, c.user_id, c.currency));
}

// Checks, in order: CheckPayer, the recipient exists, the recipient is not the sender, the
// sender's wallet exists (kInsufficientFunds), then the entry's (kInsufficientFunds,
// kBalanceOverflow).
Outcome Transfer(const Command& c, const Caller& caller, const users::Users& users, Books books) {
    if (ResultCode code = CheckPayer(c, caller, users); code != ResultCode::kOk) {
        return Refused(code);
    }
    // v1 took the id here, before the checks below, and kept it on a refusal.
    const uint64_t v1_id = c.version == 1 ? books.next_txn_id++ : 0;
    if (!users.Exists(c.to_user_id)) return Refused(ResultCode::kRecipientNotFound);
    if (c.to_user_id == c.user_id) return Refused(ResultCode::kSameSenderAndRecipient);
    Txn txn = NewTxn(c, TxnType::kTransfer, books.timestamp);
    txn.to_user_id = c.to_user_id;
    const u128 wallet = WalletAccountId(c.user_id, c.currency);
    const u128 recipient = WalletAccountId(c.to_user_id, c.currency);
    Entry entry(books.ledger, txn);
    entry.NeedAccount(recipient, AccountKind::kUserWallet, kWalletFlags);
    entry.Leg(wallet, recipient, c.amount, kCodeTransfer, LegKind::kTransfer, c.to_user_id);
    if (c.version == 1) {
        const ResultCode code = entry.CommitV1(v1_id, wallet);
        if (code != ResultCode::kOk) return Refused(code);
        return Moved(txn, v1_id, Balance(books.ledger, c.user_id, c.currency));
    }
    if (books.ledger.FindAccount(wallet) == nullptr) {
        return Refused(ResultCode::kInsufficientFunds);  // never received money in `currency`
    }
    if (ResultCode code = entry.Check(); code != ResultCode::kOk) return Refused(code);
    const uint64_t id = books.next_txn_id++;
    entry.Commit(id);
    return Moved(txn, id, Balance(books.ledger, c.user_id, c.currency));
}

}  // namespace bursar::payments::wallets
