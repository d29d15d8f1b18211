#pragma once

// Live metrics (SPEC.md E2): today's payment volume, transaction count, daily active users and top
// merchants, and daily series, for the platform or one merchant. Computed incrementally from the
// event stream (a thread subscribed to the journal), rebuilt from the journal on start. Days follow
// a fixed UTC offset (the configured time zone). Amounts are in one currency (the default one);
// transactions in other currencies count, their amounts do not.
//
// Definitions: volume = amounts of payments (PAY) net of refunds (REFUND): a refund takes its
// amount off the volume of the day it is made (and of its merchant), a day whose refunds exceed
// its payments shows zero; transactions = every money movement (TOPUP, PAY, TRANSFER, REFUND);
// daily active users = distinct users who paid, were topped up, sent, received or were refunded.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "analytics/id_set.h"
#include "engine/engine.h"
#include "events/event.h"
#include "events/follower.h"

namespace bursar::analytics {

inline constexpr uint32_t kTopMerchants = 5;
inline constexpr uint32_t kDaysKept = 400;  // older days leave memory (the journal keeps them)
inline constexpr uint32_t kCohortWeeksKept = 53;  // cohorts by signup week kept in memory

struct MerchantAmount {
    uint64_t merchant_id;
    u128 amount_minor;
};

struct DayFigures {
    int64_t day = 0;  // days since 1970-01-01 in the configured offset
    u128 amount_minor = 0;
    uint64_t txn_count = 0;
    uint64_t dau = 0;
    std::vector<MerchantAmount> top_merchants;  // platform figures only
};

// Retention by signup cohort: the users who signed up in a week (weeks start on Monday), and how
// many of them moved money (paid, were topped up, sent or received) in that week and each after.
struct CohortRow {
    int64_t week = 0;  // Monday's day number
    uint64_t users = 0;
    std::vector<uint64_t>
        active;  // [0]: the signup week, [k]: k weeks later, up to the current one
};

class LiveMetrics {
  public:
    LiveMetrics(int32_t utc_offset_minutes, uint32_t currency)
        : offset_seconds_(int64_t{utc_offset_minutes} * 60), currency_(currency) {}

    void Apply(const events::Event& event);
    void ApplySignup(const events::Signup& signup);
    int64_t DayOf(uint64_t ns) const;
    // The Monday (day number) of the week holding `day`.
    static int64_t WeekOf(int64_t day);
    // The cohorts of the last `weeks` weeks, oldest first, as of `today`.
    std::vector<CohortRow> Retention(int64_t today, uint32_t weeks) const;
    // The figures of `day`, for the platform or for one merchant.
    DayFigures Day(int64_t day, std::optional<uint64_t> merchant) const;

  private:
    struct Figures {
        u128 amount = 0;    // payments, in the default currency
        u128 refunded = 0;  // refunds, in the default currency
        u128 Net() const { return amount > refunded ? amount - refunded : 0; }
        uint64_t txns = 0;
        IdSet users;
    };
    struct Aggregate {
        Figures platform;
        // The top merchants are those with an amount: amounts are positive (Platform::MoveMoney),
        // so they are the merchants paid in the default currency.
        std::unordered_map<uint64_t, Figures> merchants;
    };
    struct Cohort {
        uint64_t users = 0;
        std::map<int64_t, IdSet> active;  // week -> users of the cohort active in it
    };
    // With mutex_ held:
    Aggregate& AggregateOf(int64_t day);
    void MarkActive(uint64_t user_id, int64_t week);

    int64_t offset_seconds_;
    uint32_t currency_;
    mutable std::mutex mutex_;
    std::map<int64_t, Aggregate> days_;  // in order: the oldest leaves first
    // The day of the last event and its aggregate in days_ (null: none), as events come in time
    // order and mostly fall on the same day.
    int64_t last_day_ = 0;
    Aggregate* last_aggregate_ = nullptr;
    std::unordered_map<uint64_t, int64_t> signup_week_;  // user -> cohort
    std::map<int64_t, Cohort> cohorts_;                  // in order: the oldest leaves first
};

// Feeds LiveMetrics from the journal: from the first record on start, then as batches commit.
class MetricsService {
  public:
    MetricsService(FileSystem& fs, const engine::Engine& engine, std::string journal_dir,
                   LiveMetrics& metrics);
    void Start() { follower_.Start(0); }
    void Stop() { follower_.Stop(); }
    bool WaitFor(uint64_t seq, uint64_t timeout_ms) const {
        return follower_.WaitFor(seq, timeout_ms);
    }

  private:
    events::Follower follower_;
};

}  // namespace bursar::analytics
