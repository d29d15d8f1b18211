#pragma once

// The one table of API error codes: stable code string, HTTP status, default message. Codes are
// never renumbered or reused; the body is {"error": {"code", "message", "param"}} (SPEC.md §2).

#include <cstdint>
#include <string>
#include <string_view>

namespace bursar::payments {

#define BURSAR_ERROR_CODES(X)                                                                   \
    X(kInvalidRequest, "INVALID_REQUEST", 400, "The request is not valid.")                     \
    X(kIdempotencyKeyMismatch, "IDEMPOTENCY_KEY_MISMATCH", 400,                                 \
      "This Idempotency-Key was used with a different request.")                                \
    X(kUnauthenticated, "UNAUTHENTICATED", 401, "Valid credentials are required.")              \
    X(kInsufficientFunds, "INSUFFICIENT_FUNDS", 402, "The wallet balance is too low.")          \
    X(kForbidden, "FORBIDDEN", 403, "The caller may not do this.")                              \
    X(kRiskLimitExceeded, "RISK_LIMIT_EXCEEDED", 403, "A risk limit forbids this.")             \
    X(kTierNotPermitted, "TIER_NOT_PERMITTED", 403, "The merchant's tier does not allow this.") \
    X(kBlacklisted, "BLACKLISTED", 403, "The caller is blacklisted.")                           \
    X(kNotFound, "NOT_FOUND", 404, "No such object.")                                           \
    X(kMethodNotAllowed, "METHOD_NOT_ALLOWED", 405, "This method is not allowed here.")         \
    X(kRequestTimeout, "REQUEST_TIMEOUT", 408, "The request was not received in time.")         \
    X(kIdempotencyKeyInUse, "IDEMPOTENCY_KEY_IN_USE", 409,                                      \
      "A request with this Idempotency-Key is still running.")                                  \
    X(kEmailAlreadyRegistered, "EMAIL_ALREADY_REGISTERED", 409, "This email is registered.")    \
    X(kInvalidState, "INVALID_STATE", 409, "The object is not in a state that allows this.")    \
    X(kPayloadTooLarge, "PAYLOAD_TOO_LARGE", 413, "The request body is too large.")             \
    X(kRateLimited, "RATE_LIMITED", 429, "Too many requests.")                                  \
    X(kHeadersTooLarge, "HEADERS_TOO_LARGE", 431, "The request headers are too large.")         \
    X(kInternal, "INTERNAL_ERROR", 500, "An internal error occurred.")                          \
    X(kUnavailable, "UNAVAILABLE", 503, "The service cannot take writes now.")                  \
    X(kServerBusy, "SERVER_BUSY", 503, "The server is busy; retry later.")                      \
    X(kCapacityExceeded, "CAPACITY_EXCEEDED", 503,                                              \
      "The ledger is at its memory bound (state_memory_max_mib) and takes no writes.")          \
    X(kHandlerTimeout, "HANDLER_TIMEOUT", 504, "The request took too long.")

#define BURSAR_ERROR_ENUM(name, code, status, message) name,
enum class ErrorCode : uint8_t { BURSAR_ERROR_CODES(BURSAR_ERROR_ENUM) };
#undef BURSAR_ERROR_ENUM

struct ErrorInfo {
    std::string_view code;
    uint16_t status;
    std::string_view message;
};

const ErrorInfo& GetError(ErrorCode code);

// {"error":{"code":...,"message":...,"param":...}}; the default message when `message` is empty,
// `param` null when empty.
std::string ErrorBody(ErrorCode code, std::string_view message = {}, std::string_view param = {});

}  // namespace bursar::payments
