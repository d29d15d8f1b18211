// The wallets' endpoints: top up, read a wallet, transfer to another user.

#include "api/endpoint_helpers.h"
#include "api/platform_api.h"
#include "api/render.h"
#include "ledger/currency.h"

namespace bursar::api {

using payments::Command;
using payments::CommandType;
using payments::ErrorCode;

void PlatformApi::AddWalletRoutes(Router& router) {
    router.Add("POST", "/v1/wallets/{userId}/topup", Bind(&PlatformApi::Topup));
    router.Add("GET", "/v1/wallets/{userId}", Bind(&PlatformApi::GetWallet));
    router.Add("GET", "/v1/wallets/{userId}/history", Bind(&PlatformApi::GetWalletHistory));
    router.Add("GET", "/v1/merchants/{id}/history", Bind(&PlatformApi::GetMerchantHistory));
    router.Add("POST", "/v1/transfers", Bind(&PlatformApi::Transfer));
}

void PlatformApi::Topup(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("userId"));
    if (!id) return Refuse(request, NotAnId("user", "userId"), std::move(responder));
    auto fields = JsonFields::Parse(request.body, kTopupBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    auto currency = CurrencyOf(*fields, options_.default_currency);
    if (!currency) return Refuse(request, FromApiError(currency.error()), std::move(responder));
    Command command;
    command.type = CommandType::kTopup;
    command.user_id = *id;
    command.amount = *fields->Amount("amount_minor");
    command.currency = *currency;
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetWallet(HttpRequest&& request, const PathParams& params, Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("userId"));
    if (!id) return Refuse(request, NotAnId("user", "userId"), std::move(responder));
    if (request.QueryParam("at")) return GetWalletAt(request, *id, std::move(responder));
    Query(
        [principal = PrincipalOf(request), id = *id](const payments::Platform& p, uint64_t now) {
            std::optional<payments::Caller> caller = SignedIn(p, principal, now);
            if (!caller) return FromError(ErrorCode::kUnauthenticated);
            if (!payments::MayActForUser(*caller, id)) return FromError(ErrorCode::kForbidden);
            if (!p.users().Exists(id)) return FromError(ErrorCode::kNotFound, "No such user.");
            return Json(200, WalletJson(p.ledger(), id));
        },
        std::move(responder));
}

void PlatformApi::Transfer(HttpRequest&& request, const PathParams&, Responder responder) {
    auto fields = JsonFields::Parse(request.body, kTransferBody);
    if (!fields) return Refuse(request, FromApiError(fields.error()), std::move(responder));
    std::optional<uint64_t> from = payments::ParseUserId(*fields->String("from_user_id"));
    if (!from) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "Not a user id.", "from_user_id"),
                      std::move(responder));
    }
    std::optional<uint64_t> to = payments::ParseUserId(*fields->String("to_user_id"));
    if (!to)
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "Not a user id.", "to_user_id"),
                      std::move(responder));
    if (*from == *to) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "Sender and recipient are the same.",
                                "to_user_id"),
                      std::move(responder));
    }
    auto currency = CurrencyOf(*fields, options_.default_currency);
    if (!currency) return Refuse(request, FromApiError(currency.error()), std::move(responder));
    Command command;
    command.type = CommandType::kTransfer;
    command.user_id = *from;
    command.to_user_id = *to;
    command.amount = *fields->Amount("amount_minor");
    command.currency = *currency;
    auto call = Begin(request, &*fields, &command, std::move(responder));
    if (call) Submit(call, std::move(command));
}

void PlatformApi::GetWalletAt(const HttpRequest& request, uint64_t user_id, Responder responder) {
    // Unix seconds, as every time the API shows.
    constexpr uint64_t kSecondsMax = UINT64_MAX / 1'000'000'000;
    auto at = U128FromString(*request.QueryParam("at"));
    if (!at || *at > kSecondsMax) {
        return Refuse(request,
                      FromError(ErrorCode::kInvalidRequest, "at must be Unix seconds.", "at"),
                      std::move(responder));
    }
    const uint64_t at_seconds = static_cast<uint64_t>(*at);
    ReadForUser(
        request, user_id,
        [user_id, at_seconds](projection::ReadModel& model) {
            auto balances = model.BalancesAt(user_id, at_seconds * 1'000'000'000);
            if (!balances) return FromError(ErrorCode::kInternal);
            return Json(200, WalletAtJson(user_id, at_seconds, *balances));
        },
        std::move(responder));
}

void PlatformApi::GetWalletHistory(HttpRequest&& request, const PathParams& params,
                                   Responder responder) {
    std::optional<uint64_t> id = payments::ParseUserId(params.Get("userId"));
    if (!id) return Refuse(request, NotAnId("user", "userId"), std::move(responder));
    projection::HistoryFilter filter;
    filter.user_id = *id;
    ReadHistory(request, filter, std::move(responder));
}

// GET /v1/merchants/{id}/history?currency=&cursor=&size= (the admin or the merchant): every
// movement of the merchant's account in one currency with the balance after it, newest first.
void PlatformApi::GetMerchantHistory(HttpRequest&& request, const PathParams& params,
                                     Responder responder) {
    std::optional<uint64_t> id = payments::ParseMerchantId(params.Get("id"));
    if (!id) return Refuse(request, NotAnId("merchant", "id"), std::move(responder));
    projection::HistoryFilter filter;
    filter.merchant_id = *id;
    ReadHistory(request, filter, std::move(responder));
}

void PlatformApi::ReadHistory(const HttpRequest& request, projection::HistoryFilter filter,
                              Responder responder) {
    std::optional<uint32_t> currency = QueryCurrency(request, options_.default_currency);
    if (!currency) return Refuse(request, UnknownCurrency(), std::move(responder));
    filter.currency = *currency;
    if (auto invalid = ParsePage(request, &filter.size, &filter.before_txn_id)) {
        return Refuse(request, std::move(*invalid), std::move(responder));
    }
    ModelReadFn read = [filter](projection::ReadModel& model) {
        bool more = false;
        auto rows = model.History(filter, &more);
        if (!rows) return FromError(ErrorCode::kInternal);
        return Json(200, WalletHistoryJson(*rows, more));
    };
    if (filter.merchant_id != 0) {
        ReadForMerchant(request, filter.merchant_id, std::move(read), std::move(responder));
    } else {
        ReadForUser(request, filter.user_id, std::move(read), std::move(responder));
    }
}

}  // namespace bursar::api
