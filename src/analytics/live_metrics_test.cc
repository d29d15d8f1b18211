#include "analytics/live_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>

#include "analytics/id_set.h"
#include "projection/projector.h"

namespace bursar::analytics {
namespace {

constexpr uint32_t kJpy = 392;
constexpr int32_t kOffsetMinutes = 9 * 60;  // Asia/Tokyo
constexpr uint64_t kDayNs = 86'400'000'000'000ull;
constexpr uint64_t kStart = 1'795'000'000ull * 1'000'000'000ull;

class LiveMetricsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("bursar-metrics-" + std::to_string(::getpid())))
                   .string();
        std::filesystem::remove_all(dir_);
        Open();
    }
    void TearDown() override {
        Close();
        std::filesystem::remove_all(dir_);
    }

    void Open() {
        engine::EngineOptions options;
        options.data_dir = dir_;
        auto engine = engine::Engine::Open(PosixFileSystem(), clock_, options);
        ASSERT_TRUE(engine) << engine.error().ToString();
        engine_ = std::move(*engine);
        engine_->Start();
        projector_ =
            std::make_unique<projection::Projector>(PosixFileSystem(), *engine_, dir_, nullptr);
        ASSERT_TRUE(projector_->Start().ok());
        metrics_ = std::make_unique<LiveMetrics>(kOffsetMinutes, kJpy);
        service_ = std::make_unique<MetricsService>(PosixFileSystem(), *engine_, dir_ + "/journal",
                                                    *metrics_);
        service_->Start();
    }
    void Close() {
        service_.reset();
        projector_.reset();
        engine_.reset();
    }

    payments::Outcome Run(payments::Command c) {
        c.principal.kind = payments::PrincipalKind::kAdmin;
        auto result = engine::RunCommand(*engine_, std::move(c));
        EXPECT_TRUE(result) << result.error().ToString();
        return result ? std::move(*result)
                      : payments::Refused(payments::ResultCode::kUnknownCommand);
    }

    // Random users, merchants and money movements over two days (and one in USD).
    void Traffic(uint64_t seed) {
        std::mt19937_64 random(seed);
        for (int i = 0; i < 6; ++i) {
            payments::Command reg;
            reg.type = payments::CommandType::kRegisterUser;
            reg.email = "u" + std::to_string(seed) + "-" + std::to_string(i) + "@example.com";
            Run(reg);
        }
        for (int i = 0; i < 3; ++i) {
            payments::Command m;
            m.type = payments::CommandType::kCreateMerchant;
            m.secret_hash = Sha256::Of(&i, sizeof(i));
            m.secret_hash[0] ^= static_cast<uint8_t>(seed);
            Run(m);
        }
        const uint64_t users = 6 * seed, merchants = 3 * seed;
        for (int step = 0; step < 120; ++step) {
            if (step == 60) clock_.Advance(kDayNs);
            payments::Command c;
            c.user_id = 1 + random() % users;
            c.amount = 1 + random() % 500;
            c.currency = random() % 10 == 0 ? 840 : kJpy;
            switch (random() % 3) {
                case 0:
                    c.type = payments::CommandType::kTopup;
                    c.amount *= 10;
                    break;
                case 1:
                    c.type = payments::CommandType::kPay;
                    c.merchant_id = 1 + random() % merchants;
                    break;
                default:
                    c.type = payments::CommandType::kTransfer;
                    c.to_user_id = 1 + random() % users;
                    if (c.to_user_id == c.user_id) c.to_user_id = c.user_id % users + 1;
            }
            Run(c);
        }
    }

    // The same figures from a full scan of the read model's rows.
    DayFigures Recount(int64_t day, std::optional<uint64_t> merchant) {
        EXPECT_TRUE(projector_->WaitFor(engine_->committed_seq(), 5000));
        auto model = projection::ReadModel::Open(projection::ReadModelPath(dir_));
        bool more = true;
        std::optional<uint64_t> cursor;
        DayFigures figures;
        figures.day = day;
        std::set<uint64_t> users;
        std::map<uint64_t, u128> volume;
        while (more) {
            projection::ListFilter filter;
            filter.size = projection::kListSizeMax;
            filter.before_txn_id = cursor;
            auto rows = (*model)->List(filter, &more);
            EXPECT_TRUE(rows);
            for (const auto& row : *rows) {
                cursor = row.txn_id;
                if (metrics_->DayOf(row.created_at_ns) != day) continue;
                if (merchant && !(row.type == "PAY" && row.merchant_id == *merchant)) continue;
                ++figures.txn_count;
                users.insert(row.user_id);
                if (!merchant && row.to_user_id != 0) users.insert(row.to_user_id);
                if (row.type == "PAY" && row.currency == "JPY") {
                    figures.amount_minor += row.amount_minor;
                    volume[row.merchant_id] += row.amount_minor;
                }
            }
        }
        figures.dau = users.size();
        if (merchant) return figures;  // top merchants are platform figures only
        for (const auto& [id, amount] : volume) figures.top_merchants.push_back({id, amount});
        std::sort(figures.top_merchants.begin(), figures.top_merchants.end(),
                  [](const MerchantAmount& a, const MerchantAmount& b) {
                      return a.amount_minor != b.amount_minor ? a.amount_minor > b.amount_minor
                                                              : a.merchant_id < b.merchant_id;
                  });
        if (figures.top_merchants.size() > kTopMerchants)
            figures.top_merchants.resize(kTopMerchants);
        return figures;
    }

    void ExpectEqualToRecount() {
        ASSERT_TRUE(service_->WaitFor(engine_->committed_seq(), 5000));
        for (int64_t day : {metrics_->DayOf(kStart), metrics_->DayOf(kStart + kDayNs)}) {
            for (std::optional<uint64_t> merchant :
                 {std::optional<uint64_t>(), std::optional<uint64_t>(1),
                  std::optional<uint64_t>(2)}) {
                const DayFigures live = metrics_->Day(day, merchant);
                const DayFigures full = Recount(day, merchant);
                EXPECT_EQ(live.txn_count, full.txn_count) << day;
                EXPECT_EQ(live.amount_minor, full.amount_minor) << day;
                EXPECT_EQ(live.dau, full.dau) << day;
                ASSERT_EQ(live.top_merchants.size(), full.top_merchants.size());
                for (size_t i = 0; i < live.top_merchants.size(); ++i) {
                    EXPECT_EQ(live.top_merchants[i].merchant_id, full.top_merchants[i].merchant_id);
                    EXPECT_EQ(live.top_merchants[i].amount_minor,
                              full.top_merchants[i].amount_minor);
                }
            }
        }
    }

    std::string dir_;
    ManualClock clock_{kStart};
    std::unique_ptr<engine::Engine> engine_;
    std::unique_ptr<projection::Projector> projector_;
    std::unique_ptr<LiveMetrics> metrics_;
    std::unique_ptr<MetricsService> service_;
};

TEST_F(LiveMetricsTest, IncrementalFiguresEqualAFullRecountAlsoAfterARestart) {
    Traffic(1);
    ASSERT_TRUE(service_->WaitFor(engine_->committed_seq(), 5000));
    EXPECT_GT(metrics_->Day(metrics_->DayOf(kStart), std::nullopt).txn_count, 0u);
    ExpectEqualToRecount();
    Close();
    Open();  // rebuilt from the journal
    ExpectEqualToRecount();
}

TEST_F(LiveMetricsTest, RetentionBySignupCohort) {
    auto reg = [&](const std::string& email) {
        payments::Command c;
        c.type = payments::CommandType::kRegisterUser;
        c.email = email;
        ASSERT_TRUE(Run(c).ok());
    };
    auto topup = [&](uint64_t user) {
        payments::Command c;
        c.type = payments::CommandType::kTopup;
        c.user_id = user;
        c.amount = 100;
        c.currency = kJpy;
        ASSERT_TRUE(Run(c).ok());
    };
    // Week A: users 1, 2, 3 sign up; only user 1 moves money.
    reg("a@x.co");
    reg("b@x.co");
    reg("c@x.co");
    topup(1);
    // Week A + 1: user 4 signs up; users 1, 2 and 4 move money.
    clock_.Advance(7 * kDayNs);
    reg("d@x.co");
    topup(1);
    topup(2);
    topup(4);
    auto check = [&] {
        ASSERT_TRUE(service_->WaitFor(engine_->committed_seq(), 5000));
        const int64_t today = metrics_->DayOf(kStart + 7 * kDayNs);
        const std::vector<CohortRow> rows = metrics_->Retention(today, 3);
        ASSERT_EQ(rows.size(), 3u);
        EXPECT_EQ(rows[0].users, 0u);  // the week before A: nobody
        EXPECT_EQ(rows[1].week, LiveMetrics::WeekOf(metrics_->DayOf(kStart)));
        EXPECT_EQ(rows[1].users, 3u);
        EXPECT_EQ(rows[1].active, (std::vector<uint64_t>{1, 2}));
        EXPECT_EQ(rows[2].users, 1u);
        EXPECT_EQ(rows[2].active, (std::vector<uint64_t>{1}));
    };
    check();
    Close();
    Open();  // rebuilt from the journal
    check();
}

// A money movement by `user_id` on `day` (UTC) of 100 × (merchant + 1) in `currency`.
events::Event Movement(payments::TxnType type, uint64_t day, uint64_t user_id,
                       uint64_t merchant_id = 0, uint32_t currency = kJpy) {
    events::Event event;
    event.txn.type = type;
    event.txn.user_id = user_id;
    event.txn.merchant_id = merchant_id;
    event.txn.amount = 100 * (merchant_id + 1);
    event.txn.currency = currency;
    event.txn.created_at = day * kDayNs;
    return event;
}

// Days older than the kept ones leave memory, also while the last day's aggregate is at hand, and
// an event of such a day comes and goes without disturbing the kept ones.
TEST(LiveMetrics, OldDaysLeaveAndTheLastDayStaysCounted) {
    LiveMetrics metrics(0, kJpy);
    constexpr int64_t kFirst = 20'000;
    constexpr int64_t kLast = kFirst + kDaysKept + 1;
    for (int64_t day = kFirst; day <= kLast; ++day) {
        metrics.Apply(Movement(payments::TxnType::kTopup, day, 1));
    }
    EXPECT_EQ(metrics.Day(kFirst, std::nullopt).txn_count, 0u);
    EXPECT_EQ(metrics.Day(kFirst + 1, std::nullopt).txn_count, 0u);
    EXPECT_EQ(metrics.Day(kFirst + 2, std::nullopt).txn_count, 1u);
    EXPECT_EQ(metrics.Day(kLast, std::nullopt).txn_count, 1u);
    // Twice: the second finds the day gone again, not its freed aggregate (AddressSanitizer).
    metrics.Apply(Movement(payments::TxnType::kTopup, kFirst, 2));
    metrics.Apply(Movement(payments::TxnType::kTopup, kFirst, 2));
    EXPECT_EQ(metrics.Day(kFirst, std::nullopt).txn_count, 0u);
    metrics.Apply(Movement(payments::TxnType::kTopup, kLast, 2));
    metrics.Apply(Movement(payments::TxnType::kTopup, kFirst + 2, 2));
    metrics.Apply(Movement(payments::TxnType::kTopup, kLast, 3));
    EXPECT_EQ(metrics.Day(kFirst + 2, std::nullopt).txn_count, 2u);
    const DayFigures last = metrics.Day(kLast, std::nullopt);
    EXPECT_EQ(last.txn_count, 3u);
    EXPECT_EQ(last.dau, 3u);
}

// The top merchants are those paid in the default currency; payments in others count as
// transactions only.
TEST(LiveMetrics, TopMerchantsByVolumeInTheDefaultCurrency) {
    constexpr uint32_t kUsd = 840;
    LiveMetrics metrics(0, kJpy);
    constexpr int64_t kDay = 20'000;
    for (uint64_t merchant = 1; merchant <= kTopMerchants + 2; ++merchant) {
        metrics.Apply(Movement(payments::TxnType::kPay, kDay, merchant, merchant));
    }
    metrics.Apply(Movement(payments::TxnType::kPay, kDay, 1, 100, kUsd));
    metrics.Apply(Movement(payments::TxnType::kPay, kDay, 2, 1));
    const DayFigures platform = metrics.Day(kDay, std::nullopt);
    EXPECT_EQ(platform.txn_count, kTopMerchants + 4);
    EXPECT_EQ(platform.dau, kTopMerchants + 2);
    std::vector<std::pair<uint64_t, uint64_t>> top;
    for (const MerchantAmount& merchant : platform.top_merchants) {
        top.emplace_back(merchant.merchant_id, static_cast<uint64_t>(merchant.amount_minor));
    }
    // Merchants 1 and 3 both have 400: the lower id first.
    EXPECT_EQ(top, (std::vector<std::pair<uint64_t, uint64_t>>{
                       {7, 800}, {6, 700}, {5, 600}, {4, 500}, {1, 400}}));
    const DayFigures paid_in_usd = metrics.Day(kDay, 100);
    EXPECT_EQ(paid_in_usd.txn_count, 1u);
    EXPECT_EQ(paid_in_usd.amount_minor, 0u);
    EXPECT_EQ(paid_in_usd.dau, 1u);
    const DayFigures merchant_1 = metrics.Day(kDay, 1);
    EXPECT_EQ(merchant_1.txn_count, 2u);
    EXPECT_EQ(merchant_1.amount_minor, 400u);
    EXPECT_EQ(merchant_1.dau, 2u);
}

// Volume is net of refunds, on the day of the refund: a merchant refunded in full leaves the top
// merchants; a day whose refunds exceed its payments shows zero. Refunds count as transactions.
TEST(LiveMetrics, VolumeIsNetOfRefunds) {
    LiveMetrics metrics(0, kJpy);
    constexpr int64_t kDay = 20'000;
    metrics.Apply(Movement(payments::TxnType::kPay, kDay, 1, 1));  // 200 to merchant 1
    metrics.Apply(Movement(payments::TxnType::kPay, kDay, 2, 2));  // 300 to merchant 2
    events::Event refund = Movement(payments::TxnType::kRefund, kDay, 1, 1);
    refund.txn.amount = 50;
    metrics.Apply(refund);
    DayFigures day = metrics.Day(kDay, std::nullopt);
    EXPECT_EQ(day.amount_minor, 450u);
    EXPECT_EQ(day.txn_count, 3u);
    EXPECT_EQ(metrics.Day(kDay, 1).amount_minor, 150u);
    EXPECT_EQ(metrics.Day(kDay, 1).txn_count, 2u);
    refund.txn.amount = 150;
    metrics.Apply(refund);
    day = metrics.Day(kDay, std::nullopt);
    EXPECT_EQ(day.amount_minor, 300u);
    ASSERT_EQ(day.top_merchants.size(), 1u);
    EXPECT_EQ(day.top_merchants[0].merchant_id, 2u);
    // The next day: a refund of the day before, and no payment.
    refund.txn.created_at = (kDay + 1) * kDayNs;
    metrics.Apply(refund);
    EXPECT_EQ(metrics.Day(kDay + 1, std::nullopt).amount_minor, 0u);
    EXPECT_EQ(metrics.Day(kDay + 1, std::nullopt).txn_count, 1u);
}

// Cohorts older than the kept weeks leave memory with their users, who then count nowhere.
TEST(LiveMetrics, OldCohortsLeaveWithTheirUsers) {
    LiveMetrics metrics(0, kJpy);
    const int64_t first_week = LiveMetrics::WeekOf(20'000);
    for (uint64_t user = 1; user <= kCohortWeeksKept + 1; ++user) {
        const int64_t week = first_week + 7 * static_cast<int64_t>(user - 1);
        metrics.ApplySignup(events::Signup{user, static_cast<uint64_t>(week) * kDayNs});
    }
    const int64_t today = first_week + 7 * kCohortWeeksKept;
    for (uint64_t user = 1; user <= kCohortWeeksKept + 1; ++user) {
        metrics.Apply(Movement(payments::TxnType::kTopup, static_cast<uint64_t>(today), user));
    }
    const std::vector<CohortRow> rows = metrics.Retention(today, kCohortWeeksKept + 1);
    ASSERT_EQ(rows.size(), kCohortWeeksKept + 1);
    EXPECT_EQ(rows[0].week, first_week);
    EXPECT_EQ(rows[0].users, 0u);
    EXPECT_EQ(rows[0].active.back(), 0u);
    for (size_t i = 1; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].users, 1u);
        EXPECT_EQ(rows[i].active.back(), 1u);
    }
}

TEST(IdSet, CountsEachIdOnceAcrossGrowth) {
    IdSet set;
    std::set<uint64_t> reference;
    std::mt19937_64 random(7);
    for (int i = 0; i < 100'000; ++i) {
        const uint64_t id = i % 3 == 0 ? random() : random() % 5'000;  // 0 among them
        EXPECT_EQ(set.Insert(id), reference.insert(id).second) << id;
    }
    EXPECT_EQ(set.Insert(0), reference.insert(0).second);
    EXPECT_EQ(set.size(), reference.size());
}

TEST(LiveMetrics, WeeksStartOnMonday) {
    // Day 0 (1970-01-01) was a Thursday: its week began on Monday 1969-12-29, day -3.
    EXPECT_EQ(LiveMetrics::WeekOf(0), -3);
    EXPECT_EQ(LiveMetrics::WeekOf(3), -3);  // Sunday 1970-01-04
    EXPECT_EQ(LiveMetrics::WeekOf(4), 4);   // Monday 1970-01-05
    EXPECT_EQ(LiveMetrics::WeekOf(-4), -10);
}

TEST(LiveMetrics, DaysFollowTheConfiguredOffset) {
    LiveMetrics tokyo(9 * 60, kJpy), utc(0, kJpy);
    // 2026-11-25T20:00:00Z is already 2026-11-26 in Tokyo.
    const uint64_t ns = 1'796'155'200ull * 1'000'000'000ull;
    EXPECT_EQ(tokyo.DayOf(ns), utc.DayOf(ns) + 1);
}

}  // namespace
}  // namespace bursar::analytics
