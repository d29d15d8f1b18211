#include "payments/charges/charges.h"

#include "payments/entry.h"
#include "payments/limits/limits.h"

namespace bursar::payments::charges {

u128 Fee(u128 amount, uint32_t basis_points) { return (amount * basis_points + 5000) / 10000; }

// Checks, in order: wallets::CheckPayer, the merchant exists, a single-currency tier is paid in
// the merchant's currency (kTierCurrencyNotPermitted), the limits (limits::CheckPayment:
// user single and daily, merchant single, daily and monthly, once configured), the payer's wallet
// exists (kInsufficientFunds), then the entry's (kInsufficientFunds, kBalanceOverflow).
Outcome Pay(const Command& c, const Caller& caller, const users::Users& users,
            const merchants::Merchants& merchants, risk::Limits& limits, wallets::Books books) {
    if (ResultCode code = wallets::CheckPayer(c, caller, users); code != ResultCode::kOk) {
        return Refused(code);
    }
    // v1 took the id here, before the checks below, and kept it on a refusal.
    const uint64_t v1_id = c.version == 1 ? books.next_txn_id++ : 0;
    const merchants::Merchant* merchant = merchants.Find(c.merchant_id);
    if (merchant == nullptr) return Refused(ResultCode::kMerchantNotFound);
    // A single-currency tier (starter) is paid in the merchant's own currency only (merchants
    // created before they had a currency have none: no restriction).
    if (merchant->currency != 0 && !GetTier(merchant->tier).multi_currency &&
        c.currency != merchant->currency) {
        return Refused(ResultCode::kTierCurrencyNotPermitted);
    }
    if (ResultCode code = limits::CheckPayment(limits, merchants, c.user_id, c.merchant_id,
                                               c.currency, c.amount, books.timestamp);
        code != ResultCode::kOk) {
        return Refused(code);
    }
    Txn txn;
    txn.type = TxnType::kPay;
    txn.user_id = c.user_id;
    txn.merchant_id = c.merchant_id;
    txn.amount = c.amount;
    txn.fee = Fee(c.amount, GetTier(merchant->tier).fee_basis_points);
    txn.currency = c.currency;
    txn.created_at = books.timestamp;
    const u128 wallet = WalletAccountId(c.user_id, c.currency);
    const u128 merchant_account = MerchantAccountId(c.merchant_id, c.currency);
    Entry entry(books.ledger, txn);
    entry.NeedAccount(merchant_account, ledger::AccountKind::kMerchant, 0);
    entry.NeedAccount(FeeAccountId(c.currency), ledger::AccountKind::kFeeRevenue, 0);
    entry.Leg(wallet, merchant_account, c.amount - txn.fee, kCodePayNet, LegKind::kNet,
              c.merchant_id);
    if (txn.fee > 0) {
        entry.Leg(wallet, FeeAccountId(c.currency), txn.fee, kCodeFee, LegKind::kFee,
                  c.merchant_id);
    }
    uint64_t id = v1_id;
    if (c.version == 1) {
        const ResultCode code = entry.CommitV1(v1_id, wallet);
        if (code != ResultCode::kOk) return Refused(code);
    } else {
        if (books.ledger.FindAccount(wallet) == nullptr) {
            return Refused(ResultCode::kInsufficientFunds);
        }
        if (ResultCode code = entry.Check(); code != ResultCode::kOk) return Refused(code);
        id = books.next_txn_id++;
        const uint64_t paid_at = entry.Commit(id);
        limits::RecordPayment(limits, paid_at, c.user_id, c.merchant_id, c.currency, c.amount);
    }
    txn.id = id;
    Outcome outcome;
    outcome.txn = txn;
    return outcome;
}

}  // namespace bursar::payments::charges
