#include "analytics/live_metrics.h"

#include <algorithm>

namespace bursar::analytics {
namespace {

constexpr uint64_t kRecordsPerPoll = 1024;  // journal records read between two looks
constexpr uint64_t kRetryMs = 1000;         // after a failed read, before reading again
// Committed work collected per update; a request for the figures cuts it short (WaitFor).
constexpr uint64_t kLingerMs = 20;
constexpr int kNice = 10;  // background work: the request path goes first on a busy machine

}  // namespace

int64_t LiveMetrics::DayOf(uint64_t ns) const {
    const int64_t seconds = static_cast<int64_t>(ns / 1'000'000'000) + offset_seconds_;
    return seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
}

int64_t LiveMetrics::WeekOf(int64_t day) {
    // 1970-01-01 was a Thursday: Monday is 3 days before it.
    const int64_t shifted = day + 3;
    const int64_t week = shifted >= 0 ? shifted / 7 : (shifted - 6) / 7;
    return week * 7 - 3;
}

void LiveMetrics::ApplySignup(const events::Signup& signup) {
    const int64_t week = WeekOf(DayOf(signup.ts));
    std::lock_guard lock(mutex_);
    signup_week_[signup.user_id] = week;
    ++cohorts_[week].users;
    while (cohorts_.size() > kCohortWeeksKept) {
        const int64_t oldest = cohorts_.begin()->first;
        std::erase_if(signup_week_, [&](const auto& entry) { return entry.second == oldest; });
        cohorts_.erase(cohorts_.begin());
    }
}

void LiveMetrics::MarkActive(uint64_t user_id, int64_t week) {
    auto it = signup_week_.find(user_id);
    if (it == signup_week_.end()) return;  // signed up before the kept cohorts
    cohorts_[it->second].active[week].Insert(user_id);
}

std::vector<CohortRow> LiveMetrics::Retention(int64_t today, uint32_t weeks) const {
    const int64_t current = WeekOf(today);
    std::vector<CohortRow> rows;
    std::lock_guard lock(mutex_);
    for (int64_t week = current - 7 * (int64_t{weeks} - 1); week <= current; week += 7) {
        CohortRow row;
        row.week = week;
        auto it = cohorts_.find(week);
        for (int64_t later = week; later <= current; later += 7) {
            uint64_t active = 0;
            if (it != cohorts_.end()) {
                auto found = it->second.active.find(later);
                if (found != it->second.active.end()) active = found->second.size();
            }
            row.active.push_back(active);
        }
        if (it != cohorts_.end()) row.users = it->second.users;
        rows.push_back(std::move(row));
    }
    return rows;
}

LiveMetrics::Aggregate& LiveMetrics::AggregateOf(int64_t day) {
    if (last_aggregate_ == nullptr || last_day_ != day) {
        last_aggregate_ = &days_[day];
        last_day_ = day;
    }
    return *last_aggregate_;
}

void LiveMetrics::Apply(const events::Event& event) {
    const payments::Txn& txn = event.txn;
    const int64_t day = DayOf(txn.created_at);
    std::lock_guard lock(mutex_);
    MarkActive(txn.user_id, WeekOf(day));
    if (txn.to_user_id != 0) MarkActive(txn.to_user_id, WeekOf(day));
    Aggregate& aggregate = AggregateOf(day);
    ++aggregate.platform.txns;
    aggregate.platform.users.Insert(txn.user_id);
    if (txn.to_user_id != 0) aggregate.platform.users.Insert(txn.to_user_id);
    if (txn.type == payments::TxnType::kPay) {
        Figures& merchant = aggregate.merchants[txn.merchant_id];
        ++merchant.txns;
        merchant.users.Insert(txn.user_id);
        if (txn.currency == currency_) {
            aggregate.platform.amount += txn.amount;
            merchant.amount += txn.amount;
        }
    } else if (txn.type == payments::TxnType::kRefund) {
        Figures& merchant = aggregate.merchants[txn.merchant_id];
        ++merchant.txns;
        merchant.users.Insert(txn.user_id);
        if (txn.currency == currency_) {
            aggregate.platform.refunded += txn.amount;
            merchant.refunded += txn.amount;
        }
    }
    while (days_.size() > kDaysKept) {
        if (days_.begin()->first == last_day_) last_aggregate_ = nullptr;
        days_.erase(days_.begin());
    }
}

DayFigures LiveMetrics::Day(int64_t day, std::optional<uint64_t> merchant) const {
    DayFigures figures;
    figures.day = day;
    std::lock_guard lock(mutex_);
    auto it = days_.find(day);
    if (it == days_.end()) return figures;
    const Aggregate& aggregate = it->second;
    const Figures* source = &aggregate.platform;
    if (merchant) {
        auto found = aggregate.merchants.find(*merchant);
        if (found == aggregate.merchants.end()) return figures;
        source = &found->second;
    }
    figures.amount_minor = source->Net();
    figures.txn_count = source->txns;
    figures.dau = source->users.size();
    if (!merchant) {
        for (const auto& [id, merchant_figures] : aggregate.merchants) {
            if (merchant_figures.Net() > 0)
                figures.top_merchants.push_back({id, merchant_figures.Net()});
        }
        std::sort(figures.top_merchants.begin(), figures.top_merchants.end(),
                  [](const MerchantAmount& a, const MerchantAmount& b) {
                      return a.amount_minor != b.amount_minor ? a.amount_minor > b.amount_minor
                                                              : a.merchant_id < b.merchant_id;
                  });
        if (figures.top_merchants.size() > kTopMerchants)
            figures.top_merchants.resize(kTopMerchants);
    }
    return figures;
}

MetricsService::MetricsService(FileSystem& fs, const engine::Engine& engine,
                               std::string journal_dir, LiveMetrics& metrics)
    : follower_(fs, engine, std::move(journal_dir),
                events::FollowerOptions{.name = "metrics",
                                        .records_per_poll = kRecordsPerPoll,
                                        .retry_ms = kRetryMs,
                                        .linger_ms = kLingerMs,
                                        .nice = kNice},
                [&metrics](const std::vector<events::Event>& events,
                           const std::vector<events::Signup>& signups, uint64_t) {
                    // A user signs up before moving money, so the batch's signups go first.
                    for (const events::Signup& signup : signups) metrics.ApplySignup(signup);
                    for (const events::Event& event : events) metrics.Apply(event);
                    return Status::Ok();
                }) {}

}  // namespace bursar::analytics
