#include "payments/command.h"

#include <array>

#include "base/binary_codec.h"

namespace bursar::payments {
namespace {

constexpr std::array<TierInfo, 4> kTiers = {{
    {Tier::kStarter, "starter", 80},
    {Tier::kBusiness, "business", 60},
    {Tier::kEnterprise, "enterprise", 45},
    {Tier::kPremium, "premium", 30},
}};

constexpr uint8_t kCommandVersion = 1;

}  // namespace

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

void EncodeCommand(const Command& c, std::string* out) {
    BinaryWriter w(out);
    w.U8(kCommandVersion);
    w.U8(static_cast<uint8_t>(c.type));
    w.U8(static_cast<uint8_t>(c.principal.kind));
    w.Hash(c.principal.credential_hash);
    w.String(c.idempotency_key);
    w.Hash(c.request_fingerprint);
    w.U64(c.user_id);
    w.U64(c.merchant_id);
    w.U64(c.to_user_id);
    w.U128(c.amount);
    w.U32(c.currency);
    w.U8(static_cast<uint8_t>(c.tier));
    w.String(c.email);
    w.String(c.name);
    w.String(c.password_hash);
    w.String(c.secret);
    w.Hash(c.secret_hash);
    w.U64(c.expires_at);
}

Result<Command> DecodeCommand(std::string_view bytes) {
    BinaryReader r(bytes);
    Command c;
    uint8_t version = 0, type = 0, kind = 0, tier = 0;
    bool ok = r.U8(&version) && version == kCommandVersion && r.U8(&type) && r.U8(&kind) &&
              r.Hash(&c.principal.credential_hash) &&
              r.String(&c.idempotency_key, kIdempotencyKeyBytesMax) &&
              r.Hash(&c.request_fingerprint) && r.U64(&c.user_id) && r.U64(&c.merchant_id) &&
              r.U64(&c.to_user_id) && r.U128(&c.amount) && r.U32(&c.currency) && r.U8(&tier) &&
              r.String(&c.email, kEmailBytesMax) && r.String(&c.name, kNameBytesMax) &&
              r.String(&c.password_hash, kPasswordHashBytesMax) &&
              r.String(&c.secret, kSecretBytesMax) && r.Hash(&c.secret_hash) &&
              r.U64(&c.expires_at) && r.done();
    if (!ok || type < 1 || type > 8 || kind > 3 || tier < 1 || tier > 4) {
        return Error(StatusCode::kCorruption, "malformed command");
    }
    c.type = static_cast<CommandType>(type);
    c.principal.kind = static_cast<PrincipalKind>(kind);
    c.tier = static_cast<Tier>(tier);
    return c;
}

}  // namespace bursar::payments
