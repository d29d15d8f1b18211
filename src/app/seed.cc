// `bursar seed DIR --users=N --merchants=M --balance=X`: creates users (all with one password),
// merchants and funded wallets in a data directory, offline, through the engine like any command.
// For benchmarks and demos: hashing one password instead of N keeps setup fast.

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "api/auth.h"
#include "app/commands.h"
#include "app/data_dir.h"
#include "app/flags.h"
#include "base/clock.h"
#include "risk/limits.h"

namespace bursar::app {
namespace {

constexpr uint32_t kJpy = 392;
constexpr uint64_t kInFlightMax = 4096;  // commands submitted before waiting for their replies

}  // namespace

int SeedCommand(const Args& args) {
    const std::vector<FlagSpec> specs = {
        {"users", "10000", "users to register (user{n}@example.com, password 'bench-password')"},
        {"merchants", "100", "merchants to create"},
        {"tier", "business",
         "the merchants' tier (enterprise or premium allow pre-authorizations)"},
        {"balance", "100000000", "minor units (JPY) to top each wallet up with"},
        {"merchant-limits", "0",
         "each merchant's single, daily and monthly limits in major units (0: its tier's); a load "
         "test passes a tier's daily limit within seconds"},
    };
    auto flags = Flags::Parse(args, specs);
    if (!flags || flags->positional().size() != 1) {
        LogLine(flags ? "usage: bursar seed DIR [flags]\n" + Flags::Usage(specs)
                      : flags.error().message());
        return 2;
    }
    auto users = flags->Number("users", 0, 10'000'000);
    auto merchants = flags->Number("merchants", 0, 1'000'000);
    auto balance = flags->Number("balance", 1, 1'000'000'000'000'000ull);
    auto merchant_limits = flags->Number("merchant-limits", 0, risk::kLimitMajorMax);
    for (const auto* number : {&users, &merchants, &balance, &merchant_limits}) {
        if (!*number) {
            LogLine(number->error().message());
            return 2;
        }
    }
    const std::string dir = flags->positional()[0];
    auto lock = DataDirLock::Acquire(dir);
    if (!lock) {
        LogLine(lock.error().message());
        return 1;
    }
    engine::EngineOptions options;
    options.data_dir = dir;
    options.log = LogLine;
    auto opened = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
    if (!opened) {
        LogLine("cannot open: " + opened.error().ToString());
        return 1;
    }
    engine::Engine& engine = **opened;
    engine.Start();
    uint64_t failures = 0;
    // Submits commands, at most kInFlightMax outstanding; counts non-2xx results.
    std::mutex mutex;
    std::condition_variable cv;
    uint64_t outstanding = 0;
    auto submit = [&](payments::Command command) {
        auto* request = new engine::Request;
        request->operation = engine::Operation::kCommand;
        request->command = std::move(command);
        request->done = [&](engine::Request& r) {
            std::lock_guard guard(mutex);
            if (!r.status.ok() || !r.outcome.ok()) ++failures;
            --outstanding;
            delete &r;
            cv.notify_all();
        };
        std::unique_lock guard(mutex);
        cv.wait(guard, [&] { return outstanding < kInFlightMax; });
        ++outstanding;
        guard.unlock();
        while (true) {
            Status status = engine.Submit(request);
            if (status.ok()) return;
            if (status.code() != StatusCode::kBusy) {
                LogLine("seed: " + status.ToString());
                std::lock_guard relock(mutex);
                ++failures;
                --outstanding;
                delete request;
                return;
            }
            std::this_thread::yield();
        }
    };
    auto drain = [&]() {
        std::unique_lock guard(mutex);
        cv.wait(guard, [&] { return outstanding == 0; });
    };

    const std::string password_hash = api::HashPassword("bench-password");
    for (uint64_t i = 1; i <= *users; ++i) {
        payments::Command c;
        c.type = payments::CommandType::kRegisterUser;
        c.email = "user" + std::to_string(i) + "@example.com";
        c.name = "User " + std::to_string(i);
        c.password_hash = password_hash;
        submit(std::move(c));
    }
    const payments::TierInfo* tier = payments::FindTier(flags->Get("tier"));
    if (tier == nullptr) {
        LogLine("--tier must be starter, business, enterprise or premium");
        return 2;
    }
    for (uint64_t i = 1; i <= *merchants; ++i) {
        payments::Command c;
        c.type = payments::CommandType::kCreateMerchant;
        c.principal.kind = payments::PrincipalKind::kAdmin;
        c.name = "Merchant " + std::to_string(i);
        c.tier = tier->tier;
        c.secret_hash = api::HashSecret(api::RandomSecret("sk_"));
        submit(std::move(c));
    }
    drain();
    for (uint64_t i = 1; *merchant_limits != 0 && i <= *merchants; ++i) {
        payments::Command c;
        c.type = payments::CommandType::kSetMerchantLimits;
        c.principal.kind = payments::PrincipalKind::kAdmin;
        c.merchant_id = i;
        c.limit_single = c.limit_daily = c.limit_monthly = *merchant_limits;
        submit(std::move(c));
    }
    drain();
    for (uint64_t i = 1; i <= *users; ++i) {
        payments::Command c;
        c.type = payments::CommandType::kTopup;
        c.principal.kind = payments::PrincipalKind::kAdmin;
        c.user_id = i;
        c.amount = *balance;
        c.currency = kJpy;
        submit(std::move(c));
    }
    drain();
    engine.Stop();
    std::printf(
        "seed: %llu users, %llu merchants, %llu failed commands, journal at sequence %llu\n",
        static_cast<unsigned long long>(*users), static_cast<unsigned long long>(*merchants),
        static_cast<unsigned long long>(failures),
        static_cast<unsigned long long>(engine.committed_seq()));
    return failures == 0 ? 0 : 1;
}

}  // namespace bursar::app
