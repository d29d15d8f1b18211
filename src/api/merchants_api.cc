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

}  // namespace bursar::api
