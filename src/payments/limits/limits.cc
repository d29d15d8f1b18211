#include "payments/limits/limits.h"

#include "payments/accounts.h"

namespace bursar::payments::limits {
namespace {

// Signed in and the admin.
ResultCode CheckAdmin(const Caller& caller) {
    if (caller.kind == Caller::Kind::kAnonymous) return ResultCode::kUnauthenticated;
    if (caller.kind != Caller::Kind::kAdmin) return ResultCode::kForbidden;
    return ResultCode::kOk;
}

bool WithinBound(std::initializer_list<uint64_t> values) {
    for (uint64_t value : values) {
        if (value > risk::kLimitMajorMax) return false;
    }
    return true;
}

}  // namespace

risk::MerchantLimits TierLimits(Tier tier) {
    const TierInfo& info = GetTier(tier);
    return {info.single_payment_limit_major, info.daily_limit_major, info.monthly_limit_major};
}

ResultCode CheckPayment(const risk::Limits& limits, const merchants::Merchants& merchants,
                        uint64_t user, uint64_t merchant, uint32_t currency, u128 amount,
                        uint64_t timestamp) {
    const merchants::Merchant* m = merchants.Find(merchant);
    const risk::MerchantLimits tier = TierLimits(m == nullptr ? Tier::kStarter : m->tier);
    switch (limits.Check(user, merchant, tier, currency, amount, timestamp)) {
        case risk::Limit::kNone:
            return ResultCode::kOk;
        case risk::Limit::kUserSingle:
            return ResultCode::kUserSingleLimit;
        case risk::Limit::kUserDaily:
            return ResultCode::kUserDailyLimit;
        case risk::Limit::kMerchantSingle:
            return ResultCode::kMerchantSingleLimit;
        case risk::Limit::kMerchantDaily:
            return ResultCode::kMerchantDailyLimit;
        case risk::Limit::kMerchantMonthly:
            return ResultCode::kMerchantMonthlyLimit;
    }
    return ResultCode::kOk;
}

void RecordPayment(risk::Limits& limits, uint64_t paid_at, uint64_t user, uint64_t merchant,
                   uint32_t currency, u128 amount) {
    limits.Record(user, merchant, currency, amount, paid_at);
}

// Checks, in order: signed in and the admin (kUnauthenticated, kForbidden), the limits within
// kLimitMajorMax (kLimitInvalid), the settings differ from the ones in force or limits are not
// configured yet (kRiskSettingsUnchanged).
Outcome ConfigureRisk(const Command& c, const Caller& caller, risk::Limits& limits,
                      uint64_t timestamp) {
    if (ResultCode code = CheckAdmin(caller); code != ResultCode::kOk) return Refused(code);
    if (!WithinBound({c.limit_single, c.limit_daily}) || c.limit_single == 0 ||
        c.limit_daily == 0 || c.utc_offset_minutes < -12 * 60 || c.utc_offset_minutes > 14 * 60) {
        return Refused(ResultCode::kLimitInvalid);
    }
    risk::Settings settings;
    settings.utc_offset_minutes = c.utc_offset_minutes;
    settings.user_defaults = {c.limit_single, c.limit_daily};
    if (limits.configured() && limits.settings() == settings) {
        return Refused(ResultCode::kRiskSettingsUnchanged);
    }
    limits.Configure(settings, timestamp);
    return Outcome{};
}

// Checks, in order: signed in and the admin, the merchant exists (kLimitsMerchantNotFound), the
// limits within kLimitMajorMax (kLimitInvalid). Zero: the tier's.
Outcome SetMerchantLimits(const Command& c, const Caller& caller,
                          const merchants::Merchants& merchants, risk::Limits& limits) {
    if (ResultCode code = CheckAdmin(caller); code != ResultCode::kOk) return Refused(code);
    if (!merchants.Exists(c.merchant_id)) return Refused(ResultCode::kLimitsMerchantNotFound);
    if (!WithinBound({c.limit_single, c.limit_daily, c.limit_monthly})) {
        return Refused(ResultCode::kLimitInvalid);
    }
    limits.SetMerchantOverride(c.merchant_id, {c.limit_single, c.limit_daily, c.limit_monthly});
    Outcome outcome;
    outcome.object_id = c.merchant_id;
    return outcome;
}

// Checks, in order: signed in and the admin, the user exists (kLimitsUserNotFound), the limits
// within kLimitMajorMax (kLimitInvalid). Zero: the configured default.
Outcome SetUserLimits(const Command& c, const Caller& caller, const users::Users& users,
                      risk::Limits& limits) {
    if (ResultCode code = CheckAdmin(caller); code != ResultCode::kOk) return Refused(code);
    if (users.Find(c.user_id) == nullptr) return Refused(ResultCode::kLimitsUserNotFound);
    if (!WithinBound({c.limit_single, c.limit_daily})) return Refused(ResultCode::kLimitInvalid);
    limits.SetUserOverride(c.user_id, {c.limit_single, c.limit_daily});
    Outcome outcome;
    outcome.object_id = c.user_id;
    return outcome;
}

}  // namespace bursar::payments::limits
