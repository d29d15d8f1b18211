// The limits' endpoints (SPEC.md R1, R2): a merchant's and a user's limits, used and remaining
// per window, and the admin's overrides.

#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"
#include "ledger/currency.h"
#include "payments/limits/limits.h"

namespace bursar::api {

using payments::Command;
using payments::CommandType;
using payments::ErrorCode;

void PlatformApi::AddLimitRoutes(Router& router) {
    router.Add("PUT", "/v1/merchants/{id}/limits", Bind(&PlatformApi::SetMerchantLimits));
    router.Add("GET", "/v1/merchants/{id}/limits", Bind(&PlatformApi::GetMerchantLimits));
    router.Add("PUT", "/v1/users/{id}/limits", Bind(&PlatformApi::SetUserLimits));
    router.Add("GET", "/v1/users/{id}/limits", Bind(&PlatformApi::GetUserLimits));
}

// PUT /v1/merchants/{id}/limits {single_payment?, daily?, monthly?} (admin): major units; absent
// or 0 is the tier's.
void PlatformApi::SetMerchantLimits(HttpRequest&& request, const PathParams& params,
                                    Responder responder) {
    std::optional<uint64_t> id = payments::ParseMerchantId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("merchant", "id"), std::move(responder));
    auto fields = JsonFields::Parse(request.body, kMerchantLimitsBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    Command command;
    command.type = CommandType::kSetMerchantLimits;
    command.merchant_id = *id;
    command.limit_single = fields->Amount("single_payment").value_or(0);
    command.limit_daily = fields->Amount("daily").value_or(0);
    command.limit_monthly = fields->Amount("monthly").value_or(0);
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetMerchantLimits(HttpRequest&& request, const PathParams& params,
                                    Responder responder) {
    std::optional<uint64_t> id = payments::ParseMerchantId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("merchant", "id"), std::move(responder));
    std::optional<uint32_t> currency = QueryCurrency(request, options_.default_currency);
    if (!currency) return Refuse(request, UnknownCurrency(), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id, currency = *currency](
            const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            const bool self = caller->kind == payments::Caller::Kind::kMerchant && caller->id == id;
            if (caller->kind != payments::Caller::Kind::kAdmin && !self) {
                return FromError(ErrorCode::kForbidden);
            }
            const payments::merchants::Merchant* merchant = p.merchants().Find(id);
            if (merchant == nullptr) return FromError(ErrorCode::kNotFound, "No such merchant.");
            const risk::MerchantLimits tier = payments::limits::TierLimits(merchant->tier);
            const risk::MerchantLimits override =
                p.limits().MerchantOverride(id).value_or(risk::MerchantLimits{});
            return Json(200, LimitsJson("merchant_id", payments::FormatMerchantId(id), currency,
                                        p.limits().MerchantWindows(id, tier, currency, now),
                                        {{"single_payment", override.single},
                                         {"daily", override.daily},
                                         {"monthly", override.monthly}}));
        },
        std::move(responder));
}

// PUT /v1/users/{id}/limits {single_payment?, daily?} (admin): major units; absent or 0 is the
// configured default.
void PlatformApi::SetUserLimits(HttpRequest&& request, const PathParams& params,
                                Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("user", "id"), std::move(responder));
    auto fields = JsonFields::Parse(request.body, kUserLimitsBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    Command command;
    command.type = CommandType::kSetUserLimits;
    command.user_id = *id;
    command.limit_single = fields->Amount("single_payment").value_or(0);
    command.limit_daily = fields->Amount("daily").value_or(0);
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetUserLimits(HttpRequest&& request, const PathParams& params,
                                Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("user", "id"), std::move(responder));
    std::optional<uint32_t> currency = QueryCurrency(request, options_.default_currency);
    if (!currency) return Refuse(request, UnknownCurrency(), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id, currency = *currency](
            const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            if (!payments::MayActForUser(*caller, id)) return FromError(ErrorCode::kForbidden);
            if (p.users().Find(id) == nullptr) {
                return FromError(ErrorCode::kNotFound, "No such user.");
            }
            const risk::UserLimits override =
                p.limits().UserOverride(id).value_or(risk::UserLimits{});
            return Json(
                200, LimitsJson("user_id", payments::FormatUserId(id), currency,
                                p.limits().UserWindows(id, currency, now),
                                {{"single_payment", override.single}, {"daily", override.daily}}));
        },
        std::move(responder));
}

}  // namespace bursar::api
