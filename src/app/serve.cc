// `bursar serve`: the platform. Recovers the data directory, starts the engine, the read model's
// projector and the HTTP API, prints where it listens, and on SIGINT/SIGTERM stops gracefully:
// no new connections, in-flight requests finished, journal flushed, exit 0.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

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
#include "app/demo.h"
#include "app/flags.h"
#include "base/clock.h"
#include "config/config.h"
#include "events/jetstream_publisher.h"
#include "ledger/currency.h"
#include "projection/projector.h"

extern char** environ;

namespace bursar::app {

int ServeCommand(const Args& args) {
    const std::vector<FlagSpec> specs = {
        {"config", "", "a configuration file of key = value lines (see below)"},
        {"demo", "false",
         "also create demo users and merchants (on a new data directory: with 30 days of "
         "history), and simulate modest traffic",
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
    const uint32_t currency = ledger::FindCurrencyByCode(config->Get("default_currency"))->id;
    const int32_t utc_offset_minutes = *config::ParseUtcOffset(config->Get("utc_offset"));
    std::optional<Demo> demo;
    if (flags->Switch("demo") && JournalIsEmpty(PosixFileSystem(), dir)) {
        // A new demo gets thirty days of history first, from an engine of its own on a clock
        // set back: the engine below then starts on that journal, as on any other.
        auto seeded = SeedDemoHistory(options, currency, utc_offset_minutes,
                                      SystemClock::Instance().RealtimeNs());
        if (!seeded) {
            LogLine("cannot seed the demo's history: " + seeded.error().ToString());
            return 1;
        }
        demo = std::move(*seeded);
    }
    auto opened = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
    if (!opened) {
        LogLine("cannot start: " + opened.error().ToString());
        return 1;
    }
    engine::Engine& engine = **opened;
    engine.Start();
    // The risk settings (the days' offset, the users' default limits) are state: journaled when
    // the configuration differs from the state's (docs/api.md, "Limits").
    {
        payments::Command configure;
        configure.type = payments::CommandType::kConfigureRisk;
        configure.principal.kind = payments::PrincipalKind::kAdmin;
        configure.utc_offset_minutes = utc_offset_minutes;
        configure.limit_single = config->Number("user_single_limit_major");
        configure.limit_daily = config->Number("user_daily_limit_major");
        risk::Settings wanted;
        wanted.utc_offset_minutes = configure.utc_offset_minutes;
        wanted.user_defaults = {configure.limit_single, configure.limit_daily};
        bool in_force = false;
        engine::Request query;
        query.operation = engine::Operation::kQuery;
        query.query = [&](const payments::Platform& platform) {
            in_force = platform.limits().configured() && platform.limits().settings() == wanted;
        };
        const bool read = engine::SubmitAndWait(engine, query).ok() && query.status.ok();
        auto configured = read && in_force ? Result<payments::Outcome>(payments::Outcome{})
                                           : engine::RunCommand(engine, configure);
        // Refused (the state at its memory bound, writes stopped): the settings in force stay.
        if (!configured) {
            LogLine("cannot configure the risk settings now: " + configured.error().ToString());
        } else if (configured->ok() && !in_force) {
            LogLine("risk settings configured (limits in force)");
        }
    }
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
    std::unique_ptr<TrafficSimulator> simulator;
    if (flags->Switch("demo")) {
        if (!demo) {
            demo = CreateDemoData(engine, currency);
        } else {
            OpenDemoDay(engine, currency, *demo);  // the seeded history ends a minute ago
        }
        // BURSAR_TEST_NO_SIMULATOR: tests that need the figures to hold still.
        if (!flags->Switch("no-simulator") && std::getenv("BURSAR_TEST_NO_SIMULATOR") == nullptr) {
            simulator = std::make_unique<TrafficSimulator>(engine, currency, *demo);
            simulator->Start();
        }
    }

    analytics::LiveMetrics live_metrics(utc_offset_minutes, currency);
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
    api_options.preauth_expiry_seconds = config->Number("preauth_expiry_seconds");
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
