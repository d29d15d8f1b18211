#pragma once

// What the endpoint files (users_api.cc, merchants_api.cc, wallets_api.cc, payments_api.cc,
// ledger_api.cc) share: answers, field specs, id and currency parsing, the signed-in caller of a
// read. Private to the API library.

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "api/auth.h"
#include "api/http.h"
#include "api/json_input.h"
#include "payments/platform.h"
#include "risk/limits.h"

namespace bursar::api {

inline constexpr std::string_view kApiKeyPrefix = "sk_";
inline constexpr size_t kPaymentIdsMax = 100;  // ids of one GET /v1/payments?ids=
inline constexpr std::string_view kSessionPrefix = "ses_";

inline constexpr FieldSpec kCurrencyField{"currency", FieldKind::kString, false, 3, 5};
inline constexpr FieldSpec kAmountField{"amount_minor", FieldKind::kAmount, true};

// The request bodies the endpoints accept: the decoder's fields, which api_test compares with the
// OpenAPI document's request bodies.
inline constexpr FieldSpec kRegisterBody[] = {
    {"email", FieldKind::kString, true, 3, payments::kEmailBytesMax},
    {"password", FieldKind::kString, true, kPasswordBytesMin, kPasswordBytesMax},
    {"name", FieldKind::kString, true, 1, payments::kNameBytesMax}};
inline constexpr FieldSpec kLoginBody[] = {
    {"email", FieldKind::kString, true, 1, payments::kEmailBytesMax},
    {"password", FieldKind::kString, true, 1, kPasswordBytesMax}};
inline constexpr FieldSpec kUpdateUserBody[] = {
    {"name", FieldKind::kString, true, 1, payments::kNameBytesMax}};
inline constexpr FieldSpec kCreateMerchantBody[] = {
    {"name", FieldKind::kString, true, 1, payments::kNameBytesMax},
    {"tier", FieldKind::kString, false, 1, 32},
    kCurrencyField};
inline constexpr FieldSpec kChangeTierBody[] = {
    {"tier", FieldKind::kString, true, 1, 32},
    {"reason", FieldKind::kString, true, 1, payments::kReasonBytesMax}};
inline constexpr FieldSpec kTopupBody[] = {kAmountField, kCurrencyField};
inline constexpr FieldSpec kPayBody[] = {{"user_id", FieldKind::kString, true, 1, 32},
                                         {"merchant_id", FieldKind::kString, true, 1, 32},
                                         kAmountField,
                                         kCurrencyField};
inline constexpr FieldSpec kRefundBody[] = {{"amount_minor", FieldKind::kAmount, false},
                                            {"reason", FieldKind::kString, false, 1, 32}};
inline constexpr FieldSpec kAuthorizeBody[] = {
    {"user_id", FieldKind::kString, true, 1, 32},
    {"merchant_id", FieldKind::kString, true, 1, 32},
    kAmountField,
    kCurrencyField,
    {"expires_in_seconds", FieldKind::kInteger, false, 1, 30 * 86'400},
    {"reference", FieldKind::kString, false, 1, payments::kReferenceBytesMax}};
inline constexpr FieldSpec kCaptureBody[] = {{"amount_minor", FieldKind::kAmount, false},
                                             {"final", FieldKind::kBoolean, false}};
inline constexpr FieldSpec kCancelHoldBody[] = {
    {"reason", FieldKind::kString, false, 1, payments::kReasonBytesMax}};
inline constexpr FieldSpec kMerchantLimitsBody[] = {
    {"single_payment", FieldKind::kInteger, false, 0, risk::kLimitMajorMax},
    {"daily", FieldKind::kInteger, false, 0, risk::kLimitMajorMax},
    {"monthly", FieldKind::kInteger, false, 0, risk::kLimitMajorMax}};
inline constexpr FieldSpec kUserLimitsBody[] = {
    {"single_payment", FieldKind::kInteger, false, 0, risk::kLimitMajorMax},
    {"daily", FieldKind::kInteger, false, 0, risk::kLimitMajorMax}};
inline constexpr FieldSpec kTransferBody[] = {{"from_user_id", FieldKind::kString, true, 1, 32},
                                              {"to_user_id", FieldKind::kString, true, 1, 32},
                                              kAmountField,
                                              kCurrencyField};

struct RequestBody {
    std::string_view method;
    std::string_view pattern;
    std::span<const FieldSpec> fields;
};
inline constexpr RequestBody kRequestBodies[] = {
    {"POST", "/v1/users/register", kRegisterBody},
    {"POST", "/v1/users/login", kLoginBody},
    {"PUT", "/v1/users/{id}", kUpdateUserBody},
    {"POST", "/v1/merchants", kCreateMerchantBody},
    {"PUT", "/v1/merchants/{id}/tier", kChangeTierBody},
    {"POST", "/v1/wallets/{userId}/topup", kTopupBody},
    {"POST", "/v1/payments", kPayBody},
    {"POST", "/v1/transfers", kTransferBody},
    {"POST", "/v1/payments/{id}/refunds", kRefundBody},
    {"POST", "/v1/preauths", kAuthorizeBody},
    {"POST", "/v1/preauths/{id}/capture", kCaptureBody},
    {"POST", "/v1/preauths/{id}/cancel", kCancelHoldBody},
    {"PUT", "/v1/merchants/{id}/limits", kMerchantLimitsBody},
    {"PUT", "/v1/users/{id}/limits", kUserLimitsBody},
};

HttpResponse Json(int status, std::string body);
HttpResponse FromApiError(const ApiError& error);
bool ValidEmail(std::string_view email);
// The currency of a request: the field, or the configured default.
std::expected<uint32_t, ApiError> CurrencyOf(const JsonFields& fields, uint32_t fallback);
// A malformed id in a request's path: 400 naming the path parameter.
HttpResponse NotAnId(std::string_view what, std::string_view param);
// A keyset page's `size` (1 to projection::kListSizeMax) and `cursor` (txn_<n>) query parameters,
// each left as it is when absent: the refusal when one is malformed.
// `parse_id` reads the cursor (a txn id unless told).
std::optional<HttpResponse> ParsePage(
    const HttpRequest& request, uint32_t* size, std::optional<uint64_t>* before_id,
    std::optional<uint64_t> (*parse_id)(std::string_view) = payments::ParseTxnId);
// ?currency= of a read: its id (`fallback` when absent), nullopt for an unknown code (answer
// UnknownCurrency()).
std::optional<uint32_t> QueryCurrency(const HttpRequest& request, uint32_t fallback);
HttpResponse UnknownCurrency();
// The caller of a read that needs one: nullopt for no, unknown, expired or revoked credentials.
std::optional<payments::Caller> SignedIn(const payments::Platform& platform,
                                         const payments::Principal& principal, uint64_t now);

}  // namespace bursar::api
