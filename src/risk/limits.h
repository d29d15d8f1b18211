#pragma once

// Limits (SPEC.md R1, R2), called by the money-moving modules during their checks: a merchant's
// single-payment, daily and monthly limits (its tier's, or the admin's overrides), and a user's
// single-payment and daily limits (the configured defaults, or the admin's overrides). Limits are
// in major units of the payment's currency and counted per currency; windows are the days and
// months of the configured UTC offset, decided from batch timestamps. A payment exactly at a limit
// passes; one minor unit over does not. A refund gives the quota back in the windows its payment
// counted in, when they are still the current ones.
//
// Part of the state machine (deterministic, no clock): the settings (the offset, the user
// defaults) are journaled state, set by a command the server sends at start when its
// configuration differs. Limits are in force from the first such command on: a journal written
// before limits existed replays as it was decided (docs/formats/compatibility.md).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/u128.h"

namespace bursar::risk {

// Which limit a payment would pass; stable names (the API's `param`).
enum class Limit : uint8_t {
    kNone = 0,
    kUserSingle = 1,
    kUserDaily = 2,
    kMerchantSingle = 3,
    kMerchantDaily = 4,
    kMerchantMonthly = 5,
};
const char* LimitName(Limit limit);  // "user.single", "merchant.daily", ...

// Limits in major units; 0 in an override: not overridden.
struct MerchantLimits {
    uint64_t single = 0;
    uint64_t daily = 0;
    uint64_t monthly = 0;
    bool operator==(const MerchantLimits&) const = default;
};
struct UserLimits {
    uint64_t single = 0;
    uint64_t daily = 0;
    bool operator==(const UserLimits&) const = default;
};

struct Settings {
    int32_t utc_offset_minutes = 0;
    UserLimits user_defaults{1'000'000, 5'000'000};
    bool operator==(const Settings&) const = default;
};

// A window's figures for reads: limit and used in minor units of the currency.
struct WindowFigures {
    std::string_view name;  // "single", "daily", "monthly"
    u128 limit = 0;
    u128 used = 0;  // 0 for "single"
};

inline constexpr uint64_t kLimitMajorMax = 1'000'000'000'000'000ull;  // 10^15 major units

class Limits {
  public:
    bool configured() const { return configured_; }
    // Nothing to save: never configured, no override (a state from before limits existed).
    bool empty() const {
        return !configured_ && merchant_overrides_.empty() && user_overrides_.empty();
    }
    const Settings& settings() const { return settings_; }
    // The first configuration at `timestamp` puts limits in force: payments from then on count.
    void Configure(const Settings& settings, uint64_t timestamp) {
        settings_ = settings;
        if (!configured_) configured_at_ = timestamp;
        configured_ = true;
    }
    uint64_t configured_at() const { return configured_at_; }
    void SetMerchantOverride(uint64_t merchant, const MerchantLimits& limits);
    void SetUserOverride(uint64_t user, const UserLimits& limits);

    // The merchant's limits in force: the override where set, the tier's otherwise.
    MerchantLimits MerchantLimitsOf(uint64_t merchant, const MerchantLimits& tier) const;
    UserLimits UserLimitsOf(uint64_t user) const;
    std::optional<MerchantLimits> MerchantOverride(uint64_t merchant) const;
    std::optional<UserLimits> UserOverride(uint64_t user) const;

    // The first limit a payment of `amount` (minor units of `currency`) at `timestamp` would
    // pass, in the order user.single, user.daily, merchant.single, merchant.daily,
    // merchant.monthly; kNone when it passes none (always, until configured).
    Limit Check(uint64_t user, uint64_t merchant, const MerchantLimits& tier, uint32_t currency,
                u128 amount, uint64_t timestamp) const;
    // Counts a payment that was made (after Check gave kNone and the entry committed).
    void Record(uint64_t user, uint64_t merchant, uint32_t currency, u128 amount,
                uint64_t timestamp);
    // A refund of `amount` of a payment made at `paid_at`: the quota comes back in the windows
    // the payment counted in, when they are the current ones at `timestamp` (and nothing for a
    // payment from before the limits were configured: it was never counted). The windows are
    // those of the offset in force: after an operator changes the offset, a refund of a payment
    // from just before may give back to a window it did not count in (documented).
    void GiveBack(uint64_t user, uint64_t merchant, uint32_t currency, u128 amount,
                  uint64_t paid_at, uint64_t timestamp);

    // Reads: each window of the merchant's (single, daily, monthly) or the user's (single,
    // daily) limits in `currency` at `timestamp`.
    std::vector<WindowFigures> MerchantWindows(uint64_t merchant, const MerchantLimits& tier,
                                               uint32_t currency, uint64_t timestamp) const;
    std::vector<WindowFigures> UserWindows(uint64_t user, uint32_t currency,
                                           uint64_t timestamp) const;

    // Days and months of the configured offset.
    int64_t DayOf(uint64_t timestamp) const;
    int64_t MonthOf(uint64_t timestamp) const;  // year * 12 + month - 1

    static constexpr uint32_t kSectionVersion = 1;
    void Save(std::string* out) const;
    bool Load(std::string_view section);
    Status CheckInvariants() const;
    uint64_t MemoryBytes() const;

    // The counters, for the invariant's recount in tests: (id, currency) → used per window.
    struct Counter {
        int64_t day = INT64_MIN;
        u128 day_used = 0;
        int64_t month = INT64_MIN;
        u128 month_used = 0;
        bool operator==(const Counter&) const = default;
    };
    using Key = std::pair<uint64_t, uint32_t>;
    struct KeyHash {
        size_t operator()(const Key& key) const {
            return std::hash<uint64_t>()(key.first * 0x9E3779B97F4A7C15ull ^ key.second);
        }
    };
    // Hashed: a payment looks two up and counts in them (saved in key order).
    using Counters = std::unordered_map<Key, Counter, KeyHash>;
    const Counters& merchant_counters() const { return merchants_; }
    const Counters& user_counters() const { return users_; }

  private:
    bool configured_ = false;
    uint64_t configured_at_ = 0;
    Settings settings_;
    std::map<uint64_t, MerchantLimits> merchant_overrides_;
    std::map<uint64_t, UserLimits> user_overrides_;
    Counters merchants_;
    Counters users_;
};

// `major` major units of `currency` in minor units (0 for an unknown currency).
u128 MinorUnits(uint64_t major, uint32_t currency);

}  // namespace bursar::risk
