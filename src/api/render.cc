#include "api/render.h"

#include "api/endpoint_helpers.h"
#include "base/json_writer.h"
#include "ledger/currency.h"
#include "ledger/state_machine.h"
#include "payments/accounts.h"
#include "payments/ids.h"

namespace bursar::api {
namespace {

using payments::CommandType;

// `key`: the id formatted, or null when it is 0 (none).
void WriteIdOrNull(JsonWriter& json, std::string_view key, uint64_t id,
                   std::string (*format)(uint64_t)) {
    json.Key(key);
    if (id != 0) {
        json.String(format(id));
    } else {
        json.Null();
    }
}

// `key`: the name of `id`, or null when `id` is 0 (none) or has no name.
void WriteNameOrNull(JsonWriter& json, std::string_view key,
                     const std::unordered_map<uint64_t, std::string>& names, uint64_t id) {
    json.Key(key);
    const auto found = names.find(id);
    if (id == 0 || found == names.end()) {
        json.Null();
    } else {
        json.String(found->second);
    }
}

// A keyset page's "nextCursor": the last row's txn id when more rows follow, else null.
void WriteNextCursor(JsonWriter& json, bool more, std::optional<uint64_t> last_txn_id) {
    json.Key("nextCursor");
    if (more && last_txn_id) {
        json.String(payments::FormatTxnId(*last_txn_id));
    } else {
        json.Null();
    }
}

// A new secret is shown in the first answer only: a replay shows null (docs/api.md).
void WriteSecret(JsonWriter& json, std::string_view key, const payments::Outcome& outcome,
                 std::string_view new_secret) {
    json.Key(key);
    if (outcome.replayed || new_secret.empty()) {
        json.Null();
    } else {
        json.String(new_secret);
    }
}

std::string_view CurrencyCode(uint32_t currency) {
    const ledger::CurrencyInfo* info = ledger::FindCurrency(currency);
    return info == nullptr ? std::string_view("???") : info->code;
}

// What a money-moving command answers: the transaction, and the payer's balance after a top-up or
// a transfer.
std::string MovedJson(const payments::Txn& txn, u128 balance) {
    JsonWriter json;
    json.BeginObject();
    json.Key("txn_id").String(payments::FormatTxnId(txn.id));
    json.Key("status").String("succeeded");
    json.Key("type").String(payments::TxnTypeName(txn.type));
    json.Key("amount_minor").Number(txn.amount);
    if (txn.type == payments::TxnType::kPay) json.Key("fee_minor").Number(txn.fee);
    json.Key("currency").String(CurrencyCode(txn.currency));
    if (txn.type != payments::TxnType::kPay) json.Key("balance_minor").Number(balance);
    json.EndObject();
    return json.Take();
}

void WriteRefund(JsonWriter& json, const payments::Txn& refund, payments::RefundReason reason);

// "overrides": {name: major units, or null where the default is in force}.
void WriteOverrides(JsonWriter& json,
                    std::initializer_list<std::pair<std::string_view, uint64_t>> overrides) {
    json.Key("overrides").BeginObject();
    for (const auto& [name, value] : overrides) {
        json.Key(name);
        if (value == 0) {
            json.Null();
        } else {
            json.Number(value);
        }
    }
    json.EndObject();
}

// A pre-authorization: {preauth_id, status, user_id, merchant_id, amount_minor, captured_minor,
// released_minor, remaining_minor, currency, reference, created_at, expires_at, closed_at,
// captures: [txn ids]}.
void WriteHold(JsonWriter& json, const payments::Hold& hold) {
    json.BeginObject();
    json.Key("preauth_id").String(payments::FormatHoldId(hold.id));
    json.Key("status").String(payments::HoldStatusName(hold.status));
    json.Key("user_id").String(payments::FormatUserId(hold.user_id));
    json.Key("merchant_id").String(payments::FormatMerchantId(hold.merchant_id));
    json.Key("amount_minor").Number(hold.amount);
    json.Key("captured_minor").Number(hold.captured);
    json.Key("released_minor").Number(hold.released);
    json.Key("remaining_minor").Number(hold.remaining());
    json.Key("currency").String(CurrencyCode(hold.currency));
    json.Key("reference");
    if (hold.reference.empty()) {
        json.Null();
    } else {
        json.String(hold.reference);
    }
    json.Key("created_at").Number(hold.created_at / 1'000'000'000);
    json.Key("expires_at").Number(hold.expires_at / 1'000'000'000);
    json.Key("closed_at");
    if (hold.closed_at == 0) {
        json.Null();
    } else {
        json.Number(hold.closed_at / 1'000'000'000);
    }
    json.Key("captures").BeginArray();
    for (uint64_t capture : hold.captures) json.String(payments::FormatTxnId(capture));
    json.EndArray();
    json.EndObject();
}

std::string SuccessBody(const payments::Command& c, const payments::Outcome& o,
                        std::string_view new_secret) {
    JsonWriter json;
    switch (c.type) {
        case CommandType::kRegisterUser:
            json.BeginObject();
            json.Key("user_id").String(payments::FormatUserId(o.object_id));
            json.Key("email").String(o.email);
            json.EndObject();
            return json.Take();
        case CommandType::kUpdateUser:
            return UserJson(o.object_id, payments::users::User{o.email, c.name, {}, o.time});
        case CommandType::kCreateSession:
            json.BeginObject();
            WriteSecret(json, "token", o, new_secret);
            json.Key("user_id").String(payments::FormatUserId(o.object_id));
            json.Key("expires_at").Number(o.time / 1'000'000'000);
            json.EndObject();
            return json.Take();
        case CommandType::kRevokeSession:
            return "{\"revoked\":true}";
        case CommandType::kCreateMerchant:
            json.BeginObject();
            json.Key("merchant_id").String(payments::FormatMerchantId(o.object_id));
            json.Key("name").String(c.name);
            json.Key("tier").String(payments::GetTier(c.tier).name);
            // No currency here: an answer stored before merchants had one is answered again as
            // it was (GET /v1/merchants/{id} shows it).
            WriteSecret(json, "api_key", o, new_secret);
            json.EndObject();
            return json.Take();
        case CommandType::kChangeTier:
            json.BeginObject();
            json.Key("merchant_id").String(payments::FormatMerchantId(o.object_id));
            json.Key("tier").String(payments::GetTier(c.tier).name);
            json.Key("changed_at").Number(o.time / 1'000'000'000);
            json.EndObject();
            return json.Take();
        case CommandType::kTopup:
        case CommandType::kTransfer:
        case CommandType::kPay:
            if (!o.txn) return "{}";
            return MovedJson(*o.txn, o.balance);
        case CommandType::kRefund:
            if (!o.txn) return "{}";
            WriteRefund(json, *o.txn, c.refund_reason);
            return json.Take();
        case CommandType::kAuthorize:
        case CommandType::kCancelHold:
            if (!o.hold) return "{}";
            WriteHold(json, *o.hold);
            return json.Take();
        case CommandType::kConfigureRisk:
            return "{}";
        case CommandType::kSetMerchantLimits:
            json.BeginObject();
            json.Key("merchant_id").String(payments::FormatMerchantId(c.merchant_id));
            WriteOverrides(json, {{"single_payment", c.limit_single},
                                  {"daily", c.limit_daily},
                                  {"monthly", c.limit_monthly}});
            json.EndObject();
            return json.Take();
        case CommandType::kSetUserLimits:
            json.BeginObject();
            json.Key("user_id").String(payments::FormatUserId(c.user_id));
            WriteOverrides(json, {{"single_payment", c.limit_single}, {"daily", c.limit_daily}});
            json.EndObject();
            return json.Take();
        case CommandType::kCapture:
            if (!o.hold || !o.txn) return "{}";
            json.BeginObject().Key("preauth");
            WriteHold(json, *o.hold);
            json.Key("capture").BeginObject();
            json.Key("txn_id").String(payments::FormatTxnId(o.txn->id));
            json.Key("amount_minor").Number(o.txn->amount);
            json.Key("fee_minor").Number(o.txn->fee);
            json.Key("net_minor").Number(o.txn->amount - o.txn->fee);
            json.Key("currency").String(CurrencyCode(o.txn->currency));
            json.Key("created_at").Number(o.txn->created_at / 1'000'000'000);
            json.EndObject().EndObject();
            return json.Take();
    }
    return "{}";
}

}  // namespace

HttpResponse RenderRefusal(payments::ResultCode code) {
    const payments::ResultError& error = payments::ErrorOf(code);
    return Json(payments::GetError(error.error).status,
                payments::ErrorBody(error.error, error.message, error.param));
}

HttpResponse RenderOutcome(const payments::Command& command, const payments::Outcome& outcome,
                           std::string_view new_secret) {
    HttpResponse response;
    if (outcome.legacy) {
        response = Json(outcome.legacy->status, outcome.legacy->body);
    } else if (!outcome.ok()) {
        response = RenderRefusal(outcome.code);
    } else {
        response = Json(payments::HttpStatusOf(command.type, outcome),
                        SuccessBody(command, outcome, new_secret));
    }
    if (outcome.replayed) response.headers.emplace_back("Idempotent-Replayed", "true");
    return response;
}

std::string MerchantJson(uint64_t merchant_id, const payments::merchants::Merchant& merchant,
                         const risk::MerchantLimits& limits, uint32_t usage_currency,
                         const std::vector<risk::WindowFigures>& usage) {
    const payments::TierInfo& tier = payments::GetTier(merchant.tier);
    JsonWriter json;
    json.BeginObject();
    json.Key("merchant_id").String(payments::FormatMerchantId(merchant_id));
    json.Key("name").String(merchant.name);
    json.Key("tier").String(tier.name);
    json.Key("currency");
    if (merchant.currency == 0) {
        json.Null();
    } else {
        json.String(CurrencyCode(merchant.currency));
    }
    json.Key("fee_rate_basis_points").Number(uint64_t{tier.fee_basis_points});
    json.Key("limits").BeginObject();
    json.Key("daily").Number(limits.daily);
    json.Key("monthly").Number(limits.monthly);
    json.Key("single_payment").Number(limits.single);
    json.EndObject();
    json.Key("usage").BeginObject();
    json.Key("currency").String(CurrencyCode(usage_currency));
    for (const risk::WindowFigures& window : usage) {
        if (window.name == "single") continue;
        json.Key(window.name == "daily" ? "daily_used_minor" : "monthly_used_minor")
            .Number(window.used);
    }
    json.EndObject();
    json.Key("created_at").Number(merchant.created_at / 1'000'000'000);
    json.Key("tier_history").BeginArray();
    for (const payments::merchants::TierChange& change : merchant.tier_history) {
        json.BeginObject();
        json.Key("at").Number(change.at / 1'000'000'000);
        json.Key("from").String(payments::GetTier(change.from).name);
        json.Key("to").String(payments::GetTier(change.to).name);
        json.Key("reason").String(change.reason);
        json.Key("actor").String("admin");
        json.EndObject();
    }
    json.EndArray().EndObject();
    return json.Take();
}

std::string TierRecommendationJson(uint64_t merchant_id, std::string_view currency,
                                   const payments::merchants::TierRecommendation& r) {
    JsonWriter json;
    json.BeginObject();
    json.Key("merchant_id").String(payments::FormatMerchantId(merchant_id));
    json.Key("currency").String(currency);
    json.Key("days").Number(uint64_t{payments::merchants::kRecommendationDays});
    json.Key("current").String(payments::GetTier(r.current).name);
    json.Key("action").String(payments::merchants::ActionName(r.action));
    json.Key("recommended").String(payments::GetTier(r.recommended).name);
    json.Key("peak_day_minor").Number(r.peak_day_minor);
    json.Key("month_minor").Number(r.month_minor);
    json.Key("peak_day_percent").Number(uint64_t{r.peak_day_percent});
    json.Key("month_percent").Number(uint64_t{r.month_percent});
    json.Key("fee_saved_minor").Signed(r.fee_saved_minor);
    json.Key("reason").String(r.reason);
    json.EndObject();
    return json.Take();
}

std::string TiersJson() {
    JsonWriter json;
    json.BeginObject().Key("tiers").BeginArray();
    for (const payments::TierInfo& tier : payments::Tiers()) {
        json.BeginObject();
        json.Key("name").String(tier.name);
        json.Key("daily_limit").Number(tier.daily_limit_major);
        json.Key("monthly_limit").Number(tier.monthly_limit_major);
        json.Key("single_payment_limit").Number(tier.single_payment_limit_major);
        json.Key("fee_rate_basis_points").Number(uint64_t{tier.fee_basis_points});
        json.Key("settlement_cycle").String(tier.settlement_cycle);
        json.Key("multi_currency").Bool(tier.multi_currency);
        json.Key("pre_authorization").Bool(tier.pre_authorization);
        json.Key("api_requests_per_minute").Number(uint64_t{tier.api_requests_per_minute});
        json.Key("support_response_hours").Number(uint64_t{tier.support_response_hours});
        json.Key("refund_fee_policy").String(payments::RefundFeePolicyName(tier.refund_fee_policy));
        json.EndObject();
    }
    json.EndArray().EndObject();
    return json.Take();
}

std::string UserJson(uint64_t user_id, const payments::users::User& user) {
    JsonWriter json;
    json.BeginObject();
    json.Key("user_id").String(payments::FormatUserId(user_id));
    json.Key("email").String(user.email);
    json.Key("name").String(user.name);
    json.Key("created_at").Number(user.created_at / 1'000'000'000);
    json.EndObject();
    return json.Take();
}

std::string WalletJson(const ledger::StateMachine& ledger, uint64_t user_id) {
    JsonWriter json;
    json.BeginObject().Key("user_id").String(payments::FormatUserId(user_id));
    json.Key("balances").BeginArray();
    for (const ledger::CurrencyInfo& currency : ledger::Currencies()) {
        const ledger::Account* a =
            ledger.FindAccount(payments::WalletAccountId(user_id, currency.id));
        if (a == nullptr) continue;
        const u128 balance = a->credits_posted - a->debits_posted;
        json.BeginObject();
        json.Key("currency").String(currency.code);
        json.Key("balance_minor").Number(balance);
        json.Key("available_minor").Number(balance - a->debits_pending);
        json.Key("frozen_minor").Number(a->debits_pending);
        json.EndObject();
    }
    json.EndArray().EndObject();
    return json.Take();
}

namespace {

void WriteRefund(JsonWriter& json, const payments::Txn& refund, payments::RefundReason reason) {
    json.BeginObject();
    json.Key("refund_id").String(payments::FormatTxnId(refund.id));
    json.Key("payment_id").String(payments::FormatTxnId(refund.payment_id));
    json.Key("status").String("succeeded");
    json.Key("amount_minor").Number(refund.amount);
    json.Key("fee_returned_minor").Number(refund.fee);
    json.Key("net_minor").Number(refund.amount - refund.fee);
    json.Key("currency").String(CurrencyCode(refund.currency));
    json.Key("reason");
    if (reason == payments::RefundReason::kNone) {
        json.Null();
    } else {
        json.String(payments::RefundReasonName(reason));
    }
    json.Key("user_id").String(payments::FormatUserId(refund.user_id));
    json.Key("merchant_id").String(payments::FormatMerchantId(refund.merchant_id));
    json.Key("created_at").Number(refund.created_at / 1'000'000'000);
    json.EndObject();
}

void WritePayment(JsonWriter& json, const PaymentView& payment) {
    const payments::Txn& txn = payment.txn;
    json.BeginObject();
    json.Key("txn_id").String(payments::FormatTxnId(txn.id));
    json.Key("status").String("succeeded");
    json.Key("amount_minor").Number(txn.amount);
    json.Key("fee_minor").Number(txn.fee);
    json.Key("net_minor").Number(txn.amount - txn.fee);
    json.Key("currency").String(CurrencyCode(txn.currency));
    json.Key("user_id").String(payments::FormatUserId(txn.user_id));
    json.Key("merchant_id").String(payments::FormatMerchantId(txn.merchant_id));
    json.Key("created_at").Number(txn.created_at / 1'000'000'000);
    json.Key("amount_refunded_minor").Number(payment.refunded);
    json.Key("refunds").BeginArray();
    for (const RefundView& refund : payment.refunds) WriteRefund(json, refund.txn, refund.reason);
    json.EndArray();
    json.EndObject();
}

}  // namespace

std::string PaymentJson(const PaymentView& payment) {
    JsonWriter json;
    WritePayment(json, payment);
    return json.Take();
}

std::string RefundJson(const RefundView& refund) {
    JsonWriter json;
    WriteRefund(json, refund.txn, refund.reason);
    return json.Take();
}

std::string PaymentsJson(const std::vector<PaymentView>& found,
                         const std::vector<uint64_t>& missing) {
    JsonWriter json;
    json.BeginObject().Key("items").BeginArray();
    for (const PaymentView& payment : found) WritePayment(json, payment);
    json.EndArray().Key("not_found").BeginArray();
    for (uint64_t id : missing) json.String(payments::FormatTxnId(id));
    json.EndArray().EndObject();
    return json.Take();
}

std::string WalletAtJson(uint64_t user_id, uint64_t at_seconds,
                         const std::vector<std::pair<uint32_t, int64_t>>& balances) {
    JsonWriter json;
    json.BeginObject().Key("user_id").String(payments::FormatUserId(user_id));
    json.Key("at").Number(at_seconds);
    json.Key("balances").BeginArray();
    for (const auto& [currency, balance] : balances) {
        json.BeginObject();
        json.Key("currency").String(CurrencyCode(currency));
        json.Key("balance_minor").Signed(balance);
        json.EndObject();
    }
    json.EndArray().EndObject();
    return json.Take();
}

std::string WalletHistoryJson(const std::vector<projection::HistoryRow>& rows, bool more) {
    JsonWriter json;
    json.BeginObject().Key("items").BeginArray();
    for (const projection::HistoryRow& history : rows) {
        const projection::TransactionRow& row = history.row;
        json.BeginObject();
        json.Key("txn_id").String(payments::FormatTxnId(row.txn_id));
        json.Key("type").String(row.type);
        json.Key("amount_minor").Number(row.amount_minor);
        json.Key("fee_minor").Number(row.fee_minor);
        json.Key("currency").String(row.currency);
        json.Key("change_minor").Signed(history.change_minor);
        json.Key("balance_after_minor").Signed(history.balance_after_minor);
        json.Key("user_id").String(payments::FormatUserId(row.user_id));
        WriteIdOrNull(json, "merchant_id", row.merchant_id, payments::FormatMerchantId);
        WriteIdOrNull(json, "to_user_id", row.to_user_id, payments::FormatUserId);
        if (row.payment_id != 0)
            json.Key("payment_id").String(payments::FormatTxnId(row.payment_id));
        json.Key("created_at").Number(row.created_at_ns / 1'000'000'000);
        json.EndObject();
    }
    json.EndArray();
    WriteNextCursor(json, more,
                    rows.empty() ? std::nullopt : std::optional(rows.back().row.txn_id));
    json.EndObject();
    return json.Take();
}

std::string TransactionPageJson(const std::vector<projection::TransactionRow>& rows, bool more,
                                const TxnNames& names) {
    JsonWriter json;
    json.BeginObject().Key("items").BeginArray();
    for (const projection::TransactionRow& row : rows) {
        json.BeginObject();
        json.Key("txn_id").String(payments::FormatTxnId(row.txn_id));
        json.Key("type").String(row.type);
        json.Key("status").String(row.status);
        json.Key("amount_minor").Number(row.amount_minor);
        json.Key("fee_minor").Number(row.fee_minor);
        json.Key("currency").String(row.currency);
        json.Key("user_id").String(payments::FormatUserId(row.user_id));
        WriteNameOrNull(json, "user_name", names.users, row.user_id);
        WriteIdOrNull(json, "merchant_id", row.merchant_id, payments::FormatMerchantId);
        WriteNameOrNull(json, "merchant_name", names.merchants, row.merchant_id);
        WriteIdOrNull(json, "to_user_id", row.to_user_id, payments::FormatUserId);
        WriteNameOrNull(json, "to_user_name", names.users, row.to_user_id);
        if (row.payment_id != 0)
            json.Key("payment_id").String(payments::FormatTxnId(row.payment_id));
        json.Key("created_at").Number(row.created_at_ns / 1'000'000'000);
        json.Key("postings").BeginArray();
        for (const projection::Posting& posting : row.postings) {
            json.BeginObject();
            json.Key("account_id").String(posting.account);
            json.Key("direction").String(posting.direction);
            json.Key("amount_minor").Number(posting.amount_minor);
            json.EndObject();
        }
        json.EndArray().EndObject();
    }
    json.EndArray();
    WriteNextCursor(json, more, rows.empty() ? std::nullopt : std::optional(rows.back().txn_id));
    json.EndObject();
    return json.Take();
}

std::string LimitsJson(std::string_view owner_key, std::string_view owner_id, uint32_t currency,
                       const std::vector<risk::WindowFigures>& windows,
                       std::initializer_list<std::pair<std::string_view, uint64_t>> overrides) {
    JsonWriter json;
    json.BeginObject();
    json.Key(owner_key).String(owner_id);
    json.Key("currency").String(CurrencyCode(currency));
    json.Key("limits").BeginArray();
    for (const risk::WindowFigures& window : windows) {
        json.BeginObject();
        json.Key("window").String(window.name);
        json.Key("limit_minor").Number(window.limit);
        json.Key("used_minor").Number(window.used);
        json.Key("remaining_minor")
            .Number(window.limit > window.used ? window.limit - window.used : 0);
        json.EndObject();
    }
    json.EndArray();
    WriteOverrides(json, overrides);
    json.EndObject();
    return json.Take();
}

std::string HoldJson(const payments::Hold& hold) {
    JsonWriter json;
    WriteHold(json, hold);
    return json.Take();
}

std::string HoldsPageJson(const std::vector<const payments::Hold*>& holds, bool more) {
    JsonWriter json;
    json.BeginObject().Key("items").BeginArray();
    for (const payments::Hold* hold : holds) WriteHold(json, *hold);
    json.EndArray().Key("nextCursor");
    if (more && !holds.empty()) {
        json.String(payments::FormatHoldId(holds.back()->id));
    } else {
        json.Null();
    }
    json.EndObject();
    return json.Take();
}

std::string TransactionJson(const payments::Txn& txn) {
    JsonWriter json;
    json.BeginObject();
    json.Key("txn_id").String(payments::FormatTxnId(txn.id));
    json.Key("type").String(payments::TxnTypeName(txn.type));
    json.Key("status").String("succeeded");
    json.Key("amount_minor").Number(txn.amount);
    json.Key("fee_minor").Number(txn.fee);
    json.Key("currency").String(CurrencyCode(txn.currency));
    json.Key("user_id").String(payments::FormatUserId(txn.user_id));
    WriteIdOrNull(json, "merchant_id", txn.merchant_id, payments::FormatMerchantId);
    WriteIdOrNull(json, "to_user_id", txn.to_user_id, payments::FormatUserId);
    if (txn.type == payments::TxnType::kRefund) {
        json.Key("payment_id").String(payments::FormatTxnId(txn.payment_id));
    }
    json.Key("created_at").Number(txn.created_at / 1'000'000'000);
    json.EndObject();
    return json.Take();
}

}  // namespace bursar::api
