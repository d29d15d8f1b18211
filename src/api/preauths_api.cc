// The pre-authorizations' endpoints (SPEC.md P6): authorize, capture, cancel, read, list.

#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"

namespace bursar::api {

using payments::Command;
using payments::CommandType;
using payments::ErrorCode;

void PlatformApi::AddPreauthRoutes(Router& router) {
    router.Add("POST", "/v1/preauths", Bind(&PlatformApi::Authorize));
    router.Add("GET", "/v1/preauths", Bind(&PlatformApi::ListHolds));
    router.Add("GET", "/v1/preauths/{id}", Bind(&PlatformApi::GetHold));
    router.Add("POST", "/v1/preauths/{id}/capture", Bind(&PlatformApi::Capture));
    router.Add("POST", "/v1/preauths/{id}/cancel", Bind(&PlatformApi::CancelHold));
}

namespace {

// Whether `caller` sees `hold`: the admin, its payer, its merchant.
bool MaySeeHold(const payments::Caller& caller, const payments::Hold& hold) {
    switch (caller.kind) {
        case payments::Caller::Kind::kAdmin:
            return true;
        case payments::Caller::Kind::kUser:
            return caller.id == hold.user_id;
        case payments::Caller::Kind::kMerchant:
            return caller.id == hold.merchant_id;
        case payments::Caller::Kind::kAnonymous:
            return false;
    }
    return false;
}

std::string_view BodyOrEmptyObject(const HttpRequest& request) {
    return request.body.empty() ? std::string_view("{}") : std::string_view(request.body);
}

}  // namespace

// POST /v1/preauths: the paying user (or the admin) reserves an amount for a merchant.
void PlatformApi::Authorize(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body, kAuthorizeBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    std::optional<uint64_t> user = payments::ParseUserId(*fields->String("user_id"));
    if (!user) return Refuse(request, NotAnId("user", "user_id"), std::move(responder));
    std::optional<uint64_t> merchant = payments::ParseMerchantId(*fields->String("merchant_id"));
    if (!merchant) {
        return Refuse(request, NotAnId("merchant", "merchant_id"), std::move(responder));
    }
    auto currency = CurrencyOf(*fields, options_.default_currency);
    if (!currency) return Refuse(request, FromApiError(currency.error()), std::move(responder));
    Command command;
    command.type = CommandType::kAuthorize;
    command.user_id = *user;
    command.merchant_id = *merchant;
    command.amount = *fields->Amount("amount_minor");
    command.currency = *currency;
    // The configured default is decided here and journaled with the command.
    command.expires_in =
        fields->Amount("expires_in_seconds").value_or(options_.preauth_expiry_seconds);
    command.reference = fields->String("reference").value_or("");
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

// POST /v1/preauths/{id}/capture: all that is left by default, or amount_minor; final releases
// the rest.
void PlatformApi::Capture(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseHoldId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("pre-authorization", "id"), std::move(responder));
    auto fields = JsonFields::Parse(BodyOrEmptyObject(request), kCaptureBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    Command command;
    command.type = CommandType::kCapture;
    command.hold_id = *id;
    command.amount = fields->Amount("amount_minor").value_or(0);
    command.final = fields->Boolean("final").value_or(false);
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

// POST /v1/preauths/{id}/cancel: releases what is left.
void PlatformApi::CancelHold(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseHoldId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("pre-authorization", "id"), std::move(responder));
    auto fields = JsonFields::Parse(BodyOrEmptyObject(request), kCancelHoldBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    Command command;
    command.type = CommandType::kCancelHold;
    command.hold_id = *id;
    command.reason = fields->String("reason").value_or("");
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetHold(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseHoldId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("pre-authorization", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            const payments::Hold* hold = p.holds().Find(id);
            // Another caller's pre-authorization is answered as missing: existence must not leak.
            if (hold == nullptr || !MaySeeHold(*caller, *hold)) {
                return FromError(ErrorCode::kNotFound, "No such pre-authorization.");
            }
            return Json(200, HoldJson(*hold));
        },
        std::move(responder));
}

// GET /v1/preauths?merchant_id=&user_id=&status=&cursor=&size=: newest first. A user sees their
// own, a merchant its own (a filter naming someone else is 403), the admin all.
void PlatformApi::ListHolds(HttpRequest&& request, const PathParams&, Responder responder) {
    payments::holds::HoldFilter filter;
    if (auto refusal = ParsePage(request, &filter.size, &filter.before_id, payments::ParseHoldId)) {
        return Refuse(request, std::move(*refusal), std::move(responder));
    }
    if (auto text = request.QueryParam("user_id"); text && !text->empty()) {
        filter.user_id = payments::ParseUserId(*text);
        if (!filter.user_id)
            return Refuse(request, NotAnId("user", "user_id"), std::move(responder));
    }
    if (auto text = request.QueryParam("merchant_id"); text && !text->empty()) {
        filter.merchant_id = payments::ParseMerchantId(*text);
        if (!filter.merchant_id) {
            return Refuse(request, NotAnId("merchant", "merchant_id"), std::move(responder));
        }
    }
    if (auto text = request.QueryParam("status"); text && !text->empty()) {
        filter.status = payments::FindHoldStatus(*text);
        if (!filter.status) {
            return Refuse(request,
                          FromError(ErrorCode::kInvalidRequest,
                                    "status must be authorized, partially_captured, captured, "
                                    "cancelled or expired.",
                                    "status"),
                          std::move(responder));
        }
    }
    Query(
        [principal = PrincipalOf(request), filter](const payments::Platform& p,
                                                   uint64_t now) mutable {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            using Kind = payments::Caller::Kind;
            if (caller->kind == Kind::kUser) {
                if (filter.user_id && *filter.user_id != caller->id) {
                    return FromError(ErrorCode::kForbidden);
                }
                filter.user_id = caller->id;
            } else if (caller->kind == Kind::kMerchant) {
                if (filter.merchant_id && *filter.merchant_id != caller->id) {
                    return FromError(ErrorCode::kForbidden);
                }
                filter.merchant_id = caller->id;
            }
            bool more = false;
            const std::vector<const payments::Hold*> page = p.holds().List(filter, &more);
            return Json(200, HoldsPageJson(page, more));
        },
        std::move(responder));
}

}  // namespace bursar::api
