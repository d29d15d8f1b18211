#include "events/event.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "base/sim_file_system.h"
#include "engine/engine.h"
#include "events/follower.h"

namespace bursar::events {
namespace {

constexpr uint64_t kStart = 1'795'000'000ull * 1'000'000'000ull;

class EventTest : public ::testing::Test {
  protected:
    void Open() {
        engine::EngineOptions options;
        options.data_dir = "data";
        auto engine = engine::Engine::Open(fs_, clock_, options);
        ASSERT_TRUE(engine) << engine.error().ToString();
        engine_ = std::move(*engine);
        engine_->Start();
    }

    payments::CommandResult Run(payments::Command command) {
        auto result = engine::RunCommand(*engine_, std::move(command));
        EXPECT_TRUE(result) << result.error().ToString();
        return result ? std::move(*result) : payments::CommandResult{};
    }

    payments::Command Pay(u128 amount, std::string key = {}) {
        payments::Command c;
        c.type = payments::CommandType::kPay;
        c.principal.kind = payments::PrincipalKind::kAdmin;
        c.user_id = 1;
        c.merchant_id = 1;
        c.amount = amount;
        c.currency = 392;
        c.idempotency_key = std::move(key);
        return c;
    }

    void CreateUserAndMerchant() {
        payments::Command reg;
        reg.type = payments::CommandType::kRegisterUser;
        reg.email = "a@example.com";
        ASSERT_EQ(Run(reg).status, 201);
        payments::Command merchant;
        merchant.type = payments::CommandType::kCreateMerchant;
        merchant.principal.kind = payments::PrincipalKind::kAdmin;
        merchant.secret_hash = Sha256::Of("k", 1);
        ASSERT_EQ(Run(merchant).status, 201);
        payments::Command topup = Pay(1'000'000);
        topup.type = payments::CommandType::kTopup;
        ASSERT_EQ(Run(topup).status, 200);
    }

    std::vector<Event> ReadAll(uint64_t after_seq = 0) {
        Subscription subscription(fs_, "data/journal", after_seq);
        std::vector<Event> events;
        while (true) {
            auto polled = subscription.Poll(engine_->committed_seq(), 7, &events);
            EXPECT_TRUE(polled);
            if (!polled || *polled == 0) break;
        }
        return events;
    }

    SimFileSystem fs_{3};
    ManualClock clock_{kStart};
    std::unique_ptr<engine::Engine> engine_;
};

TEST_F(EventTest, OneEventPerMovementInCommitOrder) {
    Open();
    CreateUserAndMerchant();
    constexpr int kPayments = 50;
    for (int i = 0; i < kPayments; ++i)
        ASSERT_EQ(Run(Pay(100 + i, "k" + std::to_string(i))).status, 200);
    // Replays move no money: no event.
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(Run(Pay(100 + i, "k" + std::to_string(i))).replayed);
    // A failed payment moves no money either.
    EXPECT_EQ(Run(Pay(1'000'000'000)).status, 402);

    std::vector<Event> events = ReadAll();
    ASSERT_EQ(events.size(), 1u + kPayments);  // the top-up and the payments
    EXPECT_EQ(events[0].txn.type, payments::TxnType::kTopup);
    std::set<std::string> ids;
    for (size_t i = 1; i < events.size(); ++i) {
        EXPECT_GT(events[i].txn.id, events[i - 1].txn.id);  // commit order
        EXPECT_GE(events[i].seq, events[i - 1].seq);
        EXPECT_EQ(events[i].txn.amount, static_cast<u128>(100 + i - 1));
        EXPECT_TRUE(ids.insert(events[i].EventId()).second);
    }
    const std::string json = events[1].ToJson();
    for (const char* field : {"\"event_id\":\"evt_", "\"type\":\"PAY\"", "\"user_id\":\"usr_1\"",
                              "\"merchant_id\":\"mch_1\"", "\"amount_minor\":100",
                              "\"currency\":\"JPY\"", "\"ts\":\"2026-"}) {
        EXPECT_NE(json.find(field), std::string::npos) << field << " in " << json;
    }
}

// A lingering follower collects committed work before it applies it, and a caller in WaitFor()
// cuts the wait short, so reading one's own writes does not pay for the linger.
TEST_F(EventTest, FollowerLingersUnlessSomeoneWaits) {
    Open();
    CreateUserAndMerchant();
    std::atomic<int> applies = 0;
    std::atomic<size_t> events_seen = 0;
    Follower follower(fs_, *engine_, "data/journal",
                      FollowerOptions{.name = "test", .linger_ms = 60'000},
                      [&](const std::vector<Event>& events, const std::vector<Signup>&, uint64_t) {
                          applies++;
                          events_seen += events.size();
                          return Status::Ok();
                      });
    follower.Start(engine_->committed_seq());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(Run(Pay(10 + i, "l" + std::to_string(i))).status, 200);
    // Nobody waits: after 300 ms the follower is still lingering on the first commit.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(applies.load(), 0);
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(follower.WaitFor(engine_->committed_seq(), 10'000));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    // The five payments' records were read and applied together.
    EXPECT_EQ(applies.load(), 1);
    EXPECT_EQ(events_seen.load(), 5u);
    follower.Stop();
}

TEST_F(EventTest, SubscriptionResumesFromItsPositionAcrossARestart) {
    Open();
    CreateUserAndMerchant();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(Run(Pay(10)).status, 200);
    std::vector<Event> first = ReadAll();
    const uint64_t position = first.back().seq;
    engine_->Stop();
    engine_.reset();
    Open();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(Run(Pay(20)).status, 200);
    std::vector<Event> rest = ReadAll(position);
    ASSERT_EQ(rest.size(), 3u);
    EXPECT_EQ(rest.front().txn.id, first.back().txn.id + 1);  // nothing skipped, nothing twice
}

TEST(FormatTimestamp, Rfc3339WithMilliseconds) {
    EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(FormatTimestamp(1'795'576'840'123'000'000ull), "2026-11-25T03:20:40.123Z");
}

}  // namespace
}  // namespace bursar::events
