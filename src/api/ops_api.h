#pragma once

// Operations endpoints (SPEC.md O2, O7): /healthz (the process answers), /readyz (the engine can
// take writes: not fail-stopped), /metrics (Prometheus text format), /v1/openapi.json. Also the
// request-latency histogram that wraps every request.

#include <array>
#include <atomic>
#include <cstdint>

#include "api/http.h"
#include "api/http_server.h"
#include "api/router.h"
#include "api/stream_api.h"
#include "base/clock.h"
#include "engine/engine.h"
#include "events/jetstream_publisher.h"
#include "projection/projector.h"

namespace bursar::api {

// Cumulative latency buckets in seconds, Prometheus style (`le`).
inline constexpr std::array<double, 12> kLatencyBucketsSeconds = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0};

class RequestMetrics {
  public:
    void Observe(uint64_t latency_ns);
    void Write(std::string* out) const;

  private:
    std::array<std::atomic<uint64_t>, kLatencyBucketsSeconds.size()> buckets_{};
    std::atomic<uint64_t> count_{0};
    std::atomic<uint64_t> sum_ns_{0};
};

// A handler that times `inner` from arrival to the response.
Handler Instrumented(Handler inner, RequestMetrics& metrics, Clock& clock);

class OpsApi {
  public:
    // `web_dir` holds the dashboard's built files (web/dist): served at / and /assets/.
    OpsApi(const engine::Engine& engine, const projection::Projector& projector,
           const RequestMetrics& metrics, std::string web_dir = {});
    void SetServer(const HttpServer* server) { server_ = server; }
    void SetJetStream(const events::JetStreamPublisher* jetstream) { jetstream_ = jetstream; }
    void SetStream(const StreamApi* stream) { stream_ = stream; }
    void AddRoutes(Router& router);
    std::string Metrics() const;
    // A file of the dashboard, or 404; names are checked (no '/', no leading '.').
    HttpResponse StaticFile(const std::string& relative_path) const;

  private:
    const engine::Engine& engine_;
    const projection::Projector& projector_;
    const RequestMetrics& metrics_;
    std::string web_dir_;
    const HttpServer* server_ = nullptr;
    const events::JetStreamPublisher* jetstream_ = nullptr;
    const StreamApi* stream_ = nullptr;
};

// The OpenAPI 3 document of the whole API (src/api/openapi.json, built in).
std::string_view OpenApiDocument();

}  // namespace bursar::api
