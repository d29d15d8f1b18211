#include "app/demo.h"

#include <latch>
#include <memory>

#include "api/auth.h"
#include "app/commands.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/thread.h"
#include "journal/format.h"

namespace bursar::app {
namespace {

constexpr uint64_t kSecondNs = 1'000'000'000;
constexpr uint64_t kDayNs = 86'400 * kSecondNs;

struct DemoUser {
    const char* email;
    const char* name;
};
constexpr DemoUser kDemoUsers[] = {
    {"alice@example.com", "Alice"},
    {"bob@example.com", "Bob"},
    {"chidi.demo@example.com", "Chidi Okafor"},
    {"daniela.demo@example.com", "Daniela Ruiz"},
    {"emeka.demo@example.com", "Emeka Obi"},
    {"fatima.demo@example.com", "Fatima Zahra"},
    {"goro.demo@example.com", "Goro Tanaka"},
    {"hana.demo@example.com", "Hana Kim"},
};

struct DemoMerchant {
    const char* name;
    payments::Tier tier;
};
constexpr DemoMerchant kDemoMerchants[] = {
    {"Demo Coffee", payments::Tier::kBusiness},
    {"Corner Books", payments::Tier::kStarter},
    {"Night Market", payments::Tier::kEnterprise},
    {"City Transit", payments::Tier::kPremium},
};

// Runs a command on the engine and waits for its outcome (nullopt when the engine refuses it).
std::optional<payments::Outcome> RunOne(engine::Engine& engine, payments::Command command) {
    auto outcome = engine::RunCommand(engine, std::move(command));
    if (!outcome) return std::nullopt;
    return std::move(*outcome);
}

bool Succeeded(const std::optional<payments::Outcome>& outcome) { return outcome && outcome->ok(); }

// Submits `commands` at once (the engine applies them in order, in as few batches as it can) and
// waits for all of them; the number that did not succeed.
size_t RunAll(engine::Engine& engine, std::vector<payments::Command> commands) {
    std::vector<engine::Request> requests(commands.size());
    // Shared with the callbacks: the last one may still be inside count_down when wait returns.
    auto done = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(commands.size()));
    size_t submitted = 0;
    for (size_t i = 0; i < commands.size(); ++i) {
        requests[i].operation = engine::Operation::kCommand;
        requests[i].command = std::move(commands[i]);
        requests[i].done = [done](engine::Request&) { done->count_down(); };
        if (!engine.Submit(&requests[i]).ok()) break;
        ++submitted;
    }
    done->count_down(static_cast<std::ptrdiff_t>(commands.size() - submitted));
    done->wait();
    size_t failed = commands.size() - submitted;
    for (size_t i = 0; i < submitted; ++i) {
        if (!requests[i].status.ok() || !requests[i].outcome.ok()) ++failed;
    }
    return failed;
}

// The ids of the demo's users and merchants, read on the engine thread.
void FindDemoIds(engine::Engine& engine, Demo* demo) {
    engine::Request query;
    query.operation = engine::Operation::kQuery;
    query.query = [&](const payments::Platform& p) {
        demo->user_ids.clear();
        demo->merchant_ids.clear();
        for (const DemoUser& user : kDemoUsers) {
            if (auto login = p.users().FindLogin(user.email)) {
                demo->user_ids.push_back(login->user_id);
            }
        }
        // The first merchant of each demo name (merchants are not looked up by name elsewhere).
        for (const DemoMerchant& merchant : kDemoMerchants) {
            for (uint64_t id = 1; id <= p.merchants().count(); ++id) {
                if (p.merchants().Find(id)->name == merchant.name) {
                    demo->merchant_ids.push_back(id);
                    break;
                }
            }
        }
    };
    if (!engine::SubmitAndWait(engine, query).ok()) {
        demo->user_ids.clear();
        demo->merchant_ids.clear();
    }
}

payments::Command AdminCommand(payments::CommandType type, uint32_t currency) {
    payments::Command c;
    c.type = type;
    c.principal = payments::Principal{payments::PrincipalKind::kAdmin, {}};
    c.currency = currency;
    return c;
}

}  // namespace

Demo CreateDemoData(engine::Engine& engine, uint32_t currency) {
    Demo demo{"alice@example.com", "correct horse battery", "", {}, {}};
    const std::string password_hash = api::HashPassword(demo.password);  // argon2: once
    bool created = true;
    for (const DemoUser& user : kDemoUsers) {
        payments::Command reg = AdminCommand(payments::CommandType::kRegisterUser, currency);
        reg.principal = {};
        reg.email = user.email;
        reg.name = user.name;
        reg.password_hash = password_hash;
        created = Succeeded(RunOne(engine, reg)) && created;  // refused when already there
    }
    if (created) {
        for (const DemoMerchant& merchant : kDemoMerchants) {
            payments::Command c = AdminCommand(payments::CommandType::kCreateMerchant, currency);
            c.name = merchant.name;
            c.tier = merchant.tier;
            std::string api_key = api::RandomSecret("sk_");
            c.secret_hash = api::HashSecret(api_key);
            if (Succeeded(RunOne(engine, c)) && demo.merchant_key.empty()) {
                demo.merchant_key = api_key;
            }
        }
    }
    FindDemoIds(engine, &demo);
    if (!created || demo.user_ids.empty() || demo.merchant_ids.empty()) return demo;
    std::vector<payments::Command> opening;
    for (uint64_t user : demo.user_ids) {
        payments::Command topup = AdminCommand(payments::CommandType::kTopup, currency);
        topup.user_id = user;
        topup.amount = kDemoOpeningTopupMinor;
        opening.push_back(topup);
    }
    payments::Command pay = AdminCommand(payments::CommandType::kPay, currency);
    pay.user_id = demo.user_ids[0];
    pay.merchant_id = demo.merchant_ids[0];
    pay.amount = kDemoOpeningPaymentMinor;
    opening.push_back(pay);
    RunAll(engine, std::move(opening));
    return demo;
}

bool JournalIsEmpty(FileSystem& fs, const std::string& data_dir) {
    auto names = fs.ListDir(JoinPath(data_dir, "journal"));
    if (!names) return true;  // no journal directory yet
    for (const std::string& name : *names) {
        if (journal::ParseSegmentName(name) != 0) return false;
    }
    return true;
}

Result<Demo> SeedDemoHistory(const engine::EngineOptions& options, uint32_t currency,
                             int32_t utc_offset_minutes, uint64_t now_ns) {
    const int64_t offset_ns = int64_t{utc_offset_minutes} * 60 * int64_t{kSecondNs};
    const uint64_t today_start =
        static_cast<uint64_t>((static_cast<int64_t>(now_ns) + offset_ns) /
                                  static_cast<int64_t>(kDayNs) * static_cast<int64_t>(kDayNs) -
                              offset_ns);
    const uint64_t first_day = today_start - (kDemoHistoryDays - 1) * kDayNs;
    const uint64_t end_ns = now_ns - 60 * kSecondNs;  // the live engine's clock starts after it
    ManualClock clock(first_day + 7 * 3600 * kSecondNs);
    auto opened = engine::Engine::Open(PosixFileSystem(), clock, options);
    if (!opened) return Error(opened.error());
    engine::Engine& engine = **opened;
    engine.Start();
    Demo demo = CreateDemoData(engine, currency);
    if (demo.user_ids.size() < 2 || demo.merchant_ids.empty()) {
        engine.Stop();
        return Error(Status(StatusCode::kStopped, "the demo's users and merchants were not made"));
    }

    // The balances the history may spend, kept here: a movement is chosen only when it can go
    // through, so every command of the history succeeds.
    std::vector<uint64_t> balances(demo.user_ids.size(), kDemoOpeningTopupMinor);
    balances[0] -= kDemoOpeningPaymentMinor;
    std::mt19937_64 random(kDemoHistorySeed);
    // Moments of the day (hours) with traffic; each gets up to 100 minutes of jitter.
    constexpr uint64_t kMomentHours[kDemoHistoryMomentsPerDay] = {8, 10, 12, 14, 17, 20};
    size_t failed = 0;
    size_t movements = 0;
    for (uint32_t day = 0; day < kDemoHistoryDays; ++day) {
        const uint64_t day_start = first_day + day * kDayNs;
        // Busier as the weeks go by, and on some days more than others.
        const uint64_t busy = 2 + day / 8 + random() % 3;
        for (uint64_t hour : kMomentHours) {
            const uint64_t at = day_start + hour * 3600 * kSecondNs + (random() % 6000) * kSecondNs;
            const uint64_t count =
                std::min<uint64_t>(busy + random() % 3, kDemoHistoryMovementsPerMomentMax);
            if (at >= end_ns) continue;
            clock.Set(at);
            std::vector<payments::Command> commands;
            for (uint64_t i = 0; i < count; ++i) {
                const size_t payer = random() % demo.user_ids.size();
                const uint64_t roll = random() % 100;
                payments::Command c = AdminCommand(payments::CommandType::kPay, currency);
                c.user_id = demo.user_ids[payer];
                c.amount = 100 + random() % 3400;
                if (roll < 65) {
                    // The first merchant is the busiest.
                    const uint64_t pick = random() % 10;
                    c.merchant_id =
                        demo.merchant_ids[std::min<size_t>(pick < 4   ? 0
                                                           : pick < 7 ? 1
                                                           : pick < 9 ? 2
                                                                      : 3,
                                                           demo.merchant_ids.size() - 1)];
                } else if (roll < 85) {
                    c.type = payments::CommandType::kTransfer;
                    const size_t to =
                        (payer + 1 + random() % (demo.user_ids.size() - 1)) % demo.user_ids.size();
                    c.to_user_id = demo.user_ids[to];
                    c.amount = 100 + random() % 3000;
                    if (balances[payer] >= c.amount) balances[to] += c.amount;
                } else {
                    c.type = payments::CommandType::kTopup;
                }
                if (c.type == payments::CommandType::kTopup || balances[payer] < c.amount) {
                    c.type = payments::CommandType::kTopup;
                    c.merchant_id = 0;
                    c.to_user_id = 0;
                    c.amount = 1000 * (5 + random() % 26);
                    balances[payer] += c.amount;
                } else {
                    balances[payer] -= c.amount;
                }
                commands.push_back(std::move(c));
            }
            movements += commands.size();
            failed += RunAll(engine, std::move(commands));
        }
    }
    engine.Stop();
    if (engine.failed()) return Error(Status(StatusCode::kStopped, "the history's engine failed"));
    LogLine("demo: seeded " + std::to_string(kDemoHistoryDays) + " days of history, " +
            std::to_string(movements) + " movements of money" +
            (failed == 0 ? "" : " (" + std::to_string(failed) + " refused)"));
    return demo;
}

void OpenDemoDay(engine::Engine& engine, uint32_t currency, const Demo& demo) {
    if (demo.user_ids.empty() || demo.merchant_ids.empty()) return;
    std::vector<payments::Command> commands;
    for (size_t i = 0; i < std::min(kDemoDayOpeners, demo.user_ids.size()); ++i) {
        payments::Command topup = AdminCommand(payments::CommandType::kTopup, currency);
        topup.user_id = demo.user_ids[i];
        topup.amount = kDemoOpeningTopupMinor / 10;
        commands.push_back(topup);
        payments::Command pay = AdminCommand(payments::CommandType::kPay, currency);
        pay.user_id = demo.user_ids[i];
        pay.merchant_id = demo.merchant_ids[i % demo.merchant_ids.size()];
        pay.amount = kDemoOpeningPaymentMinor;
        commands.push_back(pay);
    }
    if (size_t failed = RunAll(engine, std::move(commands)); failed != 0) {
        LogLine("demo: " + std::to_string(failed) + " of the day's opening movements refused");
    }
}

TrafficSimulator::TrafficSimulator(engine::Engine& engine, uint32_t currency, const Demo& demo)
    : engine_(engine),
      currency_(currency),
      random_(SystemClock::Instance().RealtimeNs()),
      users_(demo.user_ids),
      merchants_(demo.merchant_ids) {}

void TrafficSimulator::Start() {
    thread_ = std::thread([this] {
        SetCurrentThreadName("simulator");
        Run();
    });
}

void TrafficSimulator::Stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void TrafficSimulator::Run() {
    const std::string password_hash = api::HashPassword("correct horse battery");
    while (true) {
        {
            std::unique_lock lock(mutex_);
            if (cv_.wait_for(lock, std::chrono::milliseconds(kIntervalMs),
                             [&] { return stopping_; })) {
                return;
            }
        }
        Step(password_hash);
    }
}

void TrafficSimulator::Step(const std::string& password_hash) {
    payments::Command c = AdminCommand(payments::CommandType::kPay, currency_);
    const uint64_t roll = random_() % 100;
    if (roll < 3 || users_.size() < 2) {
        c.type = payments::CommandType::kRegisterUser;
        c.email = "shopper" + std::to_string(random_() % 1'000'000'000) + "@example.com";
        c.name = "Shopper";
        c.password_hash = password_hash;
        std::optional<payments::Outcome> outcome = RunOne(engine_, c);
        if (Succeeded(outcome)) users_.push_back(outcome->object_id);
        return;
    }
    const size_t payer = random_() % users_.size();
    c.user_id = users_[payer];
    if (roll < 25 || merchants_.empty()) {
        c.type = payments::CommandType::kTopup;
        c.amount = 1000 * (1 + random_() % 20);
    } else if (roll < 85) {
        c.merchant_id = merchants_[random_() % merchants_.size()];
        c.amount = 100 + random_() % 3000;
    } else {
        c.type = payments::CommandType::kTransfer;
        c.to_user_id = users_[(payer + 1 + random_() % (users_.size() - 1)) % users_.size()];
        c.amount = 100 + random_() % 2000;
    }
    RunOne(engine_, c);
}

}  // namespace bursar::app
