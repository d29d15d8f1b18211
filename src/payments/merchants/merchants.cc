#include "payments/merchants/merchants.h"

namespace bursar::payments::merchants {
namespace {

constexpr uint64_t kMerchantsMax = 1ull << 40;  // a bound for decoding

}  // namespace

// Checks, in order: signed in, the caller is the admin, the API key's hash is new (the API made
// a random key: a collision is a server fault).
Outcome Merchants::Create(const Command& c, const Caller& caller, uint64_t timestamp) {
    if (caller.kind == Caller::Kind::kAnonymous) return Refused(ResultCode::kUnauthenticated);
    if (caller.kind != Caller::Kind::kAdmin) return Refused(ResultCode::kForbidden);
    if (merchants_by_key_.contains(c.secret_hash)) return Refused(ResultCode::kApiKeyTaken);
    merchants_.push_back(Merchant{c.name, c.tier, c.secret_hash, timestamp, {}, c.currency});
    const uint64_t id = merchants_.size();
    merchants_by_key_.emplace(c.secret_hash, id);
    Outcome outcome;
    outcome.object_id = id;
    outcome.time = timestamp;
    return outcome;
}

// Checks, in order: signed in, the admin, the merchant exists, the tier is another.
Outcome Merchants::ChangeTier(const Command& c, const Caller& caller, uint64_t timestamp) {
    if (caller.kind == Caller::Kind::kAnonymous) return Refused(ResultCode::kUnauthenticated);
    if (caller.kind != Caller::Kind::kAdmin) return Refused(ResultCode::kForbidden);
    if (!Exists(c.merchant_id)) return Refused(ResultCode::kTierMerchantNotFound);
    Merchant& merchant = merchants_[c.merchant_id - 1];
    if (merchant.tier == c.tier) return Refused(ResultCode::kTierUnchanged);
    merchant.tier_history.push_back(TierChange{timestamp, merchant.tier, c.tier, c.reason});
    merchant.tier = c.tier;
    Outcome outcome;
    outcome.object_id = c.merchant_id;
    outcome.time = timestamp;
    return outcome;
}

std::optional<uint64_t> Merchants::ByApiKey(const Hash256& key_hash) const {
    auto it = merchants_by_key_.find(key_hash);
    if (it == merchants_by_key_.end()) return std::nullopt;
    return it->second;
}

const Merchant* Merchants::Find(uint64_t merchant_id) const {
    return Exists(merchant_id) ? &merchants_[merchant_id - 1] : nullptr;
}

void Merchants::Save(std::string* out) const {
    BinaryWriter w(out);
    w.U64(merchants_.size());
    for (const Merchant& m : merchants_) {
        w.String(m.name);
        w.U8(static_cast<uint8_t>(m.tier));
        w.Hash(m.api_key_hash);
        w.U64(m.created_at);
        w.U32(static_cast<uint32_t>(m.tier_history.size()));
        for (const TierChange& change : m.tier_history) {
            w.U64(change.at);
            w.U8(static_cast<uint8_t>(change.from));
            w.U8(static_cast<uint8_t>(change.to));
            w.String(change.reason);
        }
        w.U32(m.currency);
    }
}

bool Merchants::LoadV1(BinaryReader& r) { return LoadMerchants(r, 1); }

bool Merchants::LoadMerchants(BinaryReader& r, uint32_t version) {
    const bool with_history = version >= 2;
    uint64_t count = 0;
    if (!r.U64(&count) || count > kMerchantsMax) return false;
    for (uint64_t i = 0; i < count; ++i) {
        Merchant m;
        uint8_t tier = 0;
        if (!r.String(&m.name, kNameBytesMax) || !r.U8(&tier) || tier < 1 || tier > 4 ||
            !r.Hash(&m.api_key_hash) || !r.U64(&m.created_at)) {
            return false;
        }
        m.tier = static_cast<Tier>(tier);
        uint32_t changes = 0;
        if (with_history && !r.U32(&changes)) return false;
        for (uint32_t i = 0; i < changes; ++i) {
            TierChange change;
            uint8_t from = 0, to = 0;
            if (!r.U64(&change.at) || !r.U8(&from) || !r.U8(&to) || from < 1 || from > 4 ||
                to < 1 || to > 4 || !r.String(&change.reason, kReasonBytesMax)) {
                return false;
            }
            change.from = static_cast<Tier>(from);
            change.to = static_cast<Tier>(to);
            m.tier_history.push_back(std::move(change));
        }
        if (version >= 3 && !r.U32(&m.currency)) return false;
        if (!merchants_by_key_.emplace(m.api_key_hash, merchants_.size() + 1).second) return false;
        merchants_.push_back(std::move(m));
    }
    return true;
}

bool Merchants::Load(std::string_view section, uint32_t version) {
    BinaryReader r(section);
    return LoadMerchants(r, version) && r.done();
}

Status Merchants::CheckInvariants() const {
    if (merchants_by_key_.size() != merchants_.size()) {
        return Status(StatusCode::kCorruption, "merchants: the API key index");
    }
    for (const Merchant& merchant : merchants_) {
        Tier tier = merchant.tier_history.empty() ? merchant.tier : merchant.tier_history[0].from;
        for (const TierChange& change : merchant.tier_history) {
            if (change.from != tier || change.to == change.from) {
                return Status(StatusCode::kCorruption, "merchants: a tier history out of step");
            }
            tier = change.to;
        }
        if (tier != merchant.tier) {
            return Status(StatusCode::kCorruption, "merchants: a tier history out of step");
        }
    }
    for (const auto& [hash, id] : merchants_by_key_) {
        if (!Exists(id) || merchants_[id - 1].api_key_hash != hash) {
            return Status(StatusCode::kCorruption, "merchants: an API key of another merchant");
        }
    }
    return Status::Ok();
}

uint64_t Merchants::MemoryBytes() const {
    constexpr uint64_t kNodeBytes = 48;  // a std::map node's links and allocator overhead
    constexpr uint64_t kTextBytes = 80;  // a name beyond the string's own buffer
    return merchants_.capacity() * (sizeof(Merchant) + kTextBytes) +
           merchants_by_key_.size() * (kNodeBytes + sizeof(Hash256) + sizeof(uint64_t));
}

}  // namespace bursar::payments::merchants
