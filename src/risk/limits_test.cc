#include "risk/limits.h"

#include <gtest/gtest.h>

namespace bursar::risk {
namespace {

constexpr uint32_t kJpy = 392;
constexpr uint32_t kUsd = 840;
constexpr uint64_t kDayNs = 86'400'000'000'000ull;
// 2026-01-31 00:00 UTC, a Saturday: days since the epoch.
constexpr uint64_t kJan31 = 20'484 * kDayNs;

const MerchantLimits kTier{100, 1'000, 3'000};

Limits Configured(int32_t offset = 0) {
    Limits limits;
    Settings settings;
    settings.utc_offset_minutes = offset;
    settings.user_defaults = {500, 700};
    limits.Configure(settings, 1);
    return limits;
}

TEST(Limits, NothingIsLimitedUntilConfigured) {
    Limits limits;
    EXPECT_EQ(limits.Check(1, 1, kTier, kJpy, 1'000'000, kJan31), Limit::kNone);
    limits.Record(1, 1, kJpy, 1'000'000, kJan31);
    EXPECT_TRUE(limits.merchant_counters().empty());
}

TEST(Limits, AtTheLimitPassesOneMinorUnitOverDoesNot) {
    Limits limits = Configured();
    EXPECT_EQ(limits.Check(1, 1, kTier, kJpy, 100, kJan31), Limit::kNone);
    EXPECT_EQ(limits.Check(1, 1, kTier, kJpy, 101, kJan31), Limit::kMerchantSingle);
    // USD has two decimals: 100 major units are 10 000 minor units.
    EXPECT_EQ(limits.Check(1, 1, kTier, kUsd, 10'000, kJan31), Limit::kNone);
    EXPECT_EQ(limits.Check(1, 1, kTier, kUsd, 10'001, kJan31), Limit::kMerchantSingle);
    // The user's single limit (500) comes first when both would be passed.
    EXPECT_EQ(limits.Check(1, 1, MerchantLimits{10, 1'000, 3'000}, kJpy, 501, kJan31),
              Limit::kUserSingle);
}

TEST(Limits, DailyAndMonthlyWindowsFollowTheOffset) {
    Limits limits = Configured(9 * 60);  // Tokyo: 2026-01-31 15:00 UTC is Feb 1st 00:00
    for (uint64_t user = 1; user <= 10; ++user) {
        ASSERT_EQ(limits.Check(user, 7, kTier, kJpy, 100, kJan31), Limit::kNone);
        limits.Record(user, 7, kJpy, 100, kJan31);
    }
    // The merchant's day is full (1 000): one more minor unit is refused, on the same day.
    EXPECT_EQ(limits.Check(11, 7, kTier, kJpy, 1, kJan31 + kDayNs / 2), Limit::kMerchantDaily);
    // 15:00 UTC is the next day (and month) in Tokyo: the day's quota is back.
    const uint64_t next_day = kJan31 + 15 * 3'600'000'000'000ull;
    EXPECT_EQ(limits.Check(11, 7, kTier, kJpy, 100, next_day - 1), Limit::kMerchantDaily);
    EXPECT_EQ(limits.Check(11, 7, kTier, kJpy, 100, next_day), Limit::kNone);
    // A month holds 3 000: in February three full days, then the month refuses.
    for (int day = 0; day < 3; ++day) {
        const uint64_t at = next_day + day * kDayNs;
        for (uint64_t user = 1; user <= 10; ++user) {
            ASSERT_EQ(limits.Check(user, 7, kTier, kJpy, 100, at), Limit::kNone) << day;
            limits.Record(user, 7, kJpy, 100, at);
        }
    }
    EXPECT_EQ(limits.Check(1, 7, kTier, kJpy, 1, next_day + 3 * kDayNs), Limit::kMerchantMonthly);
    const auto windows = limits.MerchantWindows(7, kTier, kJpy, next_day + 2 * kDayNs);
    EXPECT_EQ(windows[1].used, 1'000u);
    EXPECT_EQ(windows[2].used, 3'000u);
}

TEST(Limits, RefundsGiveQuotaBackInTheCurrentWindowsOnly) {
    Limits limits = Configured();
    const MerchantLimits tier{1'000, 1'000, 3'000};
    limits.Record(1, 7, kJpy, 600, kJan31);
    EXPECT_EQ(limits.Check(2, 7, tier, kJpy, 500, kJan31), Limit::kMerchantDaily);
    limits.GiveBack(1, 7, kJpy, 200, kJan31, kJan31 + 1);
    EXPECT_EQ(limits.Check(2, 7, tier, kJpy, 500, kJan31), Limit::kNone);
    EXPECT_EQ(limits.UserWindows(1, kJpy, kJan31)[1].used, 400u);
    // A refund the next day of that payment: the day has passed (nothing back), the month not
    // (Feb 1st is another month: nothing back either); within January it comes back.
    limits.GiveBack(1, 7, kJpy, 100, kJan31 - kDayNs, kJan31);  // paid Jan 30th
    EXPECT_EQ(limits.MerchantWindows(7, kTier, kJpy, kJan31)[1].used, 400u);
    EXPECT_EQ(limits.MerchantWindows(7, kTier, kJpy, kJan31)[2].used, 300u);
}

// A payment made before limits were configured was never counted: its refund gives nothing back.
TEST(Limits, ARefundOfAPaymentFromBeforeTheSettingsGivesNothingBack) {
    Limits limits;
    Settings settings;
    limits.Configure(settings, kJan31 + 1'000);
    limits.Record(1, 7, kJpy, 600, kJan31 + 2'000);
    limits.GiveBack(1, 7, kJpy, 500, kJan31 + 999, kJan31 + 3'000);
    EXPECT_EQ(limits.MerchantWindows(7, kTier, kJpy, kJan31 + 3'000)[1].used, 600u);
    limits.GiveBack(1, 7, kJpy, 500, kJan31 + 2'000, kJan31 + 3'000);
    EXPECT_EQ(limits.MerchantWindows(7, kTier, kJpy, kJan31 + 3'000)[1].used, 100u);
}

TEST(Limits, OverridesReplaceTheTierAndTheDefaults) {
    Limits limits = Configured();
    limits.SetMerchantOverride(7, MerchantLimits{0, 5'000, 0});
    EXPECT_EQ(limits.MerchantLimitsOf(7, kTier), (MerchantLimits{100, 5'000, 3'000}));
    limits.SetUserOverride(1, UserLimits{1'000, 0});
    EXPECT_EQ(limits.UserLimitsOf(1), (UserLimits{1'000, 700}));
    limits.SetUserOverride(1, UserLimits{});
    EXPECT_FALSE(limits.UserOverride(1));
    std::string bytes;
    limits.Record(1, 7, kJpy, 50, kJan31);
    limits.Save(&bytes);
    Limits loaded;
    ASSERT_TRUE(loaded.Load(bytes));
    std::string again;
    loaded.Save(&again);
    EXPECT_EQ(again, bytes);
    EXPECT_TRUE(loaded.configured());
    EXPECT_EQ(loaded.MerchantLimitsOf(7, kTier), (MerchantLimits{100, 5'000, 3'000}));
    for (size_t size = 0; size < bytes.size(); ++size) {
        Limits partial;
        EXPECT_FALSE(partial.Load(bytes.substr(0, size))) << size;
    }
}

}  // namespace
}  // namespace bursar::risk
