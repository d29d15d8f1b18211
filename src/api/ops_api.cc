#include "api/ops_api.h"

#include <cstdio>
#include <memory>

#include "base/file_system.h"

namespace bursar::api {
namespace {

void Metric(std::string* out, const char* name, const char* type, const char* help, double value) {
    char line[256];
    std::snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
                  type, name, value);
    *out += line;
}

}  // namespace

void RequestMetrics::Observe(uint64_t latency_ns) {
    const double seconds = static_cast<double>(latency_ns) / 1e9;
    for (size_t i = 0; i < kLatencyBucketsSeconds.size(); ++i) {
        if (seconds <= kLatencyBucketsSeconds[i])
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(latency_ns, std::memory_order_relaxed);
}

void RequestMetrics::Write(std::string* out) const {
    *out +=
        "# HELP bursar_http_request_duration_seconds Time from a request's arrival to its "
        "response.\n";
    *out += "# TYPE bursar_http_request_duration_seconds histogram\n";
    char line[160];
    for (size_t i = 0; i < kLatencyBucketsSeconds.size(); ++i) {
        std::snprintf(line, sizeof(line),
                      "bursar_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      kLatencyBucketsSeconds[i],
                      static_cast<unsigned long long>(buckets_[i].load(std::memory_order_relaxed)));
        *out += line;
    }
    const unsigned long long count = count_.load(std::memory_order_relaxed);
    std::snprintf(line, sizeof(line),
                  "bursar_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", count);
    *out += line;
    std::snprintf(line, sizeof(line), "bursar_http_request_duration_seconds_sum %.9f\n",
                  static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
    *out += line;
    std::snprintf(line, sizeof(line), "bursar_http_request_duration_seconds_count %llu\n", count);
    *out += line;
}

Handler Instrumented(Handler inner, RequestMetrics& metrics, Clock& clock) {
    return [inner = std::move(inner), &metrics, &clock](HttpRequest&& request,
                                                        Responder responder) {
        const uint64_t start = clock.MonotonicNs();
        inner(std::move(request),
              [responder = std::move(responder), &metrics, &clock, start](HttpResponse response) {
                  metrics.Observe(clock.MonotonicNs() - start);
                  responder(std::move(response));
              });
    };
}

OpsApi::OpsApi(const engine::Engine& engine, const projection::Projector& projector,
               const RequestMetrics& metrics, std::string web_dir)
    : engine_(engine), projector_(projector), metrics_(metrics), web_dir_(std::move(web_dir)) {}

namespace {

constexpr size_t kStaticFileBytesMax = 16u << 20;

std::string ContentType(const std::string& name) {
    const size_t dot = name.rfind('.');
    const std::string extension = dot == std::string::npos ? "" : name.substr(dot + 1);
    if (extension == "html") return "text/html; charset=utf-8";
    if (extension == "js" || extension == "mjs") return "text/javascript; charset=utf-8";
    if (extension == "css") return "text/css; charset=utf-8";
    if (extension == "svg") return "image/svg+xml";
    if (extension == "png") return "image/png";
    if (extension == "ico") return "image/x-icon";
    if (extension == "json" || extension == "map") return "application/json";
    if (extension == "woff2") return "font/woff2";
    return "application/octet-stream";
}

}  // namespace

HttpResponse OpsApi::StaticFile(const std::string& relative_path) const {
    auto not_found = [] { return ErrorResponse(kNotFound, "No such file."); };
    const size_t slash = relative_path.rfind('/');
    const std::string name =
        slash == std::string::npos ? relative_path : relative_path.substr(slash + 1);
    if (web_dir_.empty() || name.empty() || name[0] == '.' ||
        relative_path.find("..") != std::string::npos) {
        return not_found();
    }
    auto data = PosixFileSystem().ReadFile(JoinPath(web_dir_, relative_path));
    if (!data || data->size() > kStaticFileBytesMax) return not_found();
    HttpResponse response;
    response.content_type = ContentType(name);
    response.body = std::move(*data);
    // Vite puts a content hash in asset names: they never change. index.html may.
    response.headers.emplace_back("Cache-Control", relative_path.rfind("assets/", 0) == 0
                                                       ? "public, max-age=31536000, immutable"
                                                       : "no-cache");
    return response;
}

std::string OpsApi::Metrics() const {
    const engine::EngineStats stats = engine_.stats();
    std::string out;
    Metric(&out, "bursar_engine_committed_seq", "gauge",
           "Journal position of the last durable batch.", static_cast<double>(stats.committed_seq));
    Metric(&out, "bursar_engine_batches_total", "counter", "Batches written to the journal.",
           static_cast<double>(stats.batches));
    Metric(&out, "bursar_engine_events_total", "counter",
           "Events applied (transfers, commands, queries).", static_cast<double>(stats.events));
    Metric(
        &out, "bursar_engine_batch_events_mean", "gauge", "Mean events per journaled batch.",
        stats.batches ? static_cast<double>(stats.events) / static_cast<double>(stats.batches) : 0);
    Metric(&out, "bursar_engine_queue_depth", "gauge", "Requests waiting for the engine.",
           static_cast<double>(stats.queue_depth));
    Metric(&out, "bursar_engine_fsync_seconds_total", "counter", "Time spent in journal fsyncs.",
           static_cast<double>(stats.fsync_ns_total) / 1e9);
    Metric(&out, "bursar_engine_fsyncs_total", "counter", "Journal fsyncs.",
           static_cast<double>(stats.fsyncs));
    Metric(&out, "bursar_engine_fsync_seconds_max", "gauge", "Longest journal fsync.",
           static_cast<double>(stats.fsync_ns_max) / 1e9);
    Metric(&out, "bursar_engine_snapshots_total", "counter", "Snapshots started.",
           static_cast<double>(stats.snapshots));
    Metric(&out, "bursar_engine_state_bytes", "gauge",
           "Memory the state holds (ledger tables, domain maps estimated).",
           static_cast<double>(stats.state_bytes));
    Metric(&out, "bursar_engine_writes_refused_total", "counter",
           "Writes refused because the state was at state_memory_max_mib.",
           static_cast<double>(stats.writes_refused));
    Metric(&out, "bursar_engine_snapshot_drain_seconds_max", "gauge",
           "Longest wait of a snapshot for the batches in flight.",
           static_cast<double>(stats.snapshot_drain_ns_max) / 1e9);
    Metric(&out, "bursar_engine_snapshot_freeze_seconds_max", "gauge",
           "Longest copy of the state for a snapshot (the engine applies nothing meanwhile).",
           static_cast<double>(stats.snapshot_freeze_ns_max) / 1e9);
    Metric(&out, "bursar_journal_bytes", "gauge", "Bytes written to the journal by this process.",
           static_cast<double>(stats.journal_bytes));
    Metric(&out, "bursar_engine_failed", "gauge", "1 after a failed journal write (fail-stop).",
           engine_.failed() ? 1 : 0);
    Metric(&out, "bursar_projection_seq", "gauge", "Journal position of the read model.",
           static_cast<double>(projector_.position()));
    if (server_ != nullptr) {
        const HttpServerStats http = server_->stats();
        Metric(&out, "bursar_http_requests_total", "counter", "HTTP requests received.",
               static_cast<double>(http.requests));
        Metric(&out, "bursar_http_responses_4xx_total", "counter",
               "HTTP responses with 4xx status.", static_cast<double>(http.responses_4xx));
        Metric(&out, "bursar_http_responses_5xx_total", "counter",
               "HTTP responses with 5xx status.", static_cast<double>(http.responses_5xx));
        Metric(&out, "bursar_http_connections_open", "gauge", "Open HTTP connections.",
               static_cast<double>(http.connections_open));
    }
    if (stream_ != nullptr) {
        const WebSocketHubStats ws = stream_->stats();
        Metric(&out, "bursar_stream_connections", "gauge", "WebSocket clients of /v1/stream now.",
               static_cast<double>(ws.connections));
        Metric(&out, "bursar_stream_messages_total", "counter", "Events sent to WebSocket clients.",
               static_cast<double>(ws.messages_sent));
        Metric(&out, "bursar_stream_slow_clients_closed_total", "counter",
               "WebSocket clients closed for not keeping up (1008).",
               static_cast<double>(ws.slow_clients_closed));
    }
    if (jetstream_ != nullptr) {
        const events::JetStreamStats js = jetstream_->stats();
        Metric(&out, "bursar_jetstream_seq", "gauge",
               "Journal position whose events JetStream acknowledged.",
               static_cast<double>(js.position));
        Metric(&out, "bursar_jetstream_published_total", "counter",
               "Events acknowledged by JetStream.", static_cast<double>(js.published));
        Metric(&out, "bursar_jetstream_skipped_total", "counter",
               "Events read again that the stream held already, not sent again.",
               static_cast<double>(js.skipped));
        Metric(&out, "bursar_jetstream_failures_total", "counter", "Batches published again.",
               static_cast<double>(js.failures));
        Metric(&out, "bursar_jetstream_connected", "gauge", "1 while connected to NATS.",
               js.connected ? 1 : 0);
        Metric(&out, "bursar_jetstream_lag_seconds", "gauge",
               "Commit to JetStream acknowledgment, last batch.",
               static_cast<double>(js.lag_ns_last) / 1e9);
        Metric(&out, "bursar_jetstream_lag_seconds_p50", "gauge",
               "Commit to JetStream acknowledgment, median of the last 65536 events.",
               static_cast<double>(js.lag_ns_p50) / 1e9);
        Metric(&out, "bursar_jetstream_lag_seconds_p99", "gauge",
               "Commit to JetStream acknowledgment, 99th percentile of the last 65536 events.",
               static_cast<double>(js.lag_ns_p99) / 1e9);
        Metric(&out, "bursar_jetstream_lag_seconds_max", "gauge",
               "Commit to JetStream acknowledgment, longest.",
               static_cast<double>(js.lag_ns_max) / 1e9);
    }
    metrics_.Write(&out);
    return out;
}

void OpsApi::AddRoutes(Router& router) {
    router.Add("GET", "/healthz", [](HttpRequest&&, const PathParams&, Responder responder) {
        responder(HttpResponse{200, "application/json", {}, "{\"status\":\"ok\"}"});
    });
    router.Add("GET", "/readyz", [this](HttpRequest&&, const PathParams&, Responder responder) {
        if (engine_.failed()) {
            return responder(
                HttpResponse{503,
                             "application/json",
                             {},
                             "{\"status\":\"failed\",\"reason\":\"journal write failed: "
                             "the engine stopped taking writes\"}"});
        }
        responder(HttpResponse{200, "application/json", {}, "{\"status\":\"ready\"}"});
    });
    router.Add("GET", "/metrics", [this](HttpRequest&&, const PathParams&, Responder responder) {
        responder(HttpResponse{200, "text/plain; version=0.0.4", {}, Metrics()});
    });
    router.Add("GET", "/", [this](HttpRequest&&, const PathParams&, Responder responder) {
        responder(StaticFile("index.html"));
    });
    router.Add("GET", "/assets/{file}",
               [this](HttpRequest&&, const PathParams& params, Responder responder) {
                   responder(StaticFile("assets/" + std::string(params.Get("file"))));
               });
    router.Add(
        "GET", "/v1/openapi.json", [](HttpRequest&&, const PathParams&, Responder responder) {
            responder(HttpResponse{200, "application/json", {}, std::string(OpenApiDocument())});
        });
}

}  // namespace bursar::api
