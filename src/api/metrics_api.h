#pragma once

// Live metrics endpoints (SPEC.md E2): GET /v1/metrics/today, GET /v1/metrics/daily?days=7|30
// and GET /v1/metrics/retention?weeks=1..12. The admin gets the platform's figures, a merchant its
// own (retention is the platform's only); users are refused. Figures include
// everything committed when the request arrived (the metrics service is waited for).

#include "analytics/live_metrics.h"
#include "api/platform_api.h"

namespace bursar::api {

class MetricsApi {
  public:
    // The wait for the metrics reader runs on `workers`: never on the thread that completes the
    // engine's requests, which hands out every write's answer.
    MetricsApi(Clock& clock, const PlatformApi& platform_api, WorkerPool& workers,
               const analytics::LiveMetrics& metrics, const analytics::MetricsService& service,
               uint32_t currency);
    void AddRoutes(Router& router);

    static constexpr uint64_t kWaitMsMax = 2000;
    static constexpr uint32_t kRetentionWeeksMax = 12;

  private:
    // Authorizes on the engine thread, then answers `figures(merchant or none)`.
    void Answer(const HttpRequest& request,
                std::function<std::string(std::optional<uint64_t> merchant)> figures,
                Responder responder, bool admin_only = false);
    // The same, for figures that need more than the metrics (names from the engine): `answer`
    // replies through the responder it is given.
    using AnswerFn = std::function<void(std::optional<uint64_t> merchant, Responder responder)>;
    void AnswerLater(const HttpRequest& request, AnswerFn answer, Responder responder,
                     bool admin_only = false);
    // GET /v1/metrics/today: the day's figures, the top merchants with their names.
    void Today(std::optional<uint64_t> merchant, Responder responder);
    static std::string Date(int64_t day);

    Clock& clock_;
    const PlatformApi& platform_api_;
    WorkerPool& workers_;
    const analytics::LiveMetrics& metrics_;
    const analytics::MetricsService& service_;
    uint32_t currency_;
};

}  // namespace bursar::api
