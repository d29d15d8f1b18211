#include "risk/limits.h"

#include <algorithm>
#include <vector>

#include "base/binary_codec.h"
#include "ledger/currency.h"

namespace bursar::risk {
namespace {

constexpr int64_t kDayNs = 86'400'000'000'000;
constexpr uint64_t kEntriesMax = 1ull << 40;  // a bound for decoding

// Howard Hinnant's civil_from_days: the year and month (1-12) of a day since 1970-01-01.
std::pair<int64_t, int64_t> YearMonthOf(int64_t days) {
    days += 719'468;
    const int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
    const int64_t doe = days - era * 146'097;
    const int64_t yoe = (doe - doe / 1'460 + doe / 36'524 - doe / 146'096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t month = mp < 10 ? mp + 3 : mp - 9;
    return {yoe + era * 400 + (month <= 2 ? 1 : 0), month};
}

int64_t MonthOfDay(int64_t day) {
    const auto [year, month] = YearMonthOf(day);
    return year * 12 + month - 1;
}

u128 Used(const Limits::Counter* counter, bool daily, int64_t window) {
    if (counter == nullptr) return 0;
    if (daily) return counter->day == window ? counter->day_used : 0;
    return counter->month == window ? counter->month_used : 0;
}

const Limits::Counter* Find(const Limits::Counters& counters, const Limits::Key& key) {
    auto it = counters.find(key);
    return it == counters.end() ? nullptr : &it->second;
}

void Add(Limits::Counter& counter, int64_t day, int64_t month, u128 amount) {
    if (counter.day != day) {
        counter.day = day;
        counter.day_used = 0;
    }
    if (counter.month != month) {
        counter.month = month;
        counter.month_used = 0;
    }
    counter.day_used += amount;
    counter.month_used += amount;
}

void Subtract(Limits::Counter& counter, int64_t paid_day, int64_t paid_month, u128 amount) {
    if (counter.day == paid_day) counter.day_used -= std::min(counter.day_used, amount);
    if (counter.month == paid_month) counter.month_used -= std::min(counter.month_used, amount);
}

void WriteCounters(BinaryWriter& w, const Limits::Counters& counters) {
    // In key order: the section's bytes do not depend on the hash table's.
    std::vector<std::pair<Limits::Key, const Limits::Counter*>> sorted;
    sorted.reserve(counters.size());
    for (const auto& [key, counter] : counters) sorted.emplace_back(key, &counter);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    w.U64(counters.size());
    for (const auto& [key, counter_ptr] : sorted) {
        const Limits::Counter& counter = *counter_ptr;
        w.U64(key.first);
        w.U32(key.second);
        w.U64(static_cast<uint64_t>(counter.day));
        w.U128(counter.day_used);
        w.U64(static_cast<uint64_t>(counter.month));
        w.U128(counter.month_used);
    }
}

bool ReadCounters(BinaryReader& r, Limits::Counters* counters) {
    uint64_t count = 0;
    if (!r.U64(&count) || count > kEntriesMax) return false;
    for (uint64_t i = 0; i < count; ++i) {
        Limits::Key key;
        Limits::Counter counter;
        uint64_t day = 0, month = 0;
        if (!r.U64(&key.first) || !r.U32(&key.second) || !r.U64(&day) ||
            !r.U128(&counter.day_used) || !r.U64(&month) || !r.U128(&counter.month_used)) {
            return false;
        }
        counter.day = static_cast<int64_t>(day);
        counter.month = static_cast<int64_t>(month);
        if (!counters->emplace(key, counter).second) return false;
    }
    return true;
}

}  // namespace

const char* LimitName(Limit limit) {
    switch (limit) {
        case Limit::kNone:
            return "";
        case Limit::kUserSingle:
            return "user.single";
        case Limit::kUserDaily:
            return "user.daily";
        case Limit::kMerchantSingle:
            return "merchant.single";
        case Limit::kMerchantDaily:
            return "merchant.daily";
        case Limit::kMerchantMonthly:
            return "merchant.monthly";
    }
    return "";
}

u128 MinorUnits(uint64_t major, uint32_t currency) {
    const ledger::CurrencyInfo* info = ledger::FindCurrency(currency);
    if (info == nullptr) return 0;
    u128 value = major;
    for (uint8_t i = 0; i < info->exponent; ++i) value *= 10;  // 10^15 * 10^18 < 2^128
    return value;
}

int64_t Limits::DayOf(uint64_t timestamp) const {
    const int64_t local =
        static_cast<int64_t>(timestamp) + int64_t{settings_.utc_offset_minutes} * 60'000'000'000;
    return local >= 0 ? local / kDayNs : (local - kDayNs + 1) / kDayNs;
}

int64_t Limits::MonthOf(uint64_t timestamp) const { return MonthOfDay(DayOf(timestamp)); }

void Limits::SetMerchantOverride(uint64_t merchant, const MerchantLimits& limits) {
    if (limits == MerchantLimits{}) {
        merchant_overrides_.erase(merchant);
    } else {
        merchant_overrides_[merchant] = limits;
    }
}

void Limits::SetUserOverride(uint64_t user, const UserLimits& limits) {
    if (limits == UserLimits{}) {
        user_overrides_.erase(user);
    } else {
        user_overrides_[user] = limits;
    }
}

std::optional<MerchantLimits> Limits::MerchantOverride(uint64_t merchant) const {
    auto it = merchant_overrides_.find(merchant);
    if (it == merchant_overrides_.end()) return std::nullopt;
    return it->second;
}

std::optional<UserLimits> Limits::UserOverride(uint64_t user) const {
    auto it = user_overrides_.find(user);
    if (it == user_overrides_.end()) return std::nullopt;
    return it->second;
}

MerchantLimits Limits::MerchantLimitsOf(uint64_t merchant, const MerchantLimits& tier) const {
    MerchantLimits limits = tier;
    if (std::optional<MerchantLimits> override = MerchantOverride(merchant)) {
        if (override->single != 0) limits.single = override->single;
        if (override->daily != 0) limits.daily = override->daily;
        if (override->monthly != 0) limits.monthly = override->monthly;
    }
    return limits;
}

UserLimits Limits::UserLimitsOf(uint64_t user) const {
    UserLimits limits = settings_.user_defaults;
    if (std::optional<UserLimits> override = UserOverride(user)) {
        if (override->single != 0) limits.single = override->single;
        if (override->daily != 0) limits.daily = override->daily;
    }
    return limits;
}

Limit Limits::Check(uint64_t user, uint64_t merchant, const MerchantLimits& tier, uint32_t currency,
                    u128 amount, uint64_t timestamp) const {
    if (!configured_) return Limit::kNone;
    const int64_t day = DayOf(timestamp);
    const int64_t month = MonthOf(timestamp);
    const UserLimits u = UserLimitsOf(user);
    const Counter* user_counter = Find(users_, {user, currency});
    if (amount > MinorUnits(u.single, currency)) return Limit::kUserSingle;
    if (Used(user_counter, true, day) + amount > MinorUnits(u.daily, currency)) {
        return Limit::kUserDaily;
    }
    const MerchantLimits m = MerchantLimitsOf(merchant, tier);
    const Counter* merchant_counter = Find(merchants_, {merchant, currency});
    if (amount > MinorUnits(m.single, currency)) return Limit::kMerchantSingle;
    if (Used(merchant_counter, true, day) + amount > MinorUnits(m.daily, currency)) {
        return Limit::kMerchantDaily;
    }
    if (Used(merchant_counter, false, month) + amount > MinorUnits(m.monthly, currency)) {
        return Limit::kMerchantMonthly;
    }
    return Limit::kNone;
}

void Limits::Record(uint64_t user, uint64_t merchant, uint32_t currency, u128 amount,
                    uint64_t timestamp) {
    if (!configured_) return;
    const int64_t day = DayOf(timestamp);
    const int64_t month = MonthOf(timestamp);
    Add(users_[{user, currency}], day, month, amount);
    Add(merchants_[{merchant, currency}], day, month, amount);
}

void Limits::GiveBack(uint64_t user, uint64_t merchant, uint32_t currency, u128 amount,
                      uint64_t paid_at, uint64_t timestamp) {
    // A payment from before the limits were in force was never counted: nothing to give back.
    if (!configured_ || paid_at < configured_at_) return;
    const int64_t day = DayOf(paid_at);
    const int64_t month = MonthOf(paid_at);
    // The windows of the payment, when they are still the current ones.
    const int64_t today = DayOf(timestamp);
    const int64_t this_month = MonthOf(timestamp);
    auto give_back = [&](Counters& counters, const Key& key) {
        auto it = counters.find(key);
        if (it == counters.end()) return;
        Subtract(it->second, day == today ? day : INT64_MIN + 1,
                 month == this_month ? month : INT64_MIN + 1, amount);
    };
    give_back(users_, {user, currency});
    give_back(merchants_, {merchant, currency});
}

std::vector<WindowFigures> Limits::MerchantWindows(uint64_t merchant, const MerchantLimits& tier,
                                                   uint32_t currency, uint64_t timestamp) const {
    const MerchantLimits m = MerchantLimitsOf(merchant, tier);
    const Counter* counter = Find(merchants_, {merchant, currency});
    return {{"single", MinorUnits(m.single, currency), 0},
            {"daily", MinorUnits(m.daily, currency), Used(counter, true, DayOf(timestamp))},
            {"monthly", MinorUnits(m.monthly, currency), Used(counter, false, MonthOf(timestamp))}};
}

std::vector<WindowFigures> Limits::UserWindows(uint64_t user, uint32_t currency,
                                               uint64_t timestamp) const {
    const UserLimits u = UserLimitsOf(user);
    const Counter* counter = Find(users_, {user, currency});
    return {{"single", MinorUnits(u.single, currency), 0},
            {"daily", MinorUnits(u.daily, currency), Used(counter, true, DayOf(timestamp))}};
}

// The section: u8 configured, u64 configured at, i32 offset, u64 user single and daily defaults;
// the overrides (u64 count, then merchant id and three limits / user id and two); the counters of
// merchants and users (u64 count, then id, currency, day, day used, month, month used).
void Limits::Save(std::string* out) const {
    BinaryWriter w(out);
    w.U8(configured_ ? 1 : 0);
    w.U64(configured_at_);
    w.U32(static_cast<uint32_t>(settings_.utc_offset_minutes));
    w.U64(settings_.user_defaults.single);
    w.U64(settings_.user_defaults.daily);
    w.U64(merchant_overrides_.size());
    for (const auto& [id, limits] : merchant_overrides_) {
        w.U64(id);
        w.U64(limits.single);
        w.U64(limits.daily);
        w.U64(limits.monthly);
    }
    w.U64(user_overrides_.size());
    for (const auto& [id, limits] : user_overrides_) {
        w.U64(id);
        w.U64(limits.single);
        w.U64(limits.daily);
    }
    WriteCounters(w, merchants_);
    WriteCounters(w, users_);
}

bool Limits::Load(std::string_view section) {
    BinaryReader r(section);
    uint8_t configured = 0;
    uint32_t offset = 0;
    uint64_t count = 0;
    if (!r.U8(&configured) || configured > 1 || !r.U64(&configured_at_) || !r.U32(&offset) ||
        !r.U64(&settings_.user_defaults.single) || !r.U64(&settings_.user_defaults.daily) ||
        !r.U64(&count) || count > kEntriesMax) {
        return false;
    }
    configured_ = configured == 1;
    settings_.utc_offset_minutes = static_cast<int32_t>(offset);
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t id = 0;
        MerchantLimits limits;
        if (!r.U64(&id) || !r.U64(&limits.single) || !r.U64(&limits.daily) ||
            !r.U64(&limits.monthly) || !merchant_overrides_.emplace(id, limits).second) {
            return false;
        }
    }
    if (!r.U64(&count) || count > kEntriesMax) return false;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t id = 0;
        UserLimits limits;
        if (!r.U64(&id) || !r.U64(&limits.single) || !r.U64(&limits.daily) ||
            !user_overrides_.emplace(id, limits).second) {
            return false;
        }
    }
    return ReadCounters(r, &merchants_) && ReadCounters(r, &users_) && r.done();
}

Status Limits::CheckInvariants() const {
    if (!configured_ && (!merchants_.empty() || !users_.empty())) {
        return Status(StatusCode::kCorruption, "limits: counters before limits were configured");
    }
    for (const auto& counters : {&merchants_, &users_}) {
        for (const auto& [key, counter] : *counters) {
            // A month holds its days: a day's use is at most its month's when both are current.
            if (counter.day != INT64_MIN && MonthOfDay(counter.day) == counter.month &&
                counter.day_used > counter.month_used) {
                return Status(StatusCode::kCorruption, "limits: a day uses more than its month");
            }
        }
    }
    return Status::Ok();
}

uint64_t Limits::MemoryBytes() const {
    // A std::map node: 32 bytes of links and color, then the key and the value; a hash node: its
    // link, its cached hash and a bucket's pointer (24), then the key and the value.
    constexpr uint64_t kLinks = 32;
    constexpr uint64_t kHashLinks = 24;
    return (merchants_.size() + users_.size()) * (kHashLinks + sizeof(Key) + sizeof(Counter)) +
           merchant_overrides_.size() * (kLinks + 8 + sizeof(MerchantLimits)) +
           user_overrides_.size() * (kLinks + 8 + sizeof(UserLimits));
}

}  // namespace bursar::risk
