#pragma once

// Domain commands (SPEC.md P1–P5, P11): what the API layer submits to the engine after parsing,
// validating and doing the slow work (password hashing, secrets). Each is applied by the
// deterministic Platform and journaled with its typed outcome. The principal and the
// Idempotency-Key travel inside the command (its envelope), so authorization and idempotency are
// decided by the state machine and behave the same after a restart (ARCHITECTURE.md §7). A
// command holds no secret: a new session token or API key travels as its SHA-256 only, and the
// API layer, which made the secret, renders it in the answer (docs/formats/journal.md).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "base/status.h"
#include "base/u128.h"

namespace bursar::payments {

// Stable numbers, in ranges per module (those of result_codes.h): journaled, never reused.
enum class CommandType : uint16_t {
    kRegisterUser = 100,
    kUpdateUser = 101,
    kCreateSession = 102,
    kRevokeSession = 103,
    kCreateMerchant = 200,
    kChangeTier = 201,
    kTopup = 300,
    kTransfer = 301,
    kPay = 400,
    kRefund = 500,
    kAuthorize = 600,
    kCapture = 601,
    kCancelHold = 602,
    kConfigureRisk = 700,
    kSetMerchantLimits = 701,
    kSetUserLimits = 702,
};
bool IsKnownCommand(uint16_t number);
const char* CommandName(CommandType type);  // "RegisterUser", ...

enum class PrincipalKind : uint8_t {
    kNone = 0,     // unauthenticated (register, login)
    kAdmin = 1,    // the admin token, checked by the API layer against <data dir>/admin-token
    kSession = 2,  // a user's bearer token: `credential_hash` = SHA-256 of it
    kApiKey = 3,   // a merchant's secret API key: `credential_hash` = SHA-256 of it
};

struct Principal {
    PrincipalKind kind = PrincipalKind::kNone;
    Hash256 credential_hash{};
};

enum class Tier : uint8_t { kStarter = 1, kBusiness = 2, kEnterprise = 3, kPremium = 4 };

// What a refund does with the payment's fee (SPEC.md P7, docs/api.md "Refunds").
enum class RefundFeePolicy : uint8_t {
    kProportional = 1,  // the platform returns the fee in proportion to the amount refunded
    kNone = 2,          // the platform keeps the fee; the merchant gives back the whole refund
};
const char* RefundFeePolicyName(RefundFeePolicy policy);  // "proportional", "none"

// The tiers as the product defines them (SPEC.md P9). Limits are in major units of the merchant's
// currency.
struct TierInfo {
    Tier tier;
    std::string_view name;
    uint32_t fee_basis_points;  // 1/100 of a percent: 80 = 0.8 %
    uint64_t daily_limit_major;
    uint64_t monthly_limit_major;
    uint64_t single_payment_limit_major;
    std::string_view settlement_cycle;  // T+1, T+0, D+0
    bool multi_currency;
    bool pre_authorization;
    uint32_t api_requests_per_minute;
    uint32_t support_response_hours;
    RefundFeePolicy refund_fee_policy;
};
std::span<const TierInfo> Tiers();

const TierInfo* FindTier(std::string_view name);
const TierInfo& GetTier(Tier tier);

// The bounds of command fields, checked by the API layer (clear errors) and again on decode.
inline constexpr size_t kEmailBytesMax = 254;
inline constexpr size_t kNameBytesMax = 200;
inline constexpr size_t kPasswordHashBytesMax = 256;
inline constexpr size_t kSecretBytesMax = 128;
inline constexpr size_t kIdempotencyKeyBytesMax = 255;
inline constexpr size_t kReasonBytesMax = 500;
inline constexpr size_t kReferenceBytesMax = 64;  // a pre-authorization's merchant reference
inline constexpr u128 kAmountMinorMax = static_cast<u128>(1'000'000'000'000'000'000ull);  // 10^18
// (api/json_input.h repeats it for the JSON decoder; api_test checks they agree.)

// Why a payment was refunded (SPEC.md P7); stable numbers, journaled. kNone: not said.
enum class RefundReason : uint8_t {
    kNone = 0,
    kDuplicate = 1,
    kFraudulent = 2,
    kRequestedByCustomer = 3,
};
inline constexpr uint8_t kRefundReasonMax = 3;
std::string_view RefundReasonName(RefundReason reason);  // "duplicate", ...; kNone: ""
std::optional<RefundReason> FindRefundReason(std::string_view name);

inline constexpr uint8_t kCommandVersion = 2;  // journal v2's; 1: journal v1 (read only)

struct Command {
    // The envelope.
    CommandType type = CommandType::kRegisterUser;
    uint8_t version = kCommandVersion;  // of the encoding it was read from
    Principal principal;
    std::string idempotency_key;  // empty: none
    // SHA-256 of the method, the path and the request's parameters in canonical form (the same
    // parameters in any order or spacing are the same request): same key, same request?
    Hash256 request_fingerprint{};
    // The fingerprint as a journal-v1 binary computed it (method, path and raw body), sent while
    // answers stored by such a binary are held, so that their keys are answered as before.
    std::optional<Hash256> v1_fingerprint;

    // The payload: the fields of its type.
    uint64_t user_id = 0;      // the user acted on (update, topup, pay's payer, transfer's sender)
    uint64_t merchant_id = 0;  // pay
    uint64_t to_user_id = 0;   // transfer
    uint64_t txn_id = 0;       // refund: the payment refunded
    uint64_t hold_id = 0;      // capture, cancel: the pre-authorization
    u128 amount = 0;           // minor units (refund: zero for all that is left)
    uint32_t currency = 0;     // ledger currency id
    Tier tier = Tier::kStarter;
    std::string email;
    std::string name;
    std::string password_hash;  // argon2id, encoded (register)
    std::string reason;         // why (change tier, cancel a pre-authorization)
    std::string reference;      // authorize: the merchant's own order number (empty: none)
    uint64_t expires_in = 0;    // authorize: seconds until the pre-authorization expires
    bool final = false;         // capture: release what is left
    // Limits in major units (0: the default), and the risk settings' offset.
    uint64_t limit_single = 0;  // set limits (merchant, user); configure: the user default
    uint64_t limit_daily = 0;
    uint64_t limit_monthly = 0;      // set merchant limits
    int32_t utc_offset_minutes = 0;  // configure risk
    Hash256 secret_hash{};           // SHA-256 of a new session token (login) or API key (merchant)
    uint64_t expires_at = 0;         // session expiry, ns since the epoch
    RefundReason refund_reason = RefundReason::kNone;
};

// Version 2: the envelope, then only the fields of the command's type. Decoding reads both
// versions (a v1 command's session token or API key is read and dropped).
void EncodeCommand(const Command& command, std::string* out);
Result<Command> DecodeCommand(std::string_view bytes);
// The version and type of an encoded command, read from its first bytes only.
struct CommandHead {
    uint8_t version;
    CommandType type;
};
std::optional<CommandHead> PeekCommand(std::string_view bytes);

}  // namespace bursar::payments
