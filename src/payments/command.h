#pragma once

// Domain commands (SPEC.md P1–P5, P11): what the API layer submits to the engine after parsing,
// validating and doing the slow work (password hashing, secrets). Each is applied by the
// deterministic Platform and journaled with its result. The principal and the Idempotency-Key
// travel inside the command, so authorization and idempotency are decided by the state machine
// and behave the same after a restart (ARCHITECTURE.md §7).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "base/status.h"
#include "base/u128.h"

namespace bursar::payments {

enum class CommandType : uint8_t {
    kRegisterUser = 1,
    kUpdateUser = 2,
    kCreateSession = 3,
    kRevokeSession = 4,
    kCreateMerchant = 5,
    kTopup = 6,
    kPay = 7,
    kTransfer = 8,
};

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

struct TierInfo {
    Tier tier;
    std::string_view name;
    uint32_t fee_basis_points;  // 1/100 of a percent: 80 = 0.8 %
};

const TierInfo* FindTier(std::string_view name);
const TierInfo& GetTier(Tier tier);

// The bounds of command fields, checked by the API layer (clear errors) and again on decode.
inline constexpr size_t kEmailBytesMax = 254;
inline constexpr size_t kNameBytesMax = 200;
inline constexpr size_t kPasswordHashBytesMax = 256;
inline constexpr size_t kSecretBytesMax = 128;
inline constexpr size_t kIdempotencyKeyBytesMax = 255;
inline constexpr u128 kAmountMinorMax = static_cast<u128>(1'000'000'000'000'000'000ull);  // 10^18
// (api/json_input.h repeats it for the JSON decoder; api_test checks they agree.)

struct Command {
    CommandType type = CommandType::kRegisterUser;
    Principal principal;
    std::string idempotency_key;    // empty: none
    Hash256 request_fingerprint{};  // SHA-256 of method, path and body: same key, same request?

    uint64_t user_id = 0;      // the user acted on (update, topup, pay's payer, transfer's sender)
    uint64_t merchant_id = 0;  // pay
    uint64_t to_user_id = 0;   // transfer
    u128 amount = 0;           // minor units
    uint32_t currency = 0;     // ledger currency id
    Tier tier = Tier::kStarter;
    std::string email;
    std::string name;
    std::string password_hash;  // argon2id, encoded (register)
    std::string secret;         // returned once: a session token (login) or API key (merchant)
    Hash256 secret_hash{};      // SHA-256 of `secret`
    uint64_t expires_at = 0;    // session expiry, ns since the epoch
};

void EncodeCommand(const Command& command, std::string* out);
Result<Command> DecodeCommand(std::string_view bytes);

}  // namespace bursar::payments
