#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "api/auth.h"
#include "api/endpoint_helpers.h"
#include "api/json_input.h"
#include "api/metrics_api.h"
#include "api/ops_api.h"
#include "api/platform_api.h"
#include "base/sim_file_system.h"

namespace bursar::api {
namespace {

TEST(JsonFields, AmountBoundIsThePlatforms) {
    EXPECT_EQ(static_cast<u128>(kAmountMinorMax), payments::kAmountMinorMax);
}

TEST(JsonFields, AcceptsDeclaredFields) {
    auto fields = JsonFields::Parse(
        R"({"name":"A \"B\"","amount_minor":42})",
        {{"name", FieldKind::kString, true, 1, 10}, {"amount_minor", FieldKind::kAmount, true}});
    ASSERT_TRUE(fields);
    EXPECT_EQ(fields->String("name"), "A \"B\"");
    EXPECT_EQ(fields->Amount("amount_minor"), 42u);
}

TEST(JsonFields, RejectsWithTheField) {
    const std::initializer_list<FieldSpec> specs = {{"name", FieldKind::kString, true, 1, 5},
                                                    {"amount_minor", FieldKind::kAmount, false}};
    struct Case {
        const char* body;
        const char* param;
    };
    for (const Case& c : std::vector<Case>{
             {"{", ""},
             {"[]", ""},
             {R"({"name":"x","extra":1})", "extra"},
             {R"({"name":7})", "name"},
             {R"({"name":"toolong"})", "name"},
             {R"({"name":""})", "name"},
             {R"({})", "name"},
             {R"({"name":"x","amount_minor":-5})", "amount_minor"},
             {R"({"name":"x","amount_minor":0})", "amount_minor"},
             {R"({"name":"x","amount_minor":1.5})", "amount_minor"},
             {R"({"name":"x","amount_minor":"5"})", "amount_minor"},
             {R"({"name":"x","amount_minor":1000000000000000001})", "amount_minor"},
             {R"({"name":"x","amount_minor":99999999999999999999999})", "amount_minor"},
             {R"({"name":"x","name":"y"})", "name"}}) {
        auto fields = JsonFields::Parse(c.body, specs);
        ASSERT_FALSE(fields) << c.body;
        EXPECT_EQ(fields.error().code, payments::ErrorCode::kInvalidRequest);
        EXPECT_EQ(fields.error().param, c.param) << c.body;
    }
}

TEST(Auth, PasswordHashVerifies) {
    const std::string hash = HashPassword("correct horse");
    EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
    EXPECT_TRUE(VerifyPassword(hash, "correct horse"));
    EXPECT_FALSE(VerifyPassword(hash, "correct horsf"));
    EXPECT_NE(HashPassword("correct horse"), hash);  // salted
}

TEST(Auth, SecretsAreRandomAndPrefixed) {
    const std::string a = RandomSecret("sk_"), b = RandomSecret("sk_");
    EXPECT_EQ(a.size(), 3u + 64u);
    EXPECT_EQ(a.rfind("sk_", 0), 0u);
    EXPECT_NE(a, b);
}

// Every route of the router is described in the OpenAPI document, with its method.
TEST(OpenApi, DescribesEveryRoute) {
    SimFileSystem fs(1);
    ManualClock clock(1);
    engine::EngineOptions options;
    options.data_dir = "data";
    auto engine = engine::Engine::Open(fs, clock, options);
    ASSERT_TRUE(engine);
    projection::Projector projector(fs, **engine, "data", nullptr);
    WorkerPool workers(1);
    PlatformApi platform(**engine, clock, workers, projector, {});
    RequestMetrics metrics;
    OpsApi ops(**engine, projector, metrics);
    analytics::LiveMetrics live(0, 392);
    analytics::MetricsService service(fs, **engine, "data/journal", live);
    MetricsApi metrics_api(clock, platform, workers, live, service, 392);
    Router router;
    platform.AddRoutes(router);
    metrics_api.AddRoutes(router);
    ops.AddRoutes(router);

    simdjson::dom::parser parser;
    simdjson::padded_string document(OpenApiDocument());
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(document).get(root), simdjson::SUCCESS);
    simdjson::dom::object paths;
    ASSERT_EQ(root["paths"].get_object().get(paths), simdjson::SUCCESS);
    ASSERT_GT(router.Routes().size(), 10u);
    for (const RouteInfo& route : router.Routes()) {
        simdjson::dom::object item;
        ASSERT_EQ(paths[route.pattern].get_object().get(item), simdjson::SUCCESS) << route.pattern;
        std::string method = route.method;
        std::transform(method.begin(), method.end(), method.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        simdjson::dom::object operation;
        EXPECT_EQ(item[method].get_object().get(operation), simdjson::SUCCESS)
            << route.method << " " << route.pattern;
    }
    // Every request body the document describes has exactly the fields the decoder accepts, and
    // each documented required field is required by the decoder.
    for (const RequestBody& body : kRequestBodies) {
        std::string method(body.method);
        std::transform(method.begin(), method.end(), method.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        simdjson::dom::object schema;
        ASSERT_EQ(
            paths[body.pattern][method]["requestBody"]["content"]["application/json"]["schema"]
                .get_object()
                .get(schema),
            simdjson::SUCCESS)
            << body.method << " " << body.pattern;
        std::string_view ref;
        if (schema["$ref"].get_string().get(ref) == simdjson::SUCCESS) {
            ref.remove_prefix(std::string_view("#/components/schemas/").size());
            ASSERT_EQ(root["components"]["schemas"][ref].get_object().get(schema),
                      simdjson::SUCCESS);
        }
        std::set<std::string> documented, required, decoded, decoded_required;
        simdjson::dom::object properties;
        ASSERT_EQ(schema["properties"].get_object().get(properties), simdjson::SUCCESS);
        for (auto [name, value] : properties) documented.emplace(name);
        simdjson::dom::array required_names;
        if (schema["required"].get_array().get(required_names) == simdjson::SUCCESS) {
            for (auto name : required_names) required.emplace(std::string_view(name));
        }
        for (const FieldSpec& field : body.fields) {
            decoded.emplace(field.name);
            if (field.required) decoded_required.emplace(field.name);
        }
        EXPECT_EQ(documented, decoded) << body.method << " " << body.pattern;
        EXPECT_EQ(required, decoded_required) << body.method << " " << body.pattern;
    }
    // And the other way: every operation of the document is a route (the WebSocket stream is
    // the server's upgrade handler, not the router's).
    for (auto [path, item] : paths) {
        if (path == "/v1/stream") continue;
        for (auto [method, operation] : item.get_object()) {
            if (method == "parameters") continue;
            std::string upper(method);
            std::transform(upper.begin(), upper.end(), upper.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            const auto routes = router.Routes();
            EXPECT_TRUE(std::any_of(
                routes.begin(), routes.end(),
                [&](const RouteInfo& r) { return r.method == upper && r.pattern == path; }))
                << upper << " " << path << " is documented but not a route";
        }
    }
    workers.Stop();
}

// While the metrics reader lags, a metrics request waits for it (up to kWaitMsMax) on a worker:
// the thread that hands out the engine's answers is not held, so writes are answered at once.
TEST(MetricsApi, AWaitingMetricsRequestDoesNotHoldUpWrites) {
    SimFileSystem fs(3);
    ManualClock clock(1'700'000'000ull * 1'000'000'000ull);
    engine::EngineOptions options;
    options.data_dir = "data";
    auto engine = engine::Engine::Open(fs, clock, options);
    ASSERT_TRUE(engine);
    (*engine)->Start();
    payments::Command reg;
    reg.type = payments::CommandType::kRegisterUser;
    reg.email = "a@example.com";
    ASSERT_TRUE(engine::RunCommand(**engine, reg)->ok());

    projection::Projector projector(fs, **engine, "data", nullptr);
    WorkerPool workers(2);
    PlatformApiOptions api_options;
    api_options.admin_token = "adm_test";
    PlatformApi platform(**engine, clock, workers, projector, api_options);
    analytics::LiveMetrics live(0, 392);
    // Never started: the metrics reader is held back for the whole test.
    analytics::MetricsService service(fs, **engine, "data/journal", live);
    MetricsApi metrics_api(clock, platform, workers, live, service, 392);
    Router router;
    platform.AddRoutes(router);
    metrics_api.AddRoutes(router);
    const Handler handler = router.AsHandler();
    auto request = [](std::string method, std::string path, std::string body) {
        HttpRequest r;
        r.method = std::move(method);
        r.target = r.path = std::move(path);
        r.body = std::move(body);
        r.headers.emplace_back("authorization", "Bearer adm_test");
        return r;
    };

    std::promise<HttpResponse> metrics_answer;
    handler(request("GET", "/v1/metrics/today", ""),
            [&](HttpResponse r) { metrics_answer.set_value(std::move(r)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // it waits for the reader now
    const auto start = std::chrono::steady_clock::now();
    std::promise<HttpResponse> topup_answer;
    handler(request("POST", "/v1/wallets/usr_1/topup", R"({"amount_minor":100})"),
            [&](HttpResponse r) { topup_answer.set_value(std::move(r)); });
    HttpResponse topup = topup_answer.get_future().get();
    const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count();
    EXPECT_EQ(topup.status, 200) << topup.body;
    EXPECT_LT(elapsed_ms, MetricsApi::kWaitMsMax / 2);
    HttpResponse metrics = metrics_answer.get_future().get();
    EXPECT_EQ(metrics.status, 503) << metrics.body;  // the reader never caught up
    workers.Stop();
    (*engine)->Stop();
}

}  // namespace
}  // namespace bursar::api
