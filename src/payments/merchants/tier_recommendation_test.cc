#include "payments/merchants/tier_recommendation.h"

#include <gtest/gtest.h>

namespace bursar::payments::merchants {
namespace {

std::vector<u128> Days(u128 each, size_t count = kRecommendationDays) {
    return std::vector<u128>(count, each);
}

TEST(TierRecommendation, UpgradesNearTheLimitsWithTheFeeSaved) {
    // Starter, JPY (no decimals): a peak day of 80 000 is 80 % of the daily limit of 100 000.
    std::vector<u128> days = Days(1'000, 29);
    days.push_back(80'000);
    const TierRecommendation r = RecommendTier(Tier::kStarter, days, 0);
    EXPECT_EQ(r.action, TierRecommendation::Action::kUpgrade);
    EXPECT_EQ(r.recommended, Tier::kBusiness);
    EXPECT_EQ(r.peak_day_percent, 80u);
    EXPECT_EQ(r.month_minor, static_cast<u128>(109'000));
    // 0.8 % of 109 000 = 872, 0.6 % = 654: 218 saved.
    EXPECT_EQ(r.fee_saved_minor, 218);
    EXPECT_NE(r.reason.find("80 %"), std::string::npos) << r.reason;
    // One unit under 80 % of both limits: no change.
    days.back() = 79'999;
    EXPECT_EQ(RecommendTier(Tier::kStarter, days, 0).action, TierRecommendation::Action::kNone);
}

TEST(TierRecommendation, MonthlyUsageAloneUpgradesAndPremiumStays) {
    // Business: 30 days of 40 000 = 1 200 000 of 1 500 000 a month (80 %), peak 8 % a day.
    EXPECT_EQ(RecommendTier(Tier::kBusiness, Days(40'000), 0).action,
              TierRecommendation::Action::kUpgrade);
    EXPECT_EQ(RecommendTier(Tier::kPremium, Days(9'000'000), 0).action,
              TierRecommendation::Action::kNone);
}

TEST(TierRecommendation, DowngradesWhenTheLowerTierHasRoomAndSaysTheExtraFee) {
    // Enterprise with days of 1 000 USD (100 000 cents): business's limits used 0.2 % a day and
    // 2 % a month.
    const TierRecommendation r = RecommendTier(Tier::kEnterprise, Days(100'000), 2);
    EXPECT_EQ(r.action, TierRecommendation::Action::kDowngrade);
    EXPECT_EQ(r.recommended, Tier::kBusiness);
    // 3 000 000 cents at 0.45 % = 13 500, at 0.6 % = 18 000: 4 500 more.
    EXPECT_EQ(r.fee_saved_minor, -4'500);
    // Starter has no tier below; a merchant with no payments is left where it is.
    EXPECT_EQ(RecommendTier(Tier::kStarter, {}, 0).action, TierRecommendation::Action::kNone);
}

}  // namespace
}  // namespace bursar::payments::merchants
