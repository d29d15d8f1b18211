// The merchants' endpoints: create a merchant (the admin).

#include "api/auth.h"
#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"
#include "ledger/currency.h"
#include "payments/limits/limits.h"
#include "payments/merchants/tier_recommendation.h"

namespace bursar::api {

using payments::Command;
using payments::CommandType;
using payments::ErrorCode;

void PlatformApi::AddMerchantRoutes(Router& router) {
    router.Add("POST", "/v1/merchants", Bind(&PlatformApi::CreateMerchant));
    router.Add("GET", "/v1/tiers", Bind(&PlatformApi::ListTiers));
    router.Add("GET", "/v1/merchants/{id}", Bind(&PlatformApi::GetMerchant));
    router.Add("PUT", "/v1/merchants/{id}/tier", Bind(&PlatformApi::ChangeTier));
    router.Add("GET", "/v1/merchants/{id}/tier-recommendation", Bind(&PlatformApi::RecommendTier));
}

namespace {

HttpResponse UnknownTier() {
    return FromError(ErrorCode::kInvalidRequest,
                     "tier must be starter, business, enterprise or premium.", "tier");
}

}  // namespace

void PlatformApi::CreateMerchant(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body, kCreateMerchantBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    const payments::TierInfo* tier = payments::FindTier(fields->String("tier").value_or("starter"));
    if (tier == nullptr) return Refuse(request, UnknownTier(), std::move(responder));
    Command command;
    command.type = CommandType::kCreateMerchant;
    command.name = *fields->String("name");
    auto currency = CurrencyOf(*fields, options_.default_currency);
    if (!currency) return Refuse(request, FromApiError(currency.error()), std::move(responder));
    command.currency = *currency;
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
    // `me`: the merchant whose API key calls (the dashboard learns its merchant id from it).
    const bool me = params.Get("id") == "me";
    std::optional<uint64_t> id = me ? 0 : payments::ParseMerchantId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("merchant", "id"), std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id, me, fallback = options_.default_currency](
            const payments::Platform& p, uint64_t now) mutable {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            if (me) {
                if (caller->kind != payments::Caller::Kind::kMerchant) {
                    return FromError(ErrorCode::kNotFound, "Only a merchant's API key has a me.");
                }
                id = caller->id;
            }
            const bool self = caller->kind == payments::Caller::Kind::kMerchant && caller->id == id;
            if (caller->kind != payments::Caller::Kind::kAdmin && !self) {
                return FromError(ErrorCode::kForbidden);
            }
            const payments::merchants::Merchant* merchant = p.merchants().Find(id);
            if (merchant == nullptr) return FromError(ErrorCode::kNotFound, "No such merchant.");
            const risk::MerchantLimits tier = payments::limits::TierLimits(merchant->tier);
            const uint32_t currency = merchant->currency != 0 ? merchant->currency : fallback;
            return Json(200,
                        MerchantJson(id, *merchant, p.limits().MerchantLimitsOf(id, tier), currency,
                                     p.limits().MerchantWindows(id, tier, currency, now)));
        },
        std::move(responder));
}

void PlatformApi::ChangeTier(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseMerchantId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("merchant", "id"), std::move(responder));
    auto fields = JsonFields::Parse(request.body, kChangeTierBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    const payments::TierInfo* tier = payments::FindTier(*fields->String("tier"));
    if (tier == nullptr) return Refuse(request, UnknownTier(), std::move(responder));
    Command command;
    command.type = CommandType::kChangeTier;
    command.merchant_id = *id;
    command.tier = tier->tier;
    command.reason = *fields->String("reason");
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

// The merchant's tier on the engine thread (the caller checked there too), then its last 30 days
// from the read model on a worker, once the read model has reached what was committed then.
void PlatformApi::RecommendTier(HttpRequest&& request, const PathParams& params,
                                Responder responder) {
    std::optional<uint64_t> id = payments::ParseMerchantId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("merchant", "id"), std::move(responder));
    struct Found {
        std::optional<HttpResponse> refusal;
        payments::Tier tier = payments::Tier::kStarter;
    };
    auto found = std::make_shared<Found>();
    auto* query = new engine::Request;
    query->operation = engine::Operation::kQuery;
    query->query = [this, found, principal = PrincipalOf(request),
                    id = *id](const payments::Platform& p) {
        std::optional<payments::Caller> caller = SignedIn(p, principal, clock_.RealtimeNs());
        const payments::merchants::Merchant* merchant = p.merchants().Find(id);
        if (!caller) {
            found->refusal = FromError(ErrorCode::kUnauthenticated);
        } else if (caller->kind != payments::Caller::Kind::kAdmin &&
                   !(caller->kind == payments::Caller::Kind::kMerchant && caller->id == id)) {
            found->refusal = FromError(ErrorCode::kForbidden);
        } else if (merchant == nullptr) {
            found->refusal = FromError(ErrorCode::kNotFound, "No such merchant.");
        } else {
            found->tier = merchant->tier;
        }
    };
    query->done = [this, found, responder, id = *id](engine::Request& r) {
        std::unique_ptr<engine::Request> owned(&r);
        if (!r.status.ok()) return responder(EngineRefusal(r.status));
        if (found->refusal) return responder(*found->refusal);
        const uint64_t seq = r.seq;
        const uint64_t now = clock_.RealtimeNs();
        OnReadModel(
            seq,
            [this, found, id, now](projection::ReadModel& model, const Responder& answer) {
                constexpr uint64_t kDayNs = 86'400'000'000'000;
                const uint64_t window_ns = payments::merchants::kRecommendationDays * kDayNs;
                auto days = model.MerchantDailyVolumes(id, options_.default_currency,
                                                       now > window_ns ? now - window_ns : 0);
                if (!days) return answer(FromError(ErrorCode::kInternal));
                std::vector<u128> volumes;
                for (const auto& [day, volume] : *days) volumes.push_back(volume);
                const ledger::CurrencyInfo* currency =
                    ledger::FindCurrency(options_.default_currency);
                answer(Json(200,
                            TierRecommendationJson(id, currency->code,
                                                   payments::merchants::RecommendTier(
                                                       found->tier, volumes, currency->exponent))));
            },
            responder);
    };
    Status status = engine_.Submit(query);
    if (!status.ok()) {
        delete query;
        responder(EngineRefusal(status));
    }
}

}  // namespace bursar::api
