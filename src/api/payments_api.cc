// The payments' endpoints: pay a merchant, read a payment, refund one, read a refund.

#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"

namespace bursar::api {

using payments::Command;
using payments::CommandType;
using payments::ErrorCode;

void PlatformApi::AddPaymentRoutes(Router& router) {
    router.Add("POST", "/v1/payments", Bind(&PlatformApi::Pay));
    router.Add("GET", "/v1/payments/{id}", Bind(&PlatformApi::GetPayment));
    router.Add("GET", "/v1/payments", Bind(&PlatformApi::GetPayments));
    router.Add("POST", "/v1/payments/{id}/refunds", Bind(&PlatformApi::Refund));
    router.Add("GET", "/v1/refunds/{id}", Bind(&PlatformApi::GetRefund));
}

namespace {

RefundView RefundOf(const payments::Platform& p, const payments::Txn& txn) {
    const payments::refunds::RefundRecord* record = p.refunds().Find(txn.id);
    return RefundView{txn, record == nullptr ? payments::RefundReason::kNone : record->reason};
}

// A payment with its refunds, as the state machine holds them.
PaymentView PaymentOf(const payments::Platform& p, const payments::Txn& txn) {
    PaymentView view{txn, 0, {}};
    if (const payments::refunds::PaymentRefunds* refunds = p.refunds().OfPayment(txn.id)) {
        view.refunded = refunds->refunded;
        for (uint64_t id : refunds->refund_ids) {
            if (std::optional<payments::Txn> refund = p.FindTxn(id)) {
                view.refunds.push_back(RefundOf(p, *refund));
            }
        }
    }
    return view;
}

}  // namespace

void PlatformApi::Pay(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body, kPayBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    std::optional<uint64_t> user = payments::ParseUserId(*fields->String("user_id"));
    if (!user)
        return Refuse(request, FromError(ErrorCode::kInvalidRequest, "Not a user id.", "user_id"),
                      std::move(responder));
    std::optional<uint64_t> merchant = payments::ParseMerchantId(*fields->String("merchant_id"));
    if (!merchant) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "Not a merchant id.", "merchant_id"),
                      std::move(responder));
    }
    auto currency = CurrencyOf(*fields, options_.default_currency);
    if (!currency) return Refuse(request, FromApiError(currency.error()), std::move(responder));
    Command command;
    command.type = CommandType::kPay;
    command.user_id = *user;
    command.merchant_id = *merchant;
    command.amount = *fields->Amount("amount_minor");
    command.currency = *currency;
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetPayment(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseTxnId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("payment", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            std::optional<payments::Txn> txn = p.FindTxn(id);
            // Another caller's payment is answered as missing: existence must not leak.
            if (!txn || txn->type != payments::TxnType::kPay ||
                !payments::MaySeeTxn(*caller, *txn)) {
                return FromError(ErrorCode::kNotFound, "No such payment.");
            }
            return Json(200, PaymentJson(PaymentOf(p, *txn)));
        },
        std::move(responder));
}

// GET /v1/payments?ids=txn_1,txn_2,... (SPEC.md P12): the payments the caller may see, in the
// order asked, and the others listed as not found (a payment of another caller is not found:
// existence never leaks).
void PlatformApi::GetPayments(HttpRequest&& request, const PathParams&, Responder responder) {
    std::optional<std::string> list = request.QueryParam("ids");
    if (!list || list->empty()) {
        return Refuse(request, FromError(ErrorCode::kInvalidRequest, "ids is required.", "ids"),
                      std::move(responder));
    }
    std::vector<uint64_t> ids;
    std::string_view rest = *list;
    while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string_view text = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        std::optional<uint64_t> id = payments::ParseTxnId(text);
        if (!id) return Refuse(request, NotAnId("payment", "ids"), std::move(responder));
        if (ids.size() == kPaymentIdsMax) {
            return Refuse(request,
                          FromError(ErrorCode::kInvalidRequest,
                                    "At most " + std::to_string(kPaymentIdsMax) + " ids.", "ids"),
                          std::move(responder));
        }
        ids.push_back(*id);
    }
    Query(
        [principal = PrincipalOf(request), ids = std::move(ids)](const payments::Platform& p,
                                                                 uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            std::vector<PaymentView> found;
            std::vector<uint64_t> missing;
            for (uint64_t id : ids) {
                std::optional<payments::Txn> txn = p.FindTxn(id);
                if (txn && txn->type == payments::TxnType::kPay &&
                    payments::MaySeeTxn(*caller, *txn)) {
                    found.push_back(PaymentOf(p, *txn));
                } else {
                    missing.push_back(id);
                }
            }
            return Json(200, PaymentsJson(found, missing));
        },
        std::move(responder));
}

// POST /v1/payments/{id}/refunds (SPEC.md P7): all that is left by default, or amount_minor. An
// empty body is an empty object.
void PlatformApi::Refund(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseTxnId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("payment", "id"), std::move(responder));
    auto fields = JsonFields::Parse(request.body.empty() ? std::string_view("{}") : request.body,
                                    kRefundBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    Command command;
    command.type = CommandType::kRefund;
    command.txn_id = *id;
    command.amount = fields->Amount("amount_minor").value_or(0);
    if (std::optional<std::string> reason = fields->String("reason")) {
        std::optional<payments::RefundReason> known = payments::FindRefundReason(*reason);
        if (!known) {
            return Refuse(request, RenderRefusal(payments::ResultCode::kRefundReasonInvalid),
                          std::move(responder));
        }
        command.refund_reason = *known;
    }
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

// GET /v1/refunds/{id}: the admin, the merchant refunding and the user refunded see it; to others
// it does not exist.
void PlatformApi::GetRefund(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseTxnId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("refund", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            std::optional<payments::Txn> txn = p.FindTxn(id);
            if (!txn || txn->type != payments::TxnType::kRefund ||
                !payments::MaySeeTxn(*caller, *txn)) {
                return FromError(ErrorCode::kNotFound, "No such refund.");
            }
            return Json(200, RefundJson(RefundOf(p, *txn)));
        },
        std::move(responder));
}

}  // namespace bursar::api
