#include "events/event.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "base/json_writer.h"
#include "base/sim_file_system.h"
#include "engine/batch_codec.h"
#include "engine/engine.h"
#include "events/follower.h"
#include "ledger/currency.h"

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

    payments::Outcome Run(payments::Command command) {
        auto result = engine::RunCommand(*engine_, std::move(command));
        EXPECT_TRUE(result) << result.error().ToString();
        return result ? std::move(*result)
                      : payments::Refused(payments::ResultCode::kUnknownCommand);
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
        ASSERT_TRUE(Run(reg).ok());
        payments::Command merchant;
        merchant.type = payments::CommandType::kCreateMerchant;
        merchant.principal.kind = payments::PrincipalKind::kAdmin;
        merchant.secret_hash = Sha256::Of("k", 1);
        ASSERT_TRUE(Run(merchant).ok());
        payments::Command topup = Pay(1'000'000);
        topup.type = payments::CommandType::kTopup;
        ASSERT_TRUE(Run(topup).ok());
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
        ASSERT_TRUE(Run(Pay(100 + i, "k" + std::to_string(i))).ok());
    // Replays move no money: no event.
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(Run(Pay(100 + i, "k" + std::to_string(i))).replayed);
    // A failed payment moves no money either.
    EXPECT_EQ(Run(Pay(1'000'000'000)).code, payments::ResultCode::kInsufficientFunds);

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
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(Run(Pay(10 + i, "l" + std::to_string(i))).ok());
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
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(Run(Pay(10)).ok());
    std::vector<Event> first = ReadAll();
    const uint64_t position = first.back().seq;
    engine_->Stop();
    engine_.reset();
    Open();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(Run(Pay(20)).ok());
    std::vector<Event> rest = ReadAll(position);
    ASSERT_EQ(rest.size(), 3u);
    EXPECT_EQ(rest.front().txn.id, first.back().txn.id + 1);  // nothing skipped, nothing twice
}

payments::Txn PaymentTxn() {
    payments::Txn txn;
    txn.id = 9;
    txn.type = payments::TxnType::kPay;
    txn.user_id = 1;
    txn.merchant_id = 2;
    txn.amount = 300;
    txn.fee = 3;
    txn.currency = 392;
    txn.created_at = kStart;
    return txn;
}

void ExpectSameTxn(const payments::Txn& a, const payments::Txn& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.user_id, b.user_id);
    EXPECT_EQ(a.merchant_id, b.merchant_id);
    EXPECT_EQ(a.to_user_id, b.to_user_id);
    EXPECT_EQ(a.amount, b.amount);
    EXPECT_EQ(a.fee, b.fee);
    EXPECT_EQ(a.currency, b.currency);
    EXPECT_EQ(a.created_at, b.created_at);
}

// A batch payload as the engine writes it: a payment, a registration, a replayed payment and a
// ledger operation.
std::string BatchPayload() {
    std::string payload;
    engine::BatchEncoder encoder(&payload);
    payments::Command pay;
    pay.type = payments::CommandType::kPay;
    pay.user_id = 1;
    pay.merchant_id = 2;
    pay.amount = 300;
    pay.currency = 392;
    pay.idempotency_key = "k1";
    payments::Outcome paid;
    paid.txn = PaymentTxn();
    encoder.AddCommand(pay, paid);
    payments::Command registration;
    registration.type = payments::CommandType::kRegisterUser;
    registration.email = "a@example.com";
    payments::Outcome registered;
    registered.object_id = 7;
    registered.email = "a@example.com";
    encoder.AddCommand(registration, registered);
    paid.replayed = true;
    encoder.AddCommand(pay, paid);
    ledger::Transfer transfers[2]{};
    transfers[0].id = 1;
    transfers[1].id = 2;
    encoder.Add(engine::Operation::kCreateTransfers, transfers, 2, {ledger::EventResult{1, 5}});
    return payload;
}

// Every cut of the payload, a trailing byte, an unknown operation, one operation more than there
// are, and a command result that does not decode.
std::vector<std::string> MalformedPayloads(const std::string& payload) {
    std::vector<std::string> malformed;
    for (size_t size = 0; size < payload.size(); ++size)
        malformed.push_back(payload.substr(0, size));
    malformed.push_back(payload + '\0');
    std::string unknown = payload;
    unknown[sizeof(engine::BatchHeader)] = 9;
    malformed.push_back(unknown);
    std::string one_more = payload;
    one_more[0] = static_cast<char>(one_more[0] + 1);
    malformed.push_back(one_more);
    // The payment's txn type, after its outcome's version, code, presence bits and txn id.
    engine::BatchReader reader(payload);
    engine::OperationView operation;
    EXPECT_TRUE(reader.Next(&operation).value_or(false));
    std::string bad_txn = payload;
    bad_txn[static_cast<size_t>(operation.result.data() - payload.data()) + 1 + 2 + 1 + 8] = 0;
    malformed.push_back(bad_txn);
    return malformed;
}

TEST(BatchReader, ViewsTheOperationsInThePayloadAndDecodeBatchCopiesThem) {
    const std::string payload = BatchPayload();
    auto inside = [&](std::string_view bytes) {
        return bytes.data() >= payload.data() &&
               bytes.data() + bytes.size() <= payload.data() + payload.size();
    };
    engine::BatchReader reader(payload);
    engine::OperationView operation;
    std::vector<engine::OperationView> operations;
    while (true) {
        auto more = reader.Next(&operation);
        ASSERT_TRUE(more) << more.error().ToString();
        if (!*more) break;
        operations.push_back(operation);
    }
    ASSERT_EQ(operations.size(), 4u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(operations[i].operation, engine::Operation::kCommand);
        EXPECT_TRUE(inside(operations[i].command) && inside(operations[i].result));
    }
    EXPECT_EQ(operations[3].operation, engine::Operation::kCreateTransfers);
    EXPECT_EQ(operations[3].events.size(), 2 * sizeof(ledger::Transfer));
    EXPECT_EQ(operations[3].results.size(), sizeof(ledger::EventResult));
    EXPECT_TRUE(inside(operations[3].events) && inside(operations[3].results));

    auto decoded = engine::DecodeBatch(payload);
    ASSERT_TRUE(decoded) << decoded.error().ToString();
    ASSERT_EQ(decoded->size(), 4u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ((*decoded)[i].command, operations[i].command);
        EXPECT_EQ((*decoded)[i].result, operations[i].result);
    }
    ASSERT_EQ((*decoded)[3].transfers.size(), 2u);
    EXPECT_EQ((*decoded)[3].transfers[1].id, 2u);
    ASSERT_EQ((*decoded)[3].results.size(), 1u);
    EXPECT_EQ((*decoded)[3].results[0].result, 5u);
}

TEST(V1Result, DecodesTheTxnAndViewsTheBody) {
    const payments::V1Result result{200, R"({"txn_id":"txn_9"})", false, PaymentTxn()};
    std::string bytes;
    payments::EncodeV1Result(result, &bytes);
    auto view = payments::DecodeV1Result(bytes);
    ASSERT_TRUE(view) << view.error().ToString();
    EXPECT_EQ(view->status, 200);
    EXPECT_EQ(view->body, result.body);
    EXPECT_TRUE(view->body.data() > bytes.data() &&
                view->body.data() + view->body.size() < bytes.data() + bytes.size());
    EXPECT_FALSE(view->replayed);
    ASSERT_TRUE(view->txn);
    ExpectSameTxn(*view->txn, *result.txn);

    for (size_t size = 0; size < bytes.size(); ++size) {
        auto cut = payments::DecodeV1Result(std::string_view(bytes).substr(0, size));
        ASSERT_FALSE(cut) << size;
        EXPECT_EQ(cut.error().code(), StatusCode::kCorruption);
    }
    EXPECT_FALSE(payments::DecodeV1Result(bytes + '\0'));
    std::string huge_body = bytes;
    huge_body[5] = 0x7f;  // the body's length, little-endian: beyond the result and the bound
    EXPECT_FALSE(payments::DecodeV1Result(huge_body));
}

TEST(EventsOfRecord, EventsAndSignupsOfARecord) {
    const std::string payload = BatchPayload();
    const journal::RecordView record{.seq = 5, .timestamp = kStart + 1, .payload = payload};
    std::vector<Event> events;
    std::vector<Signup> signups;
    ASSERT_TRUE(EventsOf(record, &events, &signups).ok());
    ASSERT_EQ(events.size(), 1u);  // the replayed payment moved nothing
    EXPECT_EQ(events[0].seq, 5u);
    ExpectSameTxn(events[0].txn, PaymentTxn());
    ASSERT_EQ(signups.size(), 1u);
    EXPECT_EQ(signups[0].user_id, 7u);
    EXPECT_EQ(signups[0].ts, kStart + 1);
}

TEST(EventsOfRecord, AMalformedRecordIsCorruptionAndAddsNothing) {
    const std::string payload = BatchPayload();
    const std::vector<std::string> malformed = MalformedPayloads(payload);
    for (size_t i = 0; i < malformed.size(); ++i) {
        SCOPED_TRACE(i);
        auto decoded = engine::DecodeBatch(malformed[i]);
        // A bad command result is not the batch's framing: DecodeBatch keeps its bytes.
        if (i + 1 < malformed.size()) {
            ASSERT_FALSE(decoded);
            EXPECT_EQ(decoded.error().code(), StatusCode::kCorruption);
        }
        const journal::RecordView record{.seq = 6, .timestamp = kStart, .payload = malformed[i]};
        std::vector<Event> events = {Event{1, PaymentTxn()}};
        std::vector<Signup> signups = {Signup{3, kStart}};
        const Status status = EventsOf(record, &events, &signups);
        EXPECT_EQ(status.code(), StatusCode::kCorruption);
        EXPECT_EQ(events.size(), 1u);
        EXPECT_EQ(signups.size(), 1u);
    }
}

TEST(FormatTimestamp, Rfc3339WithMilliseconds) {
    EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(FormatTimestamp(1'795'576'840'123'000'000ull), "2026-11-25T03:20:40.123Z");
}

// The event's JSON as docs/events.md describes it, written plainly with JsonWriter: what the
// encoder is held to.
std::string ReferenceJson(const Event& event) {
    const payments::Txn& txn = event.txn;
    JsonWriter json;
    json.BeginObject();
    json.Key("event_id").String("evt_" + std::to_string(txn.id));
    json.Key("txn_id").String(payments::FormatTxnId(txn.id));
    json.Key("type").String(payments::TxnTypeName(txn.type));
    json.Key("user_id").String(payments::FormatUserId(txn.user_id));
    json.Key("merchant_id");
    if (txn.merchant_id != 0) {
        json.String(payments::FormatMerchantId(txn.merchant_id));
    } else {
        json.Null();
    }
    json.Key("to_user_id");
    if (txn.to_user_id != 0) {
        json.String(payments::FormatUserId(txn.to_user_id));
    } else {
        json.Null();
    }
    if (txn.type == payments::TxnType::kRefund) {
        json.Key("payment_id").String(payments::FormatTxnId(txn.payment_id));
    }
    json.Key("amount_minor").Number(txn.amount);
    json.Key("fee_minor").Number(txn.fee);
    const ledger::CurrencyInfo* currency = ledger::FindCurrency(txn.currency);
    json.Key("currency").String(currency != nullptr ? currency->code : "?");
    json.Key("ts").String(FormatTimestamp(txn.created_at));
    json.EndObject();
    return json.Take();
}

// The encoder writes exactly the reference's bytes: events of every type, with and without a
// merchant or a receiving user, amounts beyond 64 bits, known and unknown currencies, and commit
// times within one second, across seconds, days and years, and going back.
TEST(EventJsonEncoder, WritesTheDocumentedJson) {
    constexpr int kEvents = 20'000;
    constexpr uint64_t kNsPerSecond = 1'000'000'000;
    std::mt19937_64 random(7);
    const auto currencies = ledger::Currencies();
    EventJsonEncoder encoder;
    std::string out;
    uint64_t created_at = 1'795'000'000ull * kNsPerSecond;
    for (int i = 0; i < kEvents; ++i) {
        Event event;
        payments::Txn& txn = event.txn;
        txn.id = i % 97 == 0 ? UINT64_MAX - random() % 1000 : random() % 100'000'000;
        txn.type = static_cast<payments::TxnType>(1 + random() % 5);  // 5: not a known type
        txn.payment_id = random() % 1000;
        txn.user_id = random() % 1'000'000;
        txn.merchant_id = random() % 3 == 0 ? 0 : random();
        txn.to_user_id = random() % 3 == 0 ? 0 : random() % 1000;
        txn.amount = random() % 5 == 0 ? MakeU128(random(), random()) : u128{random() % 100'000};
        txn.fee = random() % 7 == 0 ? MakeU128(random() % 10, random()) : u128{random() % 100};
        txn.currency = random() % 10 == 0 ? 999'999 : currencies[random() % currencies.size()].id;
        switch (random() % 4) {
            case 0:  // later in the same second, mostly
                created_at += random() % 2'000'000;
                break;
            case 1:  // a day or so later
                created_at += random() % (86'400 * kNsPerSecond);
                break;
            case 2:  // back a little
                created_at -= random() % (5 * kNsPerSecond);
                break;
            default:  // anywhere up to the 26th century
                created_at = random() % (18'000'000'000ull * kNsPerSecond);
        }
        txn.created_at = created_at;
        const size_t start = out.size();
        encoder.Append(event, &out);
        ASSERT_EQ(out.substr(start), ReferenceJson(event)) << "event " << i;
        ASSERT_EQ(event.ToJson(), ReferenceJson(event)) << "event " << i;
    }
}

}  // namespace
}  // namespace bursar::events
