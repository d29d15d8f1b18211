#include "payments/merchants/tier_recommendation.h"

#include <algorithm>

namespace bursar::payments::merchants {
namespace {

u128 Pow10(uint8_t exponent) {
    u128 value = 1;
    for (uint8_t i = 0; i < exponent; ++i) value *= 10;
    return value;
}

// `part` of `whole` in whole percent, rounded down (whole > 0), at most 1 000 000.
uint32_t Percent(u128 part, u128 whole) {
    const u128 percent = part * 100 / whole;
    return static_cast<uint32_t>(std::min<u128>(percent, 1'000'000));
}

// The fee of `volume` at `basis_points`, rounded half up like a payment's.
u128 FeeOf(u128 volume, uint32_t basis_points) { return (volume * basis_points + 5000) / 10000; }

std::string Major(u128 minor, u128 scale) { return U128ToString(minor / scale); }

}  // namespace

const char* ActionName(TierRecommendation::Action action) {
    switch (action) {
        case TierRecommendation::Action::kNone:
            return "none";
        case TierRecommendation::Action::kUpgrade:
            return "upgrade";
        case TierRecommendation::Action::kDowngrade:
            return "downgrade";
    }
    return "none";
}

TierRecommendation RecommendTier(Tier current, const std::vector<u128>& daily_minor,
                                 uint8_t exponent) {
    TierRecommendation r;
    r.current = current;
    r.recommended = current;
    for (u128 day : daily_minor) {
        r.peak_day_minor = std::max(r.peak_day_minor, day);
        r.month_minor += day;
    }
    const u128 scale = Pow10(exponent);
    const TierInfo& tier = GetTier(current);
    r.peak_day_percent = Percent(r.peak_day_minor, u128{tier.daily_limit_major} * scale);
    r.month_percent = Percent(r.month_minor, u128{tier.monthly_limit_major} * scale);
    const auto level = static_cast<uint8_t>(current);
    const std::string usage =
        "peak day " + Major(r.peak_day_minor, scale) + " is " + std::to_string(r.peak_day_percent) +
        " % of the daily limit " + std::to_string(tier.daily_limit_major) + ", 30 days " +
        Major(r.month_minor, scale) + " are " + std::to_string(r.month_percent) +
        " % of the monthly limit " + std::to_string(tier.monthly_limit_major);
    const u128 fee_now = FeeOf(r.month_minor, tier.fee_basis_points);
    if ((r.peak_day_percent >= kUpgradeUsagePercent || r.month_percent >= kUpgradeUsagePercent) &&
        level < static_cast<uint8_t>(Tier::kPremium)) {
        r.action = TierRecommendation::Action::kUpgrade;
        r.recommended = static_cast<Tier>(level + 1);
        const TierInfo& next = GetTier(r.recommended);
        r.fee_saved_minor = static_cast<int64_t>(fee_now) -
                            static_cast<int64_t>(FeeOf(r.month_minor, next.fee_basis_points));
        r.reason = usage + ": at " + std::to_string(kUpgradeUsagePercent) + " % or more, " +
                   std::string(next.name) + " raises the limits to " +
                   std::to_string(next.daily_limit_major) + " a day and " +
                   std::to_string(next.monthly_limit_major) + " a month, and its fee rate would " +
                   "have saved " + std::to_string(r.fee_saved_minor) + " minor units.";
        return r;
    }
    if (level > static_cast<uint8_t>(Tier::kStarter)) {
        const TierInfo& lower = GetTier(static_cast<Tier>(level - 1));
        const uint32_t lower_day = Percent(r.peak_day_minor, u128{lower.daily_limit_major} * scale);
        const uint32_t lower_month =
            Percent(r.month_minor, u128{lower.monthly_limit_major} * scale);
        if (lower_day <= kDowngradeUsagePercent && lower_month <= kDowngradeUsagePercent) {
            r.action = TierRecommendation::Action::kDowngrade;
            r.recommended = lower.tier;
            r.fee_saved_minor = static_cast<int64_t>(fee_now) -
                                static_cast<int64_t>(FeeOf(r.month_minor, lower.fee_basis_points));
            r.reason = usage + ": " + std::string(lower.name) + "'s limits would be used " +
                       std::to_string(lower_day) + " % a day and " + std::to_string(lower_month) +
                       " % a month, at most " + std::to_string(kDowngradeUsagePercent) +
                       " %; its fee rate would have cost " + std::to_string(-r.fee_saved_minor) +
                       " minor units more.";
            return r;
        }
    }
    r.reason = usage + ": the tier fits.";
    return r;
}

}  // namespace bursar::payments::merchants
