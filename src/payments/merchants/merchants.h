#pragma once

// Merchants (SPEC.md P4, P9): created by the admin with a name and a tier; a merchant
// authenticates with an API key, held by its SHA-256 only. README.md beside this file.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/binary_codec.h"
#include "base/sha256.h"
#include "base/status.h"
#include "payments/authorization.h"
#include "payments/command.h"
#include "payments/outcome.h"

namespace bursar::payments::merchants {

// A change of tier: when, from and to which, and why (the actor is the admin: only the admin
// changes tiers).
struct TierChange {
    uint64_t at = 0;
    Tier from = Tier::kStarter;
    Tier to = Tier::kStarter;
    std::string reason;
};

struct Merchant {
    std::string name;
    Tier tier = Tier::kStarter;
    Hash256 api_key_hash{};
    uint64_t created_at = 0;
    std::vector<TierChange> tier_history;  // oldest first
    // The merchant's own currency (the one a single-currency tier is paid in); 0: created before
    // merchants had one (no tier restriction applies to it).
    uint32_t currency = 0;
};

class Merchants {
  public:
    Outcome Create(const Command& c, const Caller& caller, uint64_t timestamp);
    Outcome ChangeTier(const Command& c, const Caller& caller, uint64_t timestamp);

    std::optional<uint64_t> ByApiKey(const Hash256& key_hash) const;
    const Merchant* Find(uint64_t merchant_id) const;
    bool Exists(uint64_t id) const { return id != 0 && id <= merchants_.size(); }
    uint64_t count() const { return merchants_.size(); }

    // 3: each merchant's currency follows its history; 2 (read): without the currency; 1 (read):
    // without the history either.
    static constexpr uint32_t kSectionVersion = 3;
    void Save(std::string* out) const;
    bool Load(std::string_view section, uint32_t version);
    bool LoadV1(BinaryReader& r);  // the same layout, inside v1's domain blob
    Status CheckInvariants() const;
    uint64_t MemoryBytes() const;

  private:
    bool LoadMerchants(BinaryReader& r, uint32_t version);

    std::vector<Merchant> merchants_;  // merchant id = index + 1
    std::map<Hash256, uint64_t> merchants_by_key_;
};

}  // namespace bursar::payments::merchants
