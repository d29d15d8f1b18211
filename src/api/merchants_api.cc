// The merchants' endpoints: create a merchant (the admin).

#include "api/auth.h"
#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"

namespace bursar::api {

using payments::Command;
using payments::CommandType;
using payments::ErrorCode;

void PlatformApi::AddMerchantRoutes(Router& router) {
    router.Add("POST", "/v1/merchants", Bind(&PlatformApi::CreateMerchant));
    router.Add("GET", "/v1/tiers", Bind(&PlatformApi::ListTiers));
    router.Add("GET", "/v1/merchants/{id}", Bind(&PlatformApi::GetMerchant));
    router.Add("PUT", "/v1/merchants/{id}/tier", Bind(&PlatformApi::ChangeTier));
}

void PlatformApi::CreateMerchant(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body, kCreateMerchantBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    const payments::TierInfo* tier = payments::FindTier(fields->String("tier").value_or("starter"));
    if (tier == nullptr) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest,
                                "tier must be starter, business, enterprise or premium.", "tier"),
                      std::move(responder));
    }
    Command command;
    command.type = CommandType::kCreateMerchant;
    command.name = *fields->String("name");
    command.tier = tier->tier;
    std::string api_key = RandomSecret(kApiKeyPrefix);
    command.secret_hash = HashSecret(api_key);
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command), std::move(api_key));
}

void PlatformApi::ListTiers(HttpRequest&& request, const PathParams&, Responder responder) {
    Query(
        [principal = PrincipalOf(request)](const payments::Platform& p, uint64_t now) {
            if (!SignedIn(p, principal, now)) return FromError(ErrorCode::kUnauthenticated);
            return Json(200, TiersJson());
        },
        std::move(responder));
}

void PlatformApi::GetMerchant(HttpRequest&& request, const PathParams& params,
                              Responder responder) {
    std::optional<uint64_t> id = payments::ParseMerchantId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("merchant", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            const bool self = caller->kind == payments::Caller::Kind::kMerchant && caller->id == id;
            if (caller->kind != payments::Caller::Kind::kAdmin && !self) {
                return FromError(ErrorCode::kForbidden);
            }
            const payments::merchants::Merchant* merchant = p.merchants().Find(id);
            if (merchant == nullptr) return FromError(ErrorCode::kNotFound, "No such merchant.");
            return Json(200, MerchantJson(id, *merchant));
        },
        std::move(responder));
}

void PlatformApi::ChangeTier(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseMerchantId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("merchant", "id"), std::move(responder));
    auto fields = JsonFields::Parse(request.body, kChangeTierBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    const payments::TierInfo* tier = payments::FindTier(*fields->String("tier"));
    if (tier == nullptr) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest,
                                "tier must be starter, business, enterprise or premium.", "tier"),
                      std::move(responder));
    }
    Command command;
    command.type = CommandType::kChangeTier;
    command.merchant_id = *id;
    command.tier = tier->tier;
    command.reason = *fields->String("reason");
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

}  // namespace bursar::api
