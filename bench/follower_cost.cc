// The followers' work per payment, for instruction counts (bench/README.md): LiveMetrics::Apply on
// synthetic events, events::EventsOf and engine::DecodeBatch on a journal record of payment
// commands. Fixed work and no clock, so that `valgrind --tool=callgrind` gives the same counts on
// every run: read the inclusive counts of ApplyEvents, EventsOfRecords and DecodeBatches. It
// prints the figures it computed, so two builds can be checked to agree.

#include <cinttypes>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "analytics/live_metrics.h"
#include "base/assert.h"
#include "engine/batch_codec.h"
#include "events/event.h"

namespace bursar::bench {
namespace {

constexpr uint32_t kJpy = 392;
constexpr uint32_t kUsd = 840;
constexpr int32_t kOffsetMinutes = 9 * 60;
constexpr uint64_t kUsers = 10'000;  // as bench/http.sh seeds them
constexpr uint64_t kMerchants = 100;
constexpr uint64_t kEvents = 200'000;
constexpr uint64_t kDays = 7;         // the events' span: two weeks
constexpr uint64_t kSignupWeeks = 8;  // the signups' span, before the events
constexpr uint64_t kCommandsPerRecord = 64;
constexpr uint64_t kRecords = 2'000;
constexpr uint64_t kDayNs = 86'400'000'000'000ull;
constexpr uint64_t kStartNs = 1'795'000'000ull * 1'000'000'000ull;
constexpr uint64_t kSeed = 42;

// Payments mostly, some top-ups and transfers, a few in another currency, in time order.
std::vector<events::Event> SyntheticEvents() {
    std::mt19937_64 random(kSeed);
    std::vector<events::Event> events(kEvents);
    for (uint64_t i = 0; i < kEvents; ++i) {
        payments::Txn& txn = events[i].txn;
        txn.id = i + 1;
        txn.user_id = 1 + random() % kUsers;
        txn.amount = 1 + random() % 10'000;
        txn.currency = random() % 20 == 0 ? kUsd : kJpy;
        txn.created_at = kStartNs + i * (kDays * kDayNs / kEvents);
        const uint64_t kind = random() % 10;
        if (kind == 0) {
            txn.type = payments::TxnType::kTopup;
        } else if (kind == 1) {
            txn.type = payments::TxnType::kTransfer;
            txn.to_user_id = txn.user_id % kUsers + 1;
        } else {
            txn.type = payments::TxnType::kPay;
            txn.merchant_id = 1 + random() % kMerchants;
            txn.fee = txn.amount / 100;
        }
        events[i].seq = i / kCommandsPerRecord + 1;
    }
    return events;
}

[[gnu::noinline]] void ApplyEvents(analytics::LiveMetrics& metrics,
                                   const std::vector<events::Event>& events) {
    for (const events::Event& event : events) metrics.Apply(event);
}

// The payload of a journal record of payments with Idempotency-Keys, as the engine writes it.
std::string PaymentRecordPayload(const std::vector<events::Event>& events) {
    std::string payload;
    engine::BatchEncoder encoder(&payload);
    for (uint64_t i = 0; i < kCommandsPerRecord; ++i) {
        const payments::Txn& txn = events[i].txn;
        payments::Command command;
        command.type = payments::CommandType::kPay;
        command.principal.kind = payments::PrincipalKind::kSession;
        command.idempotency_key = "0b8a4c1e-5f3d-4e2a-9c71-" + std::to_string(100'000'000'000 + i);
        command.user_id = txn.user_id;
        command.merchant_id = 1 + i % kMerchants;
        command.amount = txn.amount;
        command.currency = kJpy;
        payments::Txn paid = txn;
        paid.type = payments::TxnType::kPay;
        paid.merchant_id = command.merchant_id;
        paid.to_user_id = 0;
        paid.currency = kJpy;
        payments::Outcome outcome;
        outcome.txn = paid;
        encoder.AddCommand(command, outcome);
    }
    return payload;
}

[[gnu::noinline]] uint64_t EventsOfRecords(const journal::RecordView& record) {
    std::vector<events::Event> events;
    std::vector<events::Signup> signups;
    uint64_t count = 0;
    for (uint64_t i = 0; i < kRecords; ++i) {
        events.clear();
        signups.clear();
        BURSAR_ASSERT(events::EventsOf(record, &events, &signups).ok());
        count += events.size();
    }
    return count;
}

[[gnu::noinline]] uint64_t DecodeBatches(std::string_view payload) {
    uint64_t count = 0;
    for (uint64_t i = 0; i < kRecords; ++i) {
        auto operations = engine::DecodeBatch(payload);
        BURSAR_ASSERT(operations.has_value());
        count += operations->size();
    }
    return count;
}

void PrintFigures(const analytics::DayFigures& figures, const char* what) {
    std::printf("day %" PRId64 " %s: amount %" PRIu64 " txns %" PRIu64 " dau %" PRIu64 " top",
                figures.day, what, static_cast<uint64_t>(figures.amount_minor), figures.txn_count,
                figures.dau);
    for (const analytics::MerchantAmount& merchant : figures.top_merchants) {
        std::printf(" %" PRIu64 ":%" PRIu64, merchant.merchant_id,
                    static_cast<uint64_t>(merchant.amount_minor));
    }
    std::printf("\n");
}

void Run() {
    const std::vector<events::Event> events = SyntheticEvents();
    analytics::LiveMetrics metrics(kOffsetMinutes, kJpy);
    for (uint64_t user = 1; user <= kUsers; ++user) {
        const uint64_t before_ns = (kUsers - user + 1) * (kSignupWeeks * 7 * kDayNs / kUsers);
        metrics.ApplySignup(events::Signup{user, kStartNs - before_ns});
    }
    ApplyEvents(metrics, events);
    const int64_t first_day = metrics.DayOf(kStartNs);
    for (int64_t day = first_day; day <= first_day + static_cast<int64_t>(kDays); ++day) {
        PrintFigures(metrics.Day(day, std::nullopt), "platform");
        PrintFigures(metrics.Day(day, 7), "merchant 7");
    }
    const int64_t last_day = metrics.DayOf(events.back().txn.created_at);
    for (const analytics::CohortRow& row : metrics.Retention(last_day, kSignupWeeks + 1)) {
        std::printf("cohort %" PRId64 ": users %" PRIu64 " active", row.week, row.users);
        for (uint64_t active : row.active) std::printf(" %" PRIu64, active);
        std::printf("\n");
    }

    const std::string payload = PaymentRecordPayload(events);
    journal::RecordView record{};
    record.seq = 1;
    record.timestamp = kStartNs;
    record.payload = payload;
    std::printf("%" PRIu64 " events applied; %" PRIu64 " events of %" PRIu64 " records; %" PRIu64
                " operations decoded\n",
                kEvents, EventsOfRecords(record), kRecords, DecodeBatches(payload));
}

}  // namespace
}  // namespace bursar::bench

int main() {
    bursar::bench::Run();
    return 0;
}
