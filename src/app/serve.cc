// `bursar serve`: the platform. Recovers the data directory, starts the engine, the read model's
// projector and the HTTP API, prints where it listens, and on SIGINT/SIGTERM stops gracefully:
// no new connections, in-flight requests finished, journal flushed, exit 0.

#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "analytics/live_metrics.h"
#include "api/auth.h"
#include "api/http_server.h"
#include "api/metrics_api.h"
#include "api/ops_api.h"
#include "api/platform_api.h"
#include "api/router.h"
#include "api/stream_api.h"
#include "api/worker_pool.h"
#include "app/commands.h"
#include "app/data_dir.h"
#include "app/flags.h"
#include "base/clock.h"
#include "base/thread.h"
#include "config/config.h"
#include "events/jetstream_publisher.h"
#include "ledger/currency.h"
#include "projection/projector.h"

extern char** environ;

namespace bursar::app {
namespace {

// Runs a command on the engine and waits for its outcome (nullopt when the engine refuses it).
std::optional<payments::Outcome> Run(engine::Engine& engine, payments::Command command) {
    auto outcome = engine::RunCommand(engine, std::move(command));
    if (!outcome) return std::nullopt;
    return std::move(*outcome);
}

bool Succeeded(const std::optional<payments::Outcome>& outcome) { return outcome && outcome->ok(); }

struct Demo {
    std::string user_email;
    std::string password;
    std::string merchant_key;
    std::vector<uint64_t> user_ids;  // the demo's users: the only ones its simulator moves
};

// The id of the user registered with `email`, read on the engine thread.
uint64_t UserIdOf(engine::Engine& engine, const std::string& email) {
    uint64_t id = 0;
    engine::Request query;
    query.operation = engine::Operation::kQuery;
    query.query = [&](const payments::Platform& p) {
        if (auto login = p.users().FindLogin(email)) id = login->user_id;
    };
    if (!engine::SubmitAndWait(engine, query).ok()) return 0;
    return id;
}

// Demo users and merchants, created once: later starts find them (register answers 409) and
// leave them as they are.
Demo CreateDemoData(engine::Engine& engine, uint32_t currency) {
    Demo demo{"alice@example.com", "correct horse battery", ""};
    payments::Principal admin{payments::PrincipalKind::kAdmin, {}};
    const char* users[][2] = {{"alice@example.com", "Alice"}, {"bob@example.com", "Bob"}};
    bool created = true;
    for (const auto& [email, name] : users) {
        payments::Command reg;
        reg.type = payments::CommandType::kRegisterUser;
        reg.email = email;
        reg.name = name;
        reg.password_hash = api::HashPassword(demo.password);
        created = Succeeded(Run(engine, reg)) && created;  // refused when already there
        if (uint64_t id = UserIdOf(engine, email)) demo.user_ids.push_back(id);
    }
    if (!created) return demo;
    payments::Command merchant;
    merchant.type = payments::CommandType::kCreateMerchant;
    merchant.principal = admin;
    merchant.name = "Demo Coffee";
    merchant.tier = payments::Tier::kBusiness;
    std::string api_key = api::RandomSecret("sk_");
    merchant.secret_hash = api::HashSecret(api_key);
    if (Succeeded(Run(engine, merchant))) demo.merchant_key = api_key;
    for (uint64_t user : demo.user_ids) {
        payments::Command topup;
        topup.type = payments::CommandType::kTopup;
        topup.principal = admin;
        topup.user_id = user;
        topup.amount = 100'000;
        topup.currency = currency;
        Run(engine, topup);
    }
    payments::Command pay;
    pay.type = payments::CommandType::kPay;
    pay.principal = admin;
    pay.user_id = demo.user_ids[0];
    pay.merchant_id = 1;
    pay.amount = 480;
    pay.currency = currency;
    Run(engine, pay);
    return demo;
}

// Modest, random traffic for the demo (issue 4): new users now and then, top-ups, payments and
// transfers among the demo's users and merchants, so the dashboard is alive on first start. It
// moves the money of its own users only (the demo's and those it registered), never of a user a
// person registered on the demo server.
class TrafficSimulator {
  public:
    static constexpr uint64_t kIntervalMs = 400;  // about 2.5 money movements a second

    TrafficSimulator(engine::Engine& engine, uint32_t currency, std::vector<uint64_t> user_ids)
        : engine_(engine),
          currency_(currency),
          random_(SystemClock::Instance().RealtimeNs()),
          users_(std::move(user_ids)) {}
    ~TrafficSimulator() { Stop(); }

    void Start() {
        thread_ = std::thread([this] {
            SetCurrentThreadName("simulator");
            Run();
        });
    }
    void Stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

  private:
    void Run() {
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

    void Step(const std::string& password_hash) {
        payments::Command c;
        c.principal.kind = payments::PrincipalKind::kAdmin;
        c.currency = currency_;
        const uint64_t roll = random_() % 100;
        if (roll < 3 || users_.size() < 2) {
            c.type = payments::CommandType::kRegisterUser;
            c.email = "shopper" + std::to_string(random_() % 1'000'000'000) + "@example.com";
            c.name = "Shopper";
            c.password_hash = password_hash;
            std::optional<payments::Outcome> outcome = Run(c);
            if (Succeeded(outcome)) users_.push_back(outcome->object_id);
            return;
        }
        const size_t payer = random_() % users_.size();
        c.user_id = users_[payer];
        if (roll < 25) {
            c.type = payments::CommandType::kTopup;
            c.amount = 1000 * (1 + random_() % 20);
        } else if (roll < 85) {
            c.type = payments::CommandType::kPay;
            c.merchant_id = 1;
            c.amount = 100 + random_() % 3000;
        } else {
            c.type = payments::CommandType::kTransfer;
            c.to_user_id = users_[(payer + 1 + random_() % (users_.size() - 1)) % users_.size()];
            c.amount = 100 + random_() % 2000;
        }
        Run(c);
    }

    std::optional<payments::Outcome> Run(payments::Command command) {
        return ::bursar::app::Run(engine_, command);
    }

    engine::Engine& engine_;
    uint32_t currency_;
    std::mt19937_64 random_;
    std::vector<uint64_t> users_;  // its own: the demo's, and those it registered
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace

int ServeCommand(const Args& args) {
    const std::vector<FlagSpec> specs = {
        {"config", "", "a configuration file of key = value lines (see below)"},
        {"demo", "false",
         "also create demo users, a merchant and a few payments, and simulate modest traffic",
         true},
        {"no-simulator", "false", "with --demo: no simulated traffic", true},
        {"help", "false", "print the flags and settings", true},
    };
    auto flags = Flags::Parse(args, specs);
    if (!flags) {
        LogLine(flags.error().message());
        return 2;
    }
    if (flags->Switch("help")) {
        std::printf(
            "usage: bursar serve [flags]\n%s\nsettings (file key, environment variable):\n%s",
            Flags::Usage(specs).c_str(), config::Config::Describe().c_str());
        return 0;
    }
    auto config = config::Config::Load(flags->Get("config"), environ);
    if (!config) {
        LogLine("configuration: " + config.error().message());
        return 2;
    }
    const std::string dir = config->Get("data_dir");
    auto lock = DataDirLock::Acquire(dir);
    if (!lock) {
        LogLine(lock.error().message());
        return 1;
    }
    BlockStopSignals();

    engine::EngineOptions options;
    options.data_dir = dir;
    options.log = LogLine;
    options.snapshot_interval_records = config->Number("snapshot_interval_records");
    uint64_t state_mib = config->Number("state_memory_max_mib");
    if (state_mib == 0) {
        const auto pages = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES));
        const auto page_bytes = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
        state_mib = pages * page_bytes / 4 * 3 >> 20;
    }
    options.state_bytes_max = state_mib << 20;
    options.preallocate_segments = config->Get("journal_preallocate") == "true";
    if (config->Get("recovery_mode") == "truncate-at-corruption") {
        options.recovery_mode = journal::RecoveryMode::kTruncateAtCorruption;
    }
    auto opened = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
    if (!opened) {
        LogLine("cannot start: " + opened.error().ToString());
        return 1;
    }
    engine::Engine& engine = **opened;
    engine.Start();
    projection::Projector projector(PosixFileSystem(), engine, dir, LogLine);
    if (Status status = projector.Start(); !status.ok()) {
        LogLine("cannot start the read model: " + status.ToString());
        return 1;
    }

    bool created = false;
    auto admin_token = api::LoadOrCreateAdminToken(dir, &created);
    if (!admin_token) {
        LogLine(admin_token.error().ToString());
        return 1;
    }
    const uint32_t currency = ledger::FindCurrencyByCode(config->Get("default_currency"))->id;
    std::optional<Demo> demo;
    std::unique_ptr<TrafficSimulator> simulator;
    if (flags->Switch("demo")) {
        demo = CreateDemoData(engine, currency);
        // BURSAR_TEST_NO_SIMULATOR: tests that need the figures to hold still.
        if (!flags->Switch("no-simulator") && std::getenv("BURSAR_TEST_NO_SIMULATOR") == nullptr) {
            simulator = std::make_unique<TrafficSimulator>(engine, currency, demo->user_ids);
            simulator->Start();
        }
    }

    analytics::LiveMetrics live_metrics(*config::ParseUtcOffset(config->Get("utc_offset")),
                                        currency);
    analytics::MetricsService metrics_service(PosixFileSystem(), engine, JoinPath(dir, "journal"),
                                              live_metrics);
    metrics_service.Start();
    std::unique_ptr<events::JetStreamPublisher> jetstream;
    if (!config->Get("nats_url").empty()) {
        events::JetStreamOptions js_options;
        js_options.url = config->Get("nats_url");
        jetstream = std::make_unique<events::JetStreamPublisher>(PosixFileSystem(), engine, dir,
                                                                 js_options, LogLine);
        if (Status status = jetstream->Start(); !status.ok()) {
            LogLine("cannot start the JetStream publisher: " + status.ToString());
            return 1;
        }
        LogLine("publishing events to " + js_options.url + " on " + events::kSubject);
    }
    api::WorkerPool workers(config->Number("worker_threads"));
    api::PlatformApiOptions api_options;
    api_options.admin_token = *admin_token;
    api_options.default_currency = currency;
    api_options.session_ttl_ns = config->Number("session_ttl_seconds") * 1'000'000'000ull;
    api_options.data_dir = dir;
    api::PlatformApi platform_api(engine, SystemClock::Instance(), workers, projector, api_options);
    api::RequestMetrics metrics;
    const std::string web_dir = config->Get("web_dir").empty()
                                    ? std::string(BURSAR_SOURCE_DIR) + "/web/dist"
                                    : config->Get("web_dir");
    api::OpsApi ops_api(engine, projector, metrics, web_dir);
    api::Router router;
    api::MetricsApi metrics_api(SystemClock::Instance(), platform_api, workers, live_metrics,
                                metrics_service, currency);
    platform_api.AddRoutes(router);
    metrics_api.AddRoutes(router);
    ops_api.AddRoutes(router);

    const std::string listen = config->Get("listen");
    api::HttpServerOptions http_options;
    http_options.address = listen.substr(0, listen.rfind(':'));
    http_options.port = static_cast<uint16_t>(std::stoul(listen.substr(listen.rfind(':') + 1)));
    http_options.io_threads = static_cast<uint32_t>(config->Number("io_threads"));
    http_options.body_bytes_max = config->Number("body_bytes_max");
    http_options.request_timeout_ms = static_cast<uint32_t>(config->Number("request_timeout_ms"));
    http_options.connections_max = static_cast<uint32_t>(config->Number("connections_max"));
    http_options.websocket_send_queue_messages_max =
        static_cast<uint32_t>(config->Number("stream_queue_messages_max"));
    http_options.log = LogLine;
    api::HttpServer server(http_options,
                           api::Instrumented(router.AsHandler(), metrics, SystemClock::Instance()));
    api::StreamApi stream_api(engine, platform_api, PosixFileSystem(), dir);
    stream_api.Attach(server);
    if (Status status = server.Start(); !status.ok()) {
        LogLine("cannot listen on " + listen + ": " + status.ToString());
        return 1;
    }
    ops_api.SetServer(&server);
    ops_api.SetJetStream(jetstream.get());
    ops_api.SetStream(&stream_api);
    const std::string url = "http://" + http_options.address + ":" + std::to_string(server.port());
    LogLine("engine ready at journal sequence " + std::to_string(engine.committed_seq()) +
            ", data in " + std::filesystem::absolute(dir).lexically_normal().string());
    std::printf("Bursar is running at %s (dashboard: %s/)\n", url.c_str(), url.c_str());
    if (created) {
        std::printf("Admin token (printed once; kept in %s/admin-token): %s\n", dir.c_str(),
                    admin_token->c_str());
    } else {
        std::printf("Admin token: in %s/admin-token\n", dir.c_str());
    }
    const std::string token = created ? *admin_token : "$(cat " + dir + "/admin-token)";
    // Double quotes: the shell expands the $(cat ...) of a restart's banner inside them.
    std::printf(
        "Try:\n  curl -s %s/healthz\n  curl -s -H \"Authorization: Bearer %s\" "
        "%s/v1/wallets/usr_1\n",
        url.c_str(), token.c_str(), url.c_str());
    if (demo) {
        std::printf(
            "Demo login: %s / %s%s%s\n", demo->user_email.c_str(), demo->password.c_str(),
            demo->merchant_key.empty() ? "" : "; merchant API key: ", demo->merchant_key.c_str());
    }
    std::fflush(stdout);

    const int signal = WaitForStopSignal();
    LogLine(std::string("stopping on ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
            ": finishing in-flight requests and flushing the journal");
    if (simulator) simulator->Stop();
    server.Stop();  // closes the WebSocket connections (1001) before their hub goes
    stream_api.Stop();
    workers.Stop();
    if (jetstream) jetstream->Stop();
    metrics_service.Stop();
    projector.Stop();
    engine.Stop();
    LogLine("stopped at journal sequence " + std::to_string(engine.committed_seq()));
    return engine.failed() ? 1 : 0;
}

}  // namespace bursar::app
