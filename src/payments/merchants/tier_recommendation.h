#pragma once

// The tier recommendation (SPEC.md P9): from a merchant's last 30 days, whether a higher or a
// lower tier fits it better, and why, in numbers. A pure function of the tier and the daily
// volumes; the API reads the volumes from the read model. The rule (docs/api.md):
//   - usage = the peak day against the tier's daily limit, and the 30 days against its monthly
//     limit, in percent (limits in major units of the currency);
//   - upgrade, to the next tier, when either usage is 80 % or more: the limits are near, and the
//     next tier's fee rate is lower (the fee saved over the 30 days is given);
//   - downgrade, to the tier below, when the 30 days would use at most half of that tier's
//     limits, both daily and monthly: the higher limits are not needed (the extra fee the lower
//     tier would have cost over the 30 days is given, as a negative saving);
//   - none otherwise.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/u128.h"
#include "payments/command.h"

namespace bursar::payments::merchants {

inline constexpr uint32_t kRecommendationDays = 30;
inline constexpr uint32_t kUpgradeUsagePercent = 80;
inline constexpr uint32_t kDowngradeUsagePercent = 50;

struct TierRecommendation {
    enum class Action : uint8_t { kNone, kUpgrade, kDowngrade } action = Action::kNone;
    Tier current = Tier::kStarter;
    Tier recommended = Tier::kStarter;  // == current when the action is none
    u128 peak_day_minor = 0;
    u128 month_minor = 0;
    uint32_t peak_day_percent = 0;  // of the current tier's daily limit
    uint32_t month_percent = 0;     // of its monthly limit
    // The fee the 30 days would have cost less at the recommended tier (negative: more).
    int64_t fee_saved_minor = 0;
    std::string reason;
};

const char* ActionName(TierRecommendation::Action action);

// `daily_minor`: the merchant's payment volume of each of the last 30 days (any order), in minor
// units of a currency with `exponent` decimals.
TierRecommendation RecommendTier(Tier current, const std::vector<u128>& daily_minor,
                                 uint8_t exponent);

}  // namespace bursar::payments::merchants
