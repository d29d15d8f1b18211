#include "payments/command.h"

#include <array>
#include <cstring>

#include "base/binary_codec.h"

namespace bursar::payments {
namespace {

constexpr std::array<TierInfo, 4> kTiers = {{
    {Tier::kStarter, "starter", 80, 100'000, 300'000, 10'000, "T+1", false, false, 100, 24,
     RefundFeePolicy::kProportional},
    {Tier::kBusiness, "business", 60, 500'000, 1'500'000, 50'000, "T+1", true, false, 500, 12,
     RefundFeePolicy::kProportional},
    {Tier::kEnterprise, "enterprise", 45, 2'000'000, 6'000'000, 200'000, "T+0", true, true, 2'000,
     4, RefundFeePolicy::kProportional},
    {Tier::kPremium, "premium", 30, 10'000'000, 30'000'000, 1'000'000, "D+0", true, true, 10'000, 1,
     RefundFeePolicy::kProportional},
}};

}  // namespace

std::span<const TierInfo> Tiers() { return kTiers; }

const char* RefundFeePolicyName(RefundFeePolicy policy) {
    return policy == RefundFeePolicy::kNone ? "none" : "proportional";
}

std::string_view RefundReasonName(RefundReason reason) {
    switch (reason) {
        case RefundReason::kNone:
            return "";
        case RefundReason::kDuplicate:
            return "duplicate";
        case RefundReason::kFraudulent:
            return "fraudulent";
        case RefundReason::kRequestedByCustomer:
            return "requested_by_customer";
    }
    return "";
}

std::optional<RefundReason> FindRefundReason(std::string_view name) {
    for (uint8_t i = 1; i <= kRefundReasonMax; ++i) {
        if (RefundReasonName(static_cast<RefundReason>(i)) == name) {
            return static_cast<RefundReason>(i);
        }
    }
    return std::nullopt;
}

const TierInfo* FindTier(std::string_view name) {
    for (const auto& info : kTiers) {
        if (info.name == name) return &info;
    }
    return nullptr;
}

const TierInfo& GetTier(Tier tier) {
    for (const auto& info : kTiers) {
        if (info.tier == tier) return info;
    }
    return kTiers[0];
}

bool IsKnownCommand(uint16_t number) {
    switch (static_cast<CommandType>(number)) {
        case CommandType::kRegisterUser:
        case CommandType::kUpdateUser:
        case CommandType::kCreateSession:
        case CommandType::kRevokeSession:
        case CommandType::kCreateMerchant:
        case CommandType::kChangeTier:
        case CommandType::kTopup:
        case CommandType::kTransfer:
        case CommandType::kPay:
        case CommandType::kRefund:
        case CommandType::kAuthorize:
        case CommandType::kCapture:
        case CommandType::kCancelHold:
        case CommandType::kConfigureRisk:
        case CommandType::kSetMerchantLimits:
        case CommandType::kSetUserLimits:
            return true;
    }
    return false;
}

const char* CommandName(CommandType type) {
    switch (type) {
        case CommandType::kRegisterUser:
            return "RegisterUser";
        case CommandType::kUpdateUser:
            return "UpdateUser";
        case CommandType::kCreateSession:
            return "CreateSession";
        case CommandType::kRevokeSession:
            return "RevokeSession";
        case CommandType::kCreateMerchant:
            return "CreateMerchant";
        case CommandType::kChangeTier:
            return "ChangeTier";
        case CommandType::kTopup:
            return "Topup";
        case CommandType::kTransfer:
            return "Transfer";
        case CommandType::kPay:
            return "Pay";
        case CommandType::kRefund:
            return "Refund";
        case CommandType::kAuthorize:
            return "Authorize";
        case CommandType::kCapture:
            return "Capture";
        case CommandType::kCancelHold:
            return "CancelHold";
        case CommandType::kConfigureRisk:
            return "ConfigureRisk";
        case CommandType::kSetMerchantLimits:
            return "SetMerchantLimits";
        case CommandType::kSetUserLimits:
            return "SetUserLimits";
    }
    return "Unknown";
}

void EncodeCommand(const Command& c, std::string* out) {
    BinaryWriter w(out);
    w.U8(kCommandVersion);
    w.U16(static_cast<uint16_t>(c.type));
    w.U8(static_cast<uint8_t>(c.principal.kind));
    if (c.principal.kind != PrincipalKind::kNone) w.Hash(c.principal.credential_hash);
    w.String(c.idempotency_key);
    if (!c.idempotency_key.empty()) {
        w.Hash(c.request_fingerprint);
        w.U8(c.v1_fingerprint ? 1 : 0);
        if (c.v1_fingerprint) w.Hash(*c.v1_fingerprint);
    }
    switch (c.type) {
        case CommandType::kRegisterUser:
            w.String(c.email);
            w.String(c.name);
            w.String(c.password_hash);
            break;
        case CommandType::kUpdateUser:
            w.U64(c.user_id);
            w.String(c.name);
            break;
        case CommandType::kCreateSession:
            w.U64(c.user_id);
            w.Hash(c.secret_hash);
            w.U64(c.expires_at);
            break;
        case CommandType::kRevokeSession:
            break;
        case CommandType::kCreateMerchant:
            w.String(c.name);
            w.U8(static_cast<uint8_t>(c.tier));
            w.Hash(c.secret_hash);
            // Added without a version change: a record without it ends before (currency 0).
            if (c.currency != 0) w.U32(c.currency);
            break;
        case CommandType::kChangeTier:
            w.U64(c.merchant_id);
            w.U8(static_cast<uint8_t>(c.tier));
            w.String(c.reason);
            break;
        case CommandType::kTopup:
            w.U64(c.user_id);
            w.U128(c.amount);
            w.U32(c.currency);
            break;
        case CommandType::kTransfer:
            w.U64(c.user_id);
            w.U64(c.to_user_id);
            w.U128(c.amount);
            w.U32(c.currency);
            break;
        case CommandType::kPay:
            w.U64(c.user_id);
            w.U64(c.merchant_id);
            w.U128(c.amount);
            w.U32(c.currency);
            break;
        case CommandType::kRefund:
            w.U64(c.txn_id);
            w.U128(c.amount);
            w.U8(static_cast<uint8_t>(c.refund_reason));
            break;
        case CommandType::kAuthorize:
            w.U64(c.user_id);
            w.U64(c.merchant_id);
            w.U128(c.amount);
            w.U32(c.currency);
            w.U64(c.expires_in);
            w.String(c.reference);
            break;
        case CommandType::kCapture:
            w.U64(c.hold_id);
            w.U128(c.amount);
            w.U8(c.final ? 1 : 0);
            break;
        case CommandType::kCancelHold:
            w.U64(c.hold_id);
            w.String(c.reason);
            break;
        case CommandType::kConfigureRisk:
            w.U32(static_cast<uint32_t>(c.utc_offset_minutes));
            w.U64(c.limit_single);
            w.U64(c.limit_daily);
            break;
        case CommandType::kSetMerchantLimits:
            w.U64(c.merchant_id);
            w.U64(c.limit_single);
            w.U64(c.limit_daily);
            w.U64(c.limit_monthly);
            break;
        case CommandType::kSetUserLimits:
            w.U64(c.user_id);
            w.U64(c.limit_single);
            w.U64(c.limit_daily);
            break;
    }
}

namespace {

// Journal v1's command types 1 to 8.
constexpr CommandType kV1Types[] = {
    CommandType::kRegisterUser,  CommandType::kUpdateUser,     CommandType::kCreateSession,
    CommandType::kRevokeSession, CommandType::kCreateMerchant, CommandType::kTopup,
    CommandType::kPay,           CommandType::kTransfer};

std::unexpected<Status> Malformed() { return Error(StatusCode::kCorruption, "malformed command"); }

// Journal v1: one flat layout for every command, types 1 to 8, the new secret in plaintext.
Result<Command> DecodeV1(BinaryReader& r) {
    Command c;
    c.version = 1;
    std::string secret;  // read and dropped
    uint8_t type = 0, kind = 0, tier = 0;
    bool ok = r.U8(&type) && r.U8(&kind) && r.Hash(&c.principal.credential_hash) &&
              r.String(&c.idempotency_key, kIdempotencyKeyBytesMax) &&
              r.Hash(&c.request_fingerprint) && r.U64(&c.user_id) && r.U64(&c.merchant_id) &&
              r.U64(&c.to_user_id) && r.U128(&c.amount) && r.U32(&c.currency) && r.U8(&tier) &&
              r.String(&c.email, kEmailBytesMax) && r.String(&c.name, kNameBytesMax) &&
              r.String(&c.password_hash, kPasswordHashBytesMax) &&
              r.String(&secret, kSecretBytesMax) && r.Hash(&c.secret_hash) &&
              r.U64(&c.expires_at) && r.done();
    if (!ok || type < 1 || type > 8 || kind > 3 || tier < 1 || tier > 4) return Malformed();
    c.type = kV1Types[type - 1];
    c.principal.kind = static_cast<PrincipalKind>(kind);
    c.tier = static_cast<Tier>(tier);
    // A v1 binary compared raw fingerprints: the v1 fingerprint is the one it recorded.
    if (!c.idempotency_key.empty()) c.v1_fingerprint = c.request_fingerprint;
    return c;
}

}  // namespace

std::optional<CommandHead> PeekCommand(std::string_view bytes) {
    if (bytes.size() < 2) return std::nullopt;
    const auto version = static_cast<uint8_t>(bytes[0]);
    if (version == 1) {
        const auto type = static_cast<uint8_t>(bytes[1]);
        if (type < 1 || type > 8) return std::nullopt;
        return CommandHead{1, kV1Types[type - 1]};
    }
    uint16_t type = 0;
    if (version != kCommandVersion || bytes.size() < 3) return std::nullopt;
    std::memcpy(&type, bytes.data() + 1, sizeof(type));
    if (!IsKnownCommand(type)) return std::nullopt;
    return CommandHead{version, static_cast<CommandType>(type)};
}

Result<Command> DecodeCommand(std::string_view bytes) {
    BinaryReader r(bytes);
    uint8_t version = 0;
    if (!r.U8(&version)) return Malformed();
    if (version == 1) return DecodeV1(r);
    if (version != kCommandVersion) return Malformed();
    Command c;
    uint16_t type = 0;
    uint8_t kind = 0;
    if (!r.U16(&type) || !IsKnownCommand(type) || !r.U8(&kind) || kind > 3) return Malformed();
    c.type = static_cast<CommandType>(type);
    c.principal.kind = static_cast<PrincipalKind>(kind);
    bool ok = c.principal.kind == PrincipalKind::kNone || r.Hash(&c.principal.credential_hash);
    ok = ok && r.String(&c.idempotency_key, kIdempotencyKeyBytesMax);
    if (ok && !c.idempotency_key.empty()) {
        uint8_t has_v1 = 0;
        ok = r.Hash(&c.request_fingerprint) && r.U8(&has_v1) && has_v1 <= 1;
        if (ok && has_v1 == 1) ok = r.Hash(&c.v1_fingerprint.emplace());
    }
    uint8_t tier = 1;
    uint8_t reason = 0;
    uint8_t final = 0;
    if (ok) {
        switch (c.type) {
            case CommandType::kRegisterUser:
                ok = r.String(&c.email, kEmailBytesMax) && r.String(&c.name, kNameBytesMax) &&
                     r.String(&c.password_hash, kPasswordHashBytesMax);
                break;
            case CommandType::kUpdateUser:
                ok = r.U64(&c.user_id) && r.String(&c.name, kNameBytesMax);
                break;
            case CommandType::kCreateSession:
                ok = r.U64(&c.user_id) && r.Hash(&c.secret_hash) && r.U64(&c.expires_at);
                break;
            case CommandType::kRevokeSession:
                break;
            case CommandType::kCreateMerchant:
                ok = r.String(&c.name, kNameBytesMax) && r.U8(&tier) && r.Hash(&c.secret_hash) &&
                     (r.done() || (r.U32(&c.currency) && c.currency));
                break;
            case CommandType::kChangeTier:
                ok = r.U64(&c.merchant_id) && r.U8(&tier) && r.String(&c.reason, kReasonBytesMax);
                break;
            case CommandType::kTopup:
                ok = r.U64(&c.user_id) && r.U128(&c.amount) && r.U32(&c.currency);
                break;
            case CommandType::kTransfer:
                ok = r.U64(&c.user_id) && r.U64(&c.to_user_id) && r.U128(&c.amount) &&
                     r.U32(&c.currency);
                break;
            case CommandType::kPay:
                ok = r.U64(&c.user_id) && r.U64(&c.merchant_id) && r.U128(&c.amount) &&
                     r.U32(&c.currency);
                break;
            case CommandType::kRefund:
                ok = r.U64(&c.txn_id) && r.U128(&c.amount) && r.U8(&reason);
                break;
            case CommandType::kAuthorize:
                ok = r.U64(&c.user_id) && r.U64(&c.merchant_id) && r.U128(&c.amount) &&
                     r.U32(&c.currency) && r.U64(&c.expires_in) &&
                     r.String(&c.reference, kReferenceBytesMax);
                break;
            case CommandType::kCapture:
                ok = r.U64(&c.hold_id) && r.U128(&c.amount) && r.U8(&final);
                break;
            case CommandType::kCancelHold:
                ok = r.U64(&c.hold_id) && r.String(&c.reason, kReasonBytesMax);
                break;
            case CommandType::kConfigureRisk: {
                uint32_t offset = 0;
                ok = r.U32(&offset) && r.U64(&c.limit_single) && r.U64(&c.limit_daily);
                c.utc_offset_minutes = static_cast<int32_t>(offset);
                break;
            }
            case CommandType::kSetMerchantLimits:
                ok = r.U64(&c.merchant_id) && r.U64(&c.limit_single) && r.U64(&c.limit_daily) &&
                     r.U64(&c.limit_monthly);
                break;
            case CommandType::kSetUserLimits:
                ok = r.U64(&c.user_id) && r.U64(&c.limit_single) && r.U64(&c.limit_daily);
                break;
        }
    }
    if (!ok || !r.done() || tier < 1 || tier > 4 || reason > kRefundReasonMax || final > 1) {
        return Malformed();
    }
    c.final = final == 1;
    c.refund_reason = static_cast<RefundReason>(reason);
    c.tier = static_cast<Tier>(tier);
    return c;
}

}  // namespace bursar::payments
