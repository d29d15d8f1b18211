#pragma once

// The domain's result codes: what a command's Apply decided, with stable numbers (journaled in
// every outcome: never renumbered or reused). Each maps to one API error (code, HTTP status,
// message, field) through `ErrorOf`; the API renders that, the journal holds only the number, so
// rewording a message never breaks a replay. Numbers are in ranges per module:
//   0–99 envelope (authentication, idempotency), 100–199 users, 200–299 merchants,
//   300–399 wallets (top-ups, transfers), 400–499 charges (payments), 500–599 refunds,
//   600–699 holds (pre-authorizations), 700–799 risk (limits).
// The order in which each command checks them is in src/payments/README.md.

#include <cstdint>
#include <string_view>

#include "payments/error_codes.h"

namespace bursar::payments {

#define BURSAR_RESULT_CODES(X)                                                                    \
    X(kOk, 0, kInternal, "", "")                                                                  \
    X(kUnauthenticated, 1, kUnauthenticated, "", "")                                              \
    X(kIdempotencyKeyMismatch, 2, kIdempotencyKeyMismatch, "", "Idempotency-Key")                 \
    X(kForbidden, 3, kForbidden, "", "")                                                          \
    X(kUnknownCommand, 4, kInternal, "", "")                                                      \
    X(kV1Refusal, 5, kInternal, "", "") /* a refusal stored by journal v1: its body answers */    \
    X(kUserNotFound, 100, kNotFound, "No such user.", "user_id")                                  \
    X(kEmailAlreadyRegistered, 101, kEmailAlreadyRegistered, "", "email")                         \
    X(kLoginUserNotFound, 102, kUnauthenticated, "Email or password is wrong.", "")               \
    X(kNotSignedIn, 103, kUnauthenticated, "", "")                                                \
    X(kApiKeyTaken, 200, kInternal, "", "")                                                       \
    X(kTierMerchantNotFound, 201, kNotFound, "No such merchant.", "id")                           \
    X(kTierUnchanged, 202, kInvalidState, "The merchant is on this tier already.", "tier")        \
    X(kAmountInvalid, 300, kInvalidRequest, "amount_minor must be from 1 to 10^18.",              \
      "amount_minor")                                                                             \
    X(kCurrencyUnknown, 301, kInvalidRequest, "Unknown currency.", "currency")                    \
    X(kRecipientNotFound, 302, kNotFound, "No such recipient.", "to_user_id")                     \
    X(kSameSenderAndRecipient, 303, kInvalidRequest, "Sender and recipient are the same.",        \
      "to_user_id")                                                                               \
    X(kInsufficientFunds, 304, kInsufficientFunds, "", "")                                        \
    X(kBalanceOverflow, 305, kInvalidRequest, "The amount would overflow a balance.",             \
      "amount_minor")                                                                             \
    X(kMerchantNotFound, 400, kNotFound, "No such merchant.", "merchant_id")                      \
    X(kTierCurrencyNotPermitted, 401, kTierNotPermitted,                                          \
      "The merchant's tier is paid in the merchant's own currency only.", "currency")             \
    X(kRefundForbidden, 500, kForbidden, "Only the payment's merchant or the admin refunds it.",  \
      "")                                                                                         \
    X(kRefundPaymentNotFound, 501, kNotFound, "No such payment.", "id")                           \
    X(kRefundReasonInvalid, 502, kInvalidRequest,                                                 \
      "reason must be duplicate, fraudulent or requested_by_customer.", "reason")                 \
    X(kPaymentRefunded, 503, kInvalidState, "The payment is refunded in full already.", "")       \
    X(kRefundExceedsPayment, 504, kInvalidRequest,                                                \
      "amount_minor is more than what is left to refund of the payment.", "amount_minor")         \
    X(kRefundsPerPaymentExceeded, 505, kInvalidState, "A payment takes at most 100 refunds.", "") \
    X(kMerchantBalanceTooLow, 506, kInsufficientFunds,                                            \
      "The merchant's balance is too low for this refund.", "")                                   \
    X(kHoldTierNotPermitted, 600, kTierNotPermitted,                                              \
      "Pre-authorization needs the enterprise or premium tier.", "merchant_id")                   \
    X(kHoldExpiryInvalid, 601, kInvalidRequest,                                                   \
      "expires_in_seconds must be from 1 to 2592000 (30 days).", "expires_in_seconds")            \
    X(kHoldReferenceTaken, 602, kInvalidState,                                                    \
      "The merchant has a pre-authorization with this reference.", "reference")                   \
    X(kHoldNotFound, 603, kNotFound, "No such pre-authorization.", "id")                          \
    X(kHoldForbidden, 604, kForbidden,                                                            \
      "Only the merchant or the admin captures or cancels a pre-authorization.", "")              \
    X(kHoldCaptured, 605, kInvalidState, "The pre-authorization is captured in full.", "")        \
    X(kHoldCancelled, 606, kInvalidState, "The pre-authorization is cancelled.", "")              \
    X(kHoldExpired, 607, kInvalidState, "The pre-authorization expired.", "")                     \
    X(kCaptureExceedsHold, 608, kInvalidRequest,                                                  \
      "amount_minor is more than what is left of the pre-authorization.", "amount_minor")         \
    X(kCapturesPerHoldExceeded, 609, kInvalidState,                                               \
      "A pre-authorization takes at most 100 captures.", "")                                      \
    X(kUserSingleLimit, 700, kRiskLimitExceeded,                                                  \
      "The payment is over the user's single-payment limit.", "user.single")                      \
    X(kUserDailyLimit, 701, kRiskLimitExceeded, "The payment is over the user's daily limit.",    \
      "user.daily")                                                                               \
    X(kMerchantSingleLimit, 702, kRiskLimitExceeded,                                              \
      "The payment is over the merchant's single-payment limit.", "merchant.single")              \
    X(kMerchantDailyLimit, 703, kRiskLimitExceeded,                                               \
      "The payment is over the merchant's daily limit.", "merchant.daily")                        \
    X(kMerchantMonthlyLimit, 704, kRiskLimitExceeded,                                             \
      "The payment is over the merchant's monthly limit.", "merchant.monthly")                    \
    X(kLimitsMerchantNotFound, 705, kNotFound, "No such merchant.", "id")                         \
    X(kLimitsUserNotFound, 706, kNotFound, "No such user.", "id")                                 \
    X(kLimitInvalid, 707, kInvalidRequest, "A limit is from 0 to 10^15 major units.", "")         \
    X(kRiskSettingsUnchanged, 708, kInvalidState, "The risk settings are these already.", "")

#define BURSAR_RESULT_ENUM(name, number, error, message, param) name = number,
enum class ResultCode : uint16_t { BURSAR_RESULT_CODES(BURSAR_RESULT_ENUM) };
#undef BURSAR_RESULT_ENUM

// What the API answers for a result code: the error (its HTTP status and code string), the message
// (empty: the error's default) and the request field it names (empty: none).
struct ResultError {
    ErrorCode error;
    std::string_view message;
    std::string_view param;
};

bool IsKnownResult(uint16_t number);
std::string_view ResultName(ResultCode code);  // kInsufficientFunds: "InsufficientFunds"
const ResultError& ErrorOf(ResultCode code);   // kOk: not an error (not to be rendered as one)
uint16_t HttpStatusOf(ResultCode code, uint16_t ok_status);

// Whether the answer is kept for an Idempotency-Key: not a validation failure (the request may
// be corrected and sent again with the same key) nor a server error (SPEC.md P11).
bool StoredForIdempotencyKey(ResultCode code);

}  // namespace bursar::payments
