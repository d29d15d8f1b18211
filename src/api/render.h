#pragma once

// Rendering: the one place where the domain's typed outcomes and objects become HTTP status and
// JSON. One renderer per object; errors through the one table of result codes
// (payments/result_codes.h → payments/error_codes.h).

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/http.h"
#include "payments/command.h"
#include "payments/merchants/merchants.h"
#include "payments/merchants/tier_recommendation.h"
#include "payments/outcome.h"
#include "payments/users/users.h"
#include "projection/read_model.h"
#include "risk/limits.h"

namespace bursar::ledger {
class StateMachine;
}

namespace bursar::api {

// The answer to `command` whose outcome is `outcome`. `new_secret` is the session token or API
// key the API made for a login or a merchant: shown in the first answer only. An idempotent
// replay of either shows null in its place (docs/api.md, "Secrets and replays").
HttpResponse RenderOutcome(const payments::Command& command, const payments::Outcome& outcome,
                           std::string_view new_secret);
// A refusal: {"error":{"code","message","param"}} with the result code's error.
HttpResponse RenderRefusal(payments::ResultCode code);

// A merchant with its currency, the limits in force (major units), what the current day and
// month used in `usage_currency` (minor units), and its tier history (GET /v1/merchants/{id}).
std::string MerchantJson(uint64_t merchant_id, const payments::merchants::Merchant& merchant,
                         const risk::MerchantLimits& limits, uint32_t usage_currency,
                         const std::vector<risk::WindowFigures>& usage);
// GET /v1/merchants/{id}/tier-recommendation: {merchant_id, currency, days, current, action,
// recommended, peak_day_minor, month_minor, peak_day_percent, month_percent, fee_saved_minor,
// reason}.
std::string TierRecommendationJson(uint64_t merchant_id, std::string_view currency,
                                   const payments::merchants::TierRecommendation& r);
// The tier table (GET /v1/tiers).
std::string TiersJson();
std::string UserJson(uint64_t user_id, const payments::users::User& user);
std::string WalletJson(const ledger::StateMachine& ledger, uint64_t user_id);
// A refund: its transaction and why.
struct RefundView {
    payments::Txn txn;
    payments::RefundReason reason = payments::RefundReason::kNone;
};
// A payment with what its refunds gave back, oldest first.
struct PaymentView {
    payments::Txn txn;
    u128 refunded = 0;
    std::vector<RefundView> refunds;
};
// A payment as GET /v1/payments/{id} shows it.
std::string PaymentJson(const PaymentView& payment);
// A refund as POST /v1/payments/{id}/refunds and GET /v1/refunds/{id} show it.
std::string RefundJson(const RefundView& refund);
// Several payments, as GET /v1/payments?ids= shows them: {items: [payment...], not_found: [id...]}.
std::string PaymentsJson(const std::vector<PaymentView>& found,
                         const std::vector<uint64_t>& missing);
// A wallet's balances at a time (GET /v1/wallets/{userId}?at=): {user_id, at, balances:
// [{currency, balance_minor}]}.
std::string WalletAtJson(uint64_t user_id, uint64_t at_seconds,
                         const std::vector<std::pair<uint32_t, int64_t>>& balances);
// A page of a wallet's history: {items: [{txn_id, type, amount_minor, fee_minor, currency,
// change_minor, balance_after_minor, user_id, merchant_id, to_user_id, created_at}],
// nextCursor}.
std::string WalletHistoryJson(const std::vector<projection::HistoryRow>& rows, bool more);
// The names of users and merchants by id, as the state machine holds them (a name can change:
// the read model keeps ids only). An unknown id has no entry.
struct TxnNames {
    std::unordered_map<uint64_t, std::string> users;
    std::unordered_map<uint64_t, std::string> merchants;
};
// A page of GET /v1/ledger/transactions: the read model's rows with the names the engine holds.
std::string TransactionPageJson(const std::vector<projection::TransactionRow>& rows, bool more,
                                const TxnNames& names);
// GET /v1/merchants/{id}/limits, GET /v1/users/{id}/limits: {<owner_key>: id, currency, limits:
// [{window, limit_minor, used_minor, remaining_minor}], overrides: {name: major units | null}}.
std::string LimitsJson(std::string_view owner_key, std::string_view owner_id, uint32_t currency,
                       const std::vector<risk::WindowFigures>& windows,
                       std::initializer_list<std::pair<std::string_view, uint64_t>> overrides);
// A pre-authorization as GET /v1/preauths/{id} shows it (and POST /v1/preauths answers it).
std::string HoldJson(const payments::Hold& hold);
// A page of GET /v1/preauths: {items: [preauth...], nextCursor}.
std::string HoldsPageJson(const std::vector<const payments::Hold*>& holds, bool more);
// Any transaction, as GET /v1/ledger/transactions/{id} shows it.
std::string TransactionJson(const payments::Txn& txn);

}  // namespace bursar::api
