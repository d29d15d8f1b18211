// Against a real nats-server with JetStream (Debian's nats-server, started here on loopback).

#include <gtest/gtest.h>
#include <nats/nats.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "events/jetstream_publisher.h"
#include "events/nats_server_testing.h"
#include "ledger/currency.h"

namespace bursar::events {
namespace {

class JetStreamTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ =
            (std::filesystem::temp_directory_path() / ("bursar-js-" + std::to_string(::getpid())))
                .string();
        std::filesystem::remove_all(root_);
        std::filesystem::create_directories(root_ + "/nats");
        nats_ = std::make_unique<NatsServer>(FreeLoopbackPort(), root_ + "/nats");
        ASSERT_TRUE(nats_->Start().ok());
    }
    void TearDown() override {
        publisher_.reset();
        engine_.reset();
        nats_.reset();
        std::filesystem::remove_all(root_);
    }

    void OpenBursar() {
        OpenEngine();
        StartPublisher();
    }

    void OpenEngine() {
        engine::EngineOptions options;
        options.data_dir = root_ + "/data";
        auto engine = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
        ASSERT_TRUE(engine) << engine.error().ToString();
        engine_ = std::move(*engine);
        engine_->Start();
    }

    void StartPublisher() {
        JetStreamOptions js;
        js.url = nats_->url();
        js.retry_ms = 100;
        js.ack_wait_ms = 1000;
        publisher_ = std::make_unique<JetStreamPublisher>(PosixFileSystem(), *engine_,
                                                          root_ + "/data", js, nullptr);
        ASSERT_TRUE(publisher_->Start().ok());
    }

    payments::Outcome Run(payments::Command c) {
        c.principal.kind = payments::PrincipalKind::kAdmin;
        auto result = engine::RunCommand(*engine_, std::move(c));
        EXPECT_TRUE(result) << result.error().ToString();
        return result ? std::move(*result)
                      : payments::Refused(payments::ResultCode::kUnknownCommand);
    }

    // A user, a merchant and a top-up (the first movement).
    void Customer() {
        payments::Command reg;
        reg.type = payments::CommandType::kRegisterUser;
        reg.email = "a@example.com";
        ASSERT_TRUE(Run(reg).ok());
        payments::Command merchant;
        merchant.type = payments::CommandType::kCreateMerchant;
        merchant.secret_hash = Sha256::Of("k", 1);
        ASSERT_TRUE(Run(merchant).ok());
        payments::Command topup;
        topup.type = payments::CommandType::kTopup;
        topup.user_id = 1;
        topup.amount = 1'000'000;
        topup.currency = 392;
        ASSERT_TRUE(Run(topup).ok());
        ++movements_;
    }

    // `count` payments submitted together, up to kPaymentsInFlightMax awaiting their commit, so
    // that the journal's records hold many each.
    void PaymentsTogether(int count) {
        constexpr int kPaymentsInFlightMax = 256;
        std::mutex mutex;
        std::condition_variable replied;
        int in_flight = 0;
        int failures = 0;
        for (int i = 0; i < count; ++i) {
            auto* request = new engine::Request;
            request->operation = engine::Operation::kCommand;
            request->command.type = payments::CommandType::kPay;
            request->command.principal.kind = payments::PrincipalKind::kAdmin;
            request->command.user_id = 1;
            request->command.merchant_id = 1;
            request->command.amount = 10;
            request->command.currency = 392;
            request->done = [&](engine::Request& done) {
                std::lock_guard lock(mutex);
                if (!done.status.ok() || !done.outcome.ok()) ++failures;
                --in_flight;
                delete &done;
                replied.notify_all();
            };
            {
                std::unique_lock lock(mutex);
                replied.wait(lock, [&] { return in_flight < kPaymentsInFlightMax; });
                ++in_flight;
            }
            const Status submitted = engine_->Submit(request);
            if (!submitted.ok()) {
                ADD_FAILURE() << submitted.ToString();
                std::lock_guard lock(mutex);
                --in_flight;
                delete request;
            }
        }
        std::unique_lock lock(mutex);
        replied.wait(lock, [&] { return in_flight == 0; });
        EXPECT_EQ(failures, 0);
        movements_ += count;
    }

    void Payments(int count) {
        for (int i = 0; i < count; ++i) {
            payments::Command pay;
            pay.type = payments::CommandType::kPay;
            pay.user_id = 1;
            pay.merchant_id = 1;
            pay.amount = 10;
            pay.currency = 392;
            ASSERT_TRUE(Run(pay).ok());
            ++movements_;
        }
    }

    // Creates the stream as the publisher would, with at most `messages_max` messages (-1: no
    // limit) and new ones refused beyond; or changes the limit of the existing one.
    void ConfigureStream(int64_t messages_max, bool update,
                         uint64_t duplicate_window_ns = JetStreamOptions{}.duplicate_window_ns) {
        natsConnection* connection = nullptr;
        jsCtx* js = nullptr;
        ASSERT_EQ(natsConnection_ConnectTo(&connection, nats_->url().c_str()), NATS_OK);
        ASSERT_EQ(natsConnection_JetStream(&js, connection, nullptr), NATS_OK);
        jsStreamConfig config;
        jsStreamConfig_Init(&config);
        const char* subjects[] = {kSubject};
        config.Name = "PAYMENTS";
        config.Subjects = subjects;
        config.SubjectsLen = 1;
        config.Storage = js_FileStorage;
        config.Duplicates = static_cast<int64_t>(duplicate_window_ns);
        config.MaxMsgs = messages_max;
        config.Discard = js_DiscardNew;
        jsStreamInfo* info = nullptr;
        EXPECT_EQ(update ? js_UpdateStream(&info, js, &config, nullptr, nullptr)
                         : js_AddStream(&info, js, &config, nullptr, nullptr),
                  NATS_OK);
        jsStreamInfo_Destroy(info);
        jsCtx_Destroy(js);
        natsConnection_Destroy(connection);
    }

    // The journal record that holds the event of transaction `txn_id`.
    uint64_t RecordOf(uint64_t txn_id) {
        Subscription subscription(PosixFileSystem(), root_ + "/data/journal", 0);
        std::vector<Event> events;
        while (true) {
            auto polled = subscription.Poll(engine_->committed_seq(), 64, &events);
            EXPECT_TRUE(polled);
            if (!polled || *polled == 0) break;
        }
        for (const Event& event : events) {
            if (event.txn.id == txn_id) return event.seq;
        }
        ADD_FAILURE() << "no event for txn " << txn_id;
        return 0;
    }

    // Every message of the stream, in stream order: its event id.
    std::vector<std::string> StreamIds() {
        natsConnection* connection = nullptr;
        jsCtx* js = nullptr;
        EXPECT_EQ(natsConnection_ConnectTo(&connection, nats_->url().c_str()), NATS_OK);
        EXPECT_EQ(natsConnection_JetStream(&js, connection, nullptr), NATS_OK);
        jsStreamInfo* info = nullptr;
        EXPECT_EQ(js_GetStreamInfo(&info, js, "PAYMENTS", nullptr, nullptr), NATS_OK);
        std::vector<std::string> ids;
        for (uint64_t seq = info->State.FirstSeq; seq <= info->State.LastSeq; ++seq) {
            natsMsg* msg = nullptr;
            const natsStatus status = js_GetMsg(&msg, js, "PAYMENTS", seq, nullptr, nullptr);
            if (status == NATS_NOT_FOUND) continue;  // deleted
            EXPECT_EQ(status, NATS_OK);
            if (status != NATS_OK) break;
            const std::string body(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
            const size_t start = body.find("\"event_id\":\"") + 12;
            ids.push_back(body.substr(start, body.find('"', start) - start));
            natsMsg_Destroy(msg);
        }
        jsStreamInfo_Destroy(info);
        jsCtx_Destroy(js);
        natsConnection_Destroy(connection);
        return ids;
    }

    std::string root_;
    std::unique_ptr<NatsServer> nats_;
    std::unique_ptr<engine::Engine> engine_;
    std::unique_ptr<JetStreamPublisher> publisher_;
    int movements_ = 0;
};

TEST_F(JetStreamTest, EveryMovementOnceInOrderAcrossRestarts) {
    OpenBursar();
    Customer();
    Payments(20);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));

    // NATS dies between payments and comes back with its store.
    nats_->Kill();
    Payments(15);
    ASSERT_TRUE(nats_->Start().ok());
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 20'000));

    // Bursar restarts: the publisher continues from its cursor. A clean stop stores the cursor
    // at what was acknowledged (while running it is stored at most once a second).
    const uint64_t published_to = engine_->committed_seq();
    publisher_.reset();
    auto cursor = PosixFileSystem().ReadFile(JetStreamPublisher::CursorPath(root_ + "/data"));
    ASSERT_TRUE(cursor);
    EXPECT_EQ(std::stoull(*cursor), published_to);
    engine_.reset();
    OpenBursar();
    Payments(10);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));

    // NATS restarts while the publisher is idle: the next batch finds the connection closed
    // before it publishes, and goes over a new one without a failed attempt.
    const uint64_t failures = publisher_->stats().failures;
    nats_->Kill();
    ASSERT_TRUE(nats_->Start().ok());
    Payments(5);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));
    EXPECT_EQ(publisher_->stats().failures, failures);

    const std::vector<std::string> ids = StreamIds();
    ASSERT_EQ(ids.size(), static_cast<size_t>(movements_));
    std::set<std::string> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], "evt_" + std::to_string(i + 1));
    EXPECT_GT(publisher_->stats().published, 0u);
}

void ExpectEveryMovementOnceInOrder(const std::vector<std::string>& ids, int movements) {
    ASSERT_EQ(ids.size(), static_cast<size_t>(movements)) << testing::PrintToString(ids);
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], "evt_" + std::to_string(i + 1));
}

// A message the stream refuses in the middle of a batch (here: it is full, and refuses new ones)
// is not skipped: the position stays before its record, and once the stream takes messages again
// it is sent again with what follows, each once and in order.
TEST_F(JetStreamTest, RefusedMessageHoldsThePositionUntilItIsStored) {
    constexpr int64_t kStreamMessagesMax = 5;
    ConfigureStream(kStreamMessagesMax, /*update=*/false);
    OpenBursar();
    Customer();
    Payments(9);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (publisher_->stats().failures == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(publisher_->stats().failures, 0u);
    EXPECT_LT(publisher_->stats().position, RecordOf(kStreamMessagesMax + 1));
    ExpectEveryMovementOnceInOrder(StreamIds(), kStreamMessagesMax);

    ConfigureStream(-1, /*update=*/true);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));
    ExpectEveryMovementOnceInOrder(StreamIds(), movements_);
}

// A batch of more messages than may wait for their acknowledgment at once (the publisher
// catching up on 10 000 payments) goes out in windows, every message acknowledged.
TEST_F(JetStreamTest, ABatchLargerThanTheUnacknowledgedWindow) {
    OpenEngine();
    Customer();
    PaymentsTogether(10'000);
    StartPublisher();
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 30'000));
    EXPECT_EQ(publisher_->stats().failures, 0u);
    EXPECT_EQ(publisher_->stats().published, static_cast<uint64_t>(movements_));
    ExpectEveryMovementOnceInOrder(StreamIds(), movements_);
}

// Events read again (here: everything, from a cursor set back to the start, as after a crash
// right after a cursor write) are found in the stream and not sent again: it holds each once.
TEST_F(JetStreamTest, EventsReadAgainAreNotSentAgain) {
    OpenBursar();
    Customer();
    Payments(10);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));
    const int stored = movements_;
    publisher_.reset();
    engine_.reset();
    std::ofstream(JetStreamPublisher::CursorPath(root_ + "/data"), std::ios::trunc) << "0\n";
    OpenBursar();
    Payments(5);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));
    EXPECT_EQ(publisher_->stats().skipped, static_cast<uint64_t>(stored));
    EXPECT_EQ(publisher_->stats().published, static_cast<uint64_t>(movements_ - stored));
    ExpectEveryMovementOnceInOrder(StreamIds(), movements_);
}

// Bursar down for longer than the stream's duplicate window (here 200 ms): what it reads again
// after the restart is still not stored twice, because it is not sent again; the window is not
// what keeps the stream free of duplicates.
TEST_F(JetStreamTest, NoDuplicatesAfterADowntimeLongerThanTheDuplicateWindow) {
    ConfigureStream(-1, /*update=*/false, /*duplicate_window_ns=*/200'000'000);
    OpenBursar();
    Customer();
    Payments(10);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));
    publisher_.reset();
    engine_.reset();
    std::ofstream(JetStreamPublisher::CursorPath(root_ + "/data"), std::ios::trunc) << "0\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    OpenBursar();
    Payments(3);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));
    ExpectEveryMovementOnceInOrder(StreamIds(), movements_);
}

// A message of someone else on the stream, after ours: the next publish expects the stream to
// end at our last message, is refused, and the publisher stops there (failures counted) rather
// than guess where its events end; once the stray message is gone it goes on.
TEST_F(JetStreamTest, AStrayMessageOnTheStreamStopsPublishing) {
    OpenBursar();
    Customer();
    Payments(3);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));
    natsConnection* connection = nullptr;
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&connection, nats_->url().c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_JetStream(&js, connection, nullptr), NATS_OK);
    jsPubAck* ack = nullptr;
    ASSERT_EQ(js_Publish(&ack, js, kSubject, "stray", 5, nullptr, nullptr), NATS_OK);
    const uint64_t stray_seq = ack->Sequence;
    jsPubAck_Destroy(ack);
    Payments(2);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (publisher_->stats().failures == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GT(publisher_->stats().failures, 0u);
    EXPECT_LT(publisher_->stats().position, engine_->committed_seq());
    ASSERT_EQ(js_DeleteMsg(js, "PAYMENTS", stray_seq, nullptr, nullptr), NATS_OK);
    jsCtx_Destroy(js);
    natsConnection_Destroy(connection);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));
    ExpectEveryMovementOnceInOrder(StreamIds(), movements_);
}

// What JetStream answers to a publish (as nats-server 2.9 writes it): stored, stored before (a
// duplicate), refused, or nobody there.
TEST(AcknowledgesStored, OnlyAnAcknowledgmentFromTheStream) {
    EXPECT_TRUE(AcknowledgesStored(R"({"stream":"PAYMENTS", "seq":1})", "PAYMENTS"));
    EXPECT_TRUE(
        AcknowledgesStored(R"({"stream":"PAYMENTS", "seq":1,"duplicate": true})", "PAYMENTS"));
    EXPECT_TRUE(
        AcknowledgesStored(R"({"stream":"PAYMENTS", "domain":"hub", "seq":9})", "PAYMENTS"));
    EXPECT_FALSE(AcknowledgesStored(
        R"({"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},)"
        R"("stream":"PAYMENTS","seq":0})",
        "PAYMENTS"));
    EXPECT_FALSE(AcknowledgesStored(
        R"({"stream":"PAYMENTS","error":{"code":400,"description":"wrong last msg ID"}})",
        "PAYMENTS"));
    EXPECT_FALSE(AcknowledgesStored("", "PAYMENTS"));
    EXPECT_FALSE(AcknowledgesStored(R"({"stream":"OTHER", "seq":1})", "PAYMENTS"));
    EXPECT_FALSE(AcknowledgesStored(R"({"stream":"PAYMENTS2", "seq":1})", "PAYMENTS"));
}

}  // namespace
}  // namespace bursar::events
