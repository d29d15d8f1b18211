#include "api/endpoint_helpers.h"

#include "api/platform_api.h"
#include "ledger/currency.h"
#include "projection/read_model.h"

namespace bursar::api {

using payments::ErrorCode;

HttpResponse Json(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

HttpResponse FromApiError(const ApiError& error) {
    return FromError(error.code, error.message, error.param);
}

bool ValidEmail(std::string_view email) {
    const size_t at = email.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
    if (email.find('@', at + 1) != std::string_view::npos) return false;
    for (char c : email) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
    }
    return email.find('.', at) != std::string_view::npos;
}

// The currency of a request: the field, or the configured default.
std::expected<uint32_t, ApiError> CurrencyOf(const JsonFields& fields, uint32_t fallback) {
    std::optional<std::string> code = fields.String("currency");
    if (!code) return fallback;
    const ledger::CurrencyInfo* currency = ledger::FindCurrencyByCode(*code);
    if (currency == nullptr) {
        return std::unexpected(
            ApiError{ErrorCode::kInvalidRequest, "Unknown currency.", "currency"});
    }
    return currency->id;
}

// A malformed id in a request's path: 400 naming the path parameter.
HttpResponse NotAnId(std::string_view what, std::string_view param) {
    return FromError(ErrorCode::kInvalidRequest, "Not a " + std::string(what) + " id.", param);
}

std::optional<HttpResponse> ParsePage(const HttpRequest& request, uint32_t* size,
                                      std::optional<uint64_t>* before_id,
                                      std::optional<uint64_t> (*parse_id)(std::string_view)) {
    if (auto text = request.QueryParam("size"); text && !text->empty()) {
        auto value = U128FromString(*text);
        if (!value || *value < 1 || *value > projection::kListSizeMax) {
            return FromError(ErrorCode::kInvalidRequest, "size must be from 1 to 100.", "size");
        }
        *size = static_cast<uint32_t>(*value);
    }
    if (auto cursor = request.QueryParam("cursor"); cursor && !cursor->empty()) {
        *before_id = parse_id(*cursor);
        if (!*before_id) return FromError(ErrorCode::kInvalidRequest, "Not a cursor.", "cursor");
    }
    return std::nullopt;
}

std::optional<uint32_t> QueryCurrency(const HttpRequest& request, uint32_t fallback) {
    auto code = request.QueryParam("currency");
    if (!code || code->empty()) return fallback;
    const ledger::CurrencyInfo* currency = ledger::FindCurrencyByCode(*code);
    if (currency == nullptr) return std::nullopt;
    return currency->id;
}

HttpResponse UnknownCurrency() {
    return FromError(ErrorCode::kInvalidRequest, "Unknown currency.", "currency");
}

// The caller of a read that needs one: nullopt for no, unknown, expired or revoked credentials.
std::optional<payments::Caller> SignedIn(const payments::Platform& platform,
                                         const payments::Principal& principal, uint64_t now) {
    std::optional<payments::Caller> caller = platform.Authenticate(principal, now);
    if (!caller || caller->kind == payments::Caller::Kind::kAnonymous) return std::nullopt;
    return caller;
}

}  // namespace bursar::api
