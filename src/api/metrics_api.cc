#include "api/metrics_api.h"

#include <ctime>
#include <memory>
#include <vector>

#include "base/json_writer.h"
#include "ledger/currency.h"

namespace bursar::api {

using payments::ErrorCode;

MetricsApi::MetricsApi(Clock& clock, const PlatformApi& platform_api, WorkerPool& workers,
                       const analytics::LiveMetrics& metrics,
                       const analytics::MetricsService& service, uint32_t currency)
    : clock_(clock),
      platform_api_(platform_api),
      workers_(workers),
      metrics_(metrics),
      service_(service),
      currency_(currency) {}

std::string MetricsApi::Date(int64_t day) {
    const time_t seconds = static_cast<time_t>(day * 86400);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[16];
    std::strftime(text, sizeof(text), "%Y-%m-%d", &utc);
    return text;
}

void MetricsApi::Answer(const HttpRequest& request,
                        std::function<std::string(std::optional<uint64_t>)> figures,
                        Responder responder, bool admin_only) {
    AnswerLater(
        request,
        [figures = std::move(figures)](std::optional<uint64_t> merchant, Responder reply) {
            HttpResponse response;
            response.body = figures(merchant);
            reply(std::move(response));
        },
        std::move(responder), admin_only);
}

void MetricsApi::AnswerLater(const HttpRequest& request, AnswerFn answer, Responder responder,
                             bool admin_only) {
    platform_api_.Authenticate(
        platform_api_.PrincipalOf(request),
        [this, answer, responder, admin_only](
            const Status& status, std::optional<payments::Caller> caller, uint64_t seq) {
            if (!status.ok()) return responder(EngineRefusal(status));
            using Kind = payments::Caller::Kind;
            if (!caller || caller->kind == Kind::kAnonymous) {
                return responder(FromError(ErrorCode::kUnauthenticated));
            }
            if (caller->kind == Kind::kUser || (admin_only && caller->kind != Kind::kAdmin)) {
                return responder(FromError(ErrorCode::kForbidden));
            }
            std::optional<uint64_t> merchant;
            if (caller->kind == Kind::kMerchant) merchant = caller->id;
            // This callback runs where the engine completes requests: the wait goes elsewhere.
            bool posted = workers_.Post([this, answer, responder, seq, merchant] {
                if (!service_.WaitFor(seq, kWaitMsMax)) {
                    return responder(FromError(ErrorCode::kUnavailable, "The metrics are behind."));
                }
                answer(merchant, responder);
            });
            if (!posted) responder(EngineRefusal(Status(StatusCode::kBusy, "workers")));
        });
}

void MetricsApi::Today(std::optional<uint64_t> merchant, Responder responder) {
    auto today = std::make_shared<analytics::DayFigures>(
        metrics_.Day(metrics_.DayOf(clock_.RealtimeNs()), merchant));
    std::vector<uint64_t> merchant_ids;
    for (const auto& m : today->top_merchants) merchant_ids.push_back(m.merchant_id);
    platform_api_.LookUpNames(
        {}, std::move(merchant_ids),
        [this, today, responder](const Status& status, PlatformApi::Names names) {
            if (!status.ok()) return responder(EngineRefusal(status));
            JsonWriter json;
            json.BeginObject();
            json.Key("date").String(Date(today->day));
            json.Key("currency").String(ledger::FindCurrency(currency_)->code);
            json.Key("dau").Number(today->dau);
            json.Key("total_amount_minor").Number(today->amount_minor);
            json.Key("txn_count").Number(today->txn_count);
            json.Key("top_merchants").BeginArray();
            for (const auto& m : today->top_merchants) {
                json.BeginObject();
                json.Key("merchant_id").String(payments::FormatMerchantId(m.merchant_id));
                json.Key("name");
                if (auto found = names.merchants.find(m.merchant_id);
                    found != names.merchants.end()) {
                    json.String(found->second);
                } else {
                    json.Null();
                }
                json.Key("amount_minor").Number(m.amount_minor);
                json.EndObject();
            }
            json.EndArray().EndObject();
            HttpResponse response;
            response.body = json.Take();
            responder(std::move(response));
        });
}

void MetricsApi::AddRoutes(Router& router) {
    router.Add("GET", "/v1/metrics/today",
               [this](HttpRequest&& request, const PathParams&, Responder responder) {
                   AnswerLater(
                       request,
                       [this](std::optional<uint64_t> merchant, Responder reply) {
                           Today(merchant, std::move(reply));
                       },
                       std::move(responder));
               });
    router.Add("GET", "/v1/metrics/daily",
               [this](HttpRequest&& request, const PathParams&, Responder responder) {
                   const std::string days_text = request.QueryParam("days").value_or("7");
                   if (days_text != "7" && days_text != "30") {
                       return responder(
                           FromError(ErrorCode::kInvalidRequest, "days must be 7 or 30.", "days"));
                   }
                   const int64_t days = days_text == "7" ? 7 : 30;
                   Answer(
                       request,
                       [this, days](std::optional<uint64_t> merchant) {
                           const int64_t today = metrics_.DayOf(clock_.RealtimeNs());
                           JsonWriter json;
                           json.BeginObject();
                           json.Key("currency").String(ledger::FindCurrency(currency_)->code);
                           json.Key("days").BeginArray();
                           for (int64_t day = today - days + 1; day <= today; ++day) {
                               const analytics::DayFigures figures = metrics_.Day(day, merchant);
                               json.BeginObject();
                               json.Key("date").String(Date(day));
                               json.Key("amount_minor").Number(figures.amount_minor);
                               json.Key("txn_count").Number(figures.txn_count);
                               json.Key("dau").Number(figures.dau);
                               json.EndObject();
                           }
                           json.EndArray().EndObject();
                           return json.Take();
                       },
                       std::move(responder));
               });
    router.Add("GET", "/v1/metrics/retention",
               [this](HttpRequest&& request, const PathParams&, Responder responder) {
                   auto weeks = U128FromString(request.QueryParam("weeks").value_or("8"));
                   if (!weeks || *weeks < 1 || *weeks > kRetentionWeeksMax) {
                       return responder(FromError(ErrorCode::kInvalidRequest,
                                                  "weeks must be from 1 to 12.", "weeks"));
                   }
                   Answer(
                       request,
                       [this, weeks = static_cast<uint32_t>(*weeks)](std::optional<uint64_t>) {
                           JsonWriter json;
                           json.BeginObject().Key("cohorts").BeginArray();
                           for (const analytics::CohortRow& row :
                                metrics_.Retention(metrics_.DayOf(clock_.RealtimeNs()), weeks)) {
                               json.BeginObject();
                               json.Key("week_start").String(Date(row.week));
                               json.Key("users").Number(row.users);
                               json.Key("active").BeginArray();
                               for (uint64_t active : row.active) json.Number(active);
                               json.EndArray().EndObject();
                           }
                           json.EndArray().EndObject();
                           return json.Take();
                       },
                       std::move(responder), /*admin_only=*/true);
               });
}

}  // namespace bursar::api
