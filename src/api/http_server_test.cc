#include "api/http_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "api/router.h"
#include "api/test_http_client.h"

namespace bursar::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr uint32_t kSlowHandlerDelayMs = 100;
constexpr uint32_t kWaitMsMax = 3'000;

bool WaitUntil(const std::function<bool()>& condition) {
    const auto deadline = steady_clock::now() + milliseconds(kWaitMsMax);
    while (!condition()) {
        if (steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(milliseconds(2));
    }
    return true;
}

std::string JsonObject(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
    std::string json = "{";
    for (const auto& [key, value] : pairs) {
        if (json.size() > 1) json += ",";
        AppendJsonString(json, key);
        json += ":";
        AppendJsonString(json, value);
    }
    return json + "}";
}

int64_t ElapsedMs(steady_clock::time_point start) {
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

class HttpServerTest : public ::testing::Test {
  protected:
    HttpServerTest() {
        router_.Add("GET", "/v1/users/{id}/wallet",
                    [](HttpRequest&& request, const PathParams& params, Responder responder) {
                        responder({.body = JsonObject({{"user", params.Get("id")},
                                                       {"request_id", request.request_id}})});
                    });
        router_.Add("GET", "/v1/users/me/wallet",
                    [](HttpRequest&&, const PathParams&, Responder responder) {
                        responder({.body = JsonObject({{"user", "me"}})});
                    });
        router_.Add("POST", "/v1/echo",
                    [](HttpRequest&& request, const PathParams&, Responder responder) {
                        responder({.content_type = "text/plain", .body = std::move(request.body)});
                    });
        router_.Add("GET", "/v1/query",
                    [](HttpRequest&& request, const PathParams&, Responder responder) {
                        responder({.body = JsonObject(
                                       {{"name", request.QueryParam("name").value_or("<none>")}})});
                    });
        // Answers from another thread, later.
        router_.Add("GET", "/v1/slow",
                    [this](HttpRequest&&, const PathParams&, Responder responder) {
                        if (slow_entered_) slow_entered_->set_value();
                        RunLater(kSlowHandlerDelayMs, [responder] {
                            responder({.body = JsonObject({{"answered_by", "worker"}})});
                        });
                    });
        // Never answers on its own: the test holds the responder.
        router_.Add("GET", "/v1/hang",
                    [this](HttpRequest&&, const PathParams&, Responder responder) {
                        std::lock_guard lock(mutex_);
                        hung_responders_.push_back(std::move(responder));
                    });
        router_.Add("GET", "/v1/throw", [](HttpRequest&&, const PathParams&, Responder) {
            throw std::runtime_error("boom");
        });
        router_.Add("GET", "/v1/drop", [](HttpRequest&&, const PathParams&, Responder) {});
    }

    ~HttpServerTest() override {
        std::vector<std::thread> workers;
        {
            std::lock_guard lock(mutex_);
            workers.swap(workers_);
        }
        for (std::thread& worker : workers) worker.join();
        server_.reset();
    }

    static HttpServerOptions TestOptions() {
        HttpServerOptions options;
        options.port = 0;
        options.io_threads = 2;
        options.request_timeout_ms = 2'000;
        options.idle_timeout_ms = 2'000;
        options.shutdown_timeout_ms = 2'000;
        return options;
    }

    void StartServer(HttpServerOptions options = TestOptions()) {
        server_ = std::make_unique<HttpServer>(std::move(options), router_.AsHandler());
        const Status status = server_->Start();
        ASSERT_TRUE(status.ok()) << status.ToString();
        ASSERT_NE(server_->port(), 0);
    }

    std::unique_ptr<TestHttpClient> Client() {
        return std::make_unique<TestHttpClient>("127.0.0.1", server_->port());
    }

    void RunLater(uint32_t delay_ms, std::function<void()> work) {
        std::lock_guard lock(mutex_);
        workers_.emplace_back([delay_ms, work = std::move(work)] {
            std::this_thread::sleep_for(milliseconds(delay_ms));
            work();
        });
    }

    size_t HungCount() {
        std::lock_guard lock(mutex_);
        return hung_responders_.size();
    }

    void AnswerHung(HttpResponse response) {
        std::vector<Responder> responders;
        {
            std::lock_guard lock(mutex_);
            responders.swap(hung_responders_);
        }
        for (Responder& responder : responders) responder(response);
    }

    Router router_;
    std::unique_ptr<HttpServer> server_;
    std::unique_ptr<std::promise<void>> slow_entered_;
    std::mutex mutex_;
    std::vector<std::thread> workers_;        // guarded
    std::vector<Responder> hung_responders_;  // guarded
};

TEST_F(HttpServerTest, RoutesWithPathParameters) {
    StartServer();
    auto client = Client();
    auto result = client->Send("GET", "/v1/users/42/wallet");
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 200);
    ASSERT_NE(result->Header("content-type"), nullptr);
    EXPECT_EQ(*result->Header("content-type"), "application/json");
    EXPECT_NE(result->body.find(R"("user":"42")"), std::string::npos) << result->body;

    result = client->Send("GET", "/v1/users/me/wallet");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->body, R"({"user":"me"})");

    result = client->Send("GET", "/v1/users/a%20b/wallet");
    ASSERT_TRUE(result);
    EXPECT_NE(result->body.find(R"("user":"a b")"), std::string::npos) << result->body;
}

TEST_F(HttpServerTest, UnknownPathIs404) {
    StartServer();
    auto result = Client()->Send("GET", "/v1/nothing/here");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 404);
    EXPECT_EQ(
        result->body,
        R"({"error":{"code":"NOT_FOUND","message":"No route matches the path.","param":null}})");
    ASSERT_NE(result->Header("content-length"), nullptr);
    EXPECT_EQ(*result->Header("content-length"), std::to_string(result->body.size()));
}

TEST_F(HttpServerTest, OtherMethodIs405WithAllow) {
    StartServer();
    auto result = Client()->Send("DELETE", "/v1/users/42/wallet");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 405);
    ASSERT_NE(result->Header("allow"), nullptr);
    EXPECT_EQ(*result->Header("allow"), "GET");
    EXPECT_NE(result->body.find(R"("code":"METHOD_NOT_ALLOWED")"), std::string::npos);
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    StartServer();
    auto client = Client();
    constexpr int kRequests = 5;
    for (int i = 0; i < kRequests; i++) {
        const std::string body = "request " + std::to_string(i);
        auto result = client->Send("POST", "/v1/echo", {}, body);
        ASSERT_TRUE(result) << result.error().ToString();
        EXPECT_EQ(result->status, 200);
        EXPECT_EQ(result->body, body);
        EXPECT_EQ(result->Header("connection"), nullptr);
        EXPECT_TRUE(client->connected());
    }
    ASSERT_TRUE(client->Send("GET", "/missing"));
    const HttpServerStats stats = server_->stats();
    EXPECT_EQ(stats.connections_accepted, 1u);
    EXPECT_EQ(stats.connections_open, 1u);
    EXPECT_EQ(stats.requests, kRequests + 1u);
    EXPECT_EQ(stats.responses_2xx, uint64_t{kRequests});
    EXPECT_EQ(stats.responses_4xx, 1u);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
    HttpServerOptions options = TestOptions();
    options.idle_timeout_ms = 100;
    StartServer(options);
    auto client = Client();
    const auto start = steady_clock::now();  // before the server's idle timer starts
    ASSERT_TRUE(client->Send("GET", "/v1/users/1/wallet"));
    EXPECT_TRUE(client->WaitForServerClose());
    EXPECT_GE(ElapsedMs(start), 100);
    ASSERT_TRUE(WaitUntil([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, AsynchronousHandlerAnswersFromAnotherThread) {
    StartServer();
    auto client = Client();
    const auto start = steady_clock::now();
    auto result = client->Send("GET", "/v1/slow");
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, R"({"answered_by":"worker"})");
    EXPECT_GE(ElapsedMs(start), int64_t{kSlowHandlerDelayMs} - 5);
    // The connection is still usable.
    result = client->Send("POST", "/v1/echo", {}, "after");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->body, "after");
}

TEST_F(HttpServerTest, BodyOverLimitIs413AndServerStaysHealthy) {
    HttpServerOptions options = TestOptions();
    options.body_bytes_max = 1024;
    StartServer(options);

    auto result = Client()->Send("POST", "/v1/echo", {}, std::string(1024, 'a'));
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);

    auto client = Client();
    result = client->Send("POST", "/v1/echo", {}, std::string(8 * 1024, 'b'));
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 413);
    EXPECT_NE(result->body.find(R"("code":"PAYLOAD_TOO_LARGE")"), std::string::npos);
    ASSERT_NE(result->Header("connection"), nullptr);
    EXPECT_EQ(*result->Header("connection"), "close");
    EXPECT_FALSE(client->connected());

    // A chunked body is limited as it arrives.
    client = Client();
    ASSERT_TRUE(client
                    ->SendRaw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              "\r\n800\r\n" +
                              std::string(0x800, 'c') + "\r\n0\r\n\r\n")
                    .ok());
    result = client->ReadResponse();
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 413);

    result = Client()->Send("POST", "/v1/echo", {}, "healthy");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, "healthy");
}

TEST_F(HttpServerTest, HeadersOverLimitAre431) {
    HttpServerOptions options = TestOptions();
    options.header_bytes_max = 1024;
    StartServer(options);
    auto result = Client()->Send("GET", "/v1/users/1/wallet", {{"X-Big", std::string(2000, 'h')}});
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 431);
    EXPECT_NE(result->body.find(R"("code":"HEADERS_TOO_LARGE")"), std::string::npos);
    EXPECT_EQ(*result->Header("connection"), "close");

    result = Client()->Send("GET", "/v1/users/1/wallet", {{"X-Small", std::string(100, 'h')}});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
}

TEST_F(HttpServerTest, HalfSentRequestTimesOutWith408) {
    HttpServerOptions options = TestOptions();
    options.request_timeout_ms = 200;
    StartServer(options);
    auto client = Client();
    const auto start = steady_clock::now();
    ASSERT_TRUE(
        client->SendRaw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").ok());
    auto result = client->ReadResponse();
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 408);
    EXPECT_NE(result->body.find(R"("code":"REQUEST_TIMEOUT")"), std::string::npos);
    EXPECT_EQ(*result->Header("connection"), "close");
    EXPECT_GE(ElapsedMs(start), 190);
    EXPECT_FALSE(client->connected());

    // Half a header line.
    client = Client();
    ASSERT_TRUE(client->SendRaw("GET /v1/users/1/wal").ok());
    result = client->ReadResponse();
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 408);

    // A connection that sends nothing is closed without an answer.
    client = Client();
    ASSERT_TRUE(client->Connect().ok());
    EXPECT_TRUE(client->WaitForServerClose());
}

TEST_F(HttpServerTest, SlowHandlerGets504AndItsLateAnswerIsDropped) {
    HttpServerOptions options = TestOptions();
    options.request_timeout_ms = 200;
    StartServer(options);
    auto client = Client();
    auto result = client->Send("GET", "/v1/hang", {{"X-Request-Id", "hang-1"}});
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 504);
    EXPECT_NE(result->body.find(R"("code":"HANDLER_TIMEOUT")"), std::string::npos);
    EXPECT_EQ(*result->Header("x-request-id"), "hang-1");
    ASSERT_EQ(HungCount(), 1u);

    AnswerHung({.body = "late"});  // dropped: must not reach this or any other request
    result = client->Send("POST", "/v1/echo", {}, "next");
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, "next");
    EXPECT_EQ(server_->stats().responses_5xx, 1u);
}

TEST_F(HttpServerTest, HandlerThatThrowsOrDropsTheResponderGets500) {
    StartServer();
    auto client = Client();
    for (const char* path : {"/v1/throw", "/v1/drop"}) {
        auto result = client->Send("GET", path);
        ASSERT_TRUE(result) << result.error().ToString();
        EXPECT_EQ(result->status, 500) << path;
        EXPECT_NE(result->body.find(R"("code":"INTERNAL_ERROR")"), std::string::npos);
    }
}

TEST_F(HttpServerTest, ConnectionsOverMaxGet503) {
    HttpServerOptions options = TestOptions();
    options.connections_max = 2;
    StartServer(options);
    auto first = Client();
    auto second = Client();
    ASSERT_TRUE(first->Send("GET", "/v1/users/1/wallet"));
    ASSERT_TRUE(second->Send("GET", "/v1/users/2/wallet"));

    auto third = Client();
    auto result = third->Send("GET", "/v1/users/3/wallet");
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 503);
    EXPECT_NE(result->body.find(R"("code":"SERVER_BUSY")"), std::string::npos);
    ASSERT_NE(result->Header("retry-after"), nullptr);
    EXPECT_EQ(*result->Header("retry-after"), "1");
    EXPECT_EQ(*result->Header("connection"), "close");
    EXPECT_FALSE(third->connected());
    EXPECT_EQ(server_->stats().connections_rejected, 1u);

    first->Close();
    ASSERT_TRUE(WaitUntil([&] { return server_->stats().connections_open == 1; }));
    result = Client()->Send("GET", "/v1/users/4/wallet");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
    ASSERT_TRUE(second->Send("GET", "/v1/users/2/wallet"));
}

TEST_F(HttpServerTest, StopAnswersInFlightRequestThenRefusesConnections) {
    StartServer();
    const uint16_t port = server_->port();
    auto idle = Client();
    ASSERT_TRUE(idle->Send("GET", "/v1/users/1/wallet"));

    slow_entered_ = std::make_unique<std::promise<void>>();
    std::future<void> entered = slow_entered_->get_future();
    std::future<Result<HttpResult>> in_flight = std::async(std::launch::async, [port] {
        TestHttpClient client("127.0.0.1", port);
        return client.Send("GET", "/v1/slow");
    });
    ASSERT_EQ(entered.wait_for(milliseconds(kWaitMsMax)), std::future_status::ready);

    const auto start = steady_clock::now();
    server_->Stop();
    const int64_t stop_ms = ElapsedMs(start);
    EXPECT_LT(stop_ms, int64_t{TestOptions().shutdown_timeout_ms});

    Result<HttpResult> result = in_flight.get();
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, R"({"answered_by":"worker"})");
    EXPECT_EQ(*result->Header("connection"), "close");

    EXPECT_TRUE(idle->WaitForServerClose());
    TestHttpClient late("127.0.0.1", port);
    EXPECT_FALSE(late.Connect().ok());
    EXPECT_EQ(server_->stats().connections_open, 0u);
    server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, StopCutsOffAHandlerThatNeverAnswers) {
    HttpServerOptions options = TestOptions();
    options.shutdown_timeout_ms = 100;
    StartServer(options);
    auto client = Client();
    ASSERT_TRUE(client->SendRaw("GET /v1/hang HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    ASSERT_TRUE(WaitUntil([&] { return HungCount() == 1; }));

    const auto start = steady_clock::now();
    server_->Stop();
    EXPECT_LT(ElapsedMs(start), 1'000);
    EXPECT_FALSE(client->ReadResponse());  // closed without an answer

    AnswerHung({.body = "after stop"});  // the server no longer takes it: dropped
}

TEST_F(HttpServerTest, LateAnswerAfterTheServerIsGoneIsDropped) {
    HttpServerOptions options = TestOptions();
    options.shutdown_timeout_ms = 100;
    StartServer(options);
    auto client = Client();
    ASSERT_TRUE(client->SendRaw("GET /v1/hang HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    ASSERT_TRUE(WaitUntil([&] { return HungCount() == 1; }));
    server_.reset();
    AnswerHung({.body = "nobody listens"});
}

TEST_F(HttpServerTest, RequestIdIsEchoedOrMade) {
    StartServer();
    auto client = Client();
    auto result = client->Send("GET", "/v1/users/1/wallet", {{"X-Request-Id", "req-42.a:b_c"}});
    ASSERT_TRUE(result);
    EXPECT_EQ(*result->Header("x-request-id"), "req-42.a:b_c");
    EXPECT_NE(result->body.find(R"("request_id":"req-42.a:b_c")"), std::string::npos);

    std::vector<std::string> made;
    for (const std::string& bad : {std::string("has space"), std::string(65, 'a')}) {
        result = client->Send("GET", "/v1/users/1/wallet", {{"X-Request-Id", bad}});
        ASSERT_TRUE(result);
        const std::string* id = result->Header("x-request-id");
        ASSERT_NE(id, nullptr);
        EXPECT_NE(*id, bad);
        EXPECT_FALSE(id->empty());
        made.push_back(*id);
    }
    result = client->Send("GET", "/missing");
    ASSERT_TRUE(result);
    made.push_back(*result->Header("x-request-id"));
    EXPECT_NE(made[0], made[1]);
    EXPECT_NE(made[1], made[2]);
    EXPECT_EQ(*client->Send("GET", "/v1/users/1/wallet", {{"X-Request-Id", std::string(64, 'a')}})
                   ->Header("x-request-id"),
              std::string(64, 'a'));
}

TEST_F(HttpServerTest, QueryParametersAreDecoded) {
    StartServer();
    auto result = Client()->Send("GET", "/v1/query?x=1&name=Ana%20Mar%C3%ADa+L%26Co");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, R"({"name":"Ana María L&Co"})");
}

TEST_F(HttpServerTest, ErrorBodiesEscapeJson) {
    router_.Add("GET", "/v1/error", [](HttpRequest&&, const PathParams&, Responder responder) {
        responder(ErrorResponse(422, "INVALID_AMOUNT", "Amount \"1,5\" is not\nan integer.",
                                "amount\\minor"));
    });
    StartServer();
    auto result = Client()->Send("GET", "/v1/error");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 422);
    EXPECT_EQ(result->body,
              R"({"error":{"code":"INVALID_AMOUNT","message":"Amount \"1,5\" is not\nan integer.",)"
              R"("param":"amount\\minor"}})");
}

TEST_F(HttpServerTest, MalformedRequestIs400AndCloses) {
    StartServer();
    auto client = Client();
    ASSERT_TRUE(client->SendRaw("NOT HTTP AT ALL\r\n\r\n").ok());
    auto result = client->ReadResponse();
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 400);
    EXPECT_NE(result->body.find(R"("code":"INVALID_REQUEST")"), std::string::npos);
    EXPECT_EQ(*result->Header("connection"), "close");
    EXPECT_FALSE(client->connected());
}

TEST_F(HttpServerTest, ExpectContinueGetsInterimResponse) {
    StartServer();
    auto client = Client();
    ASSERT_TRUE(client
                    ->SendRaw("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                              "Expect: 100-continue\r\n\r\n")
                    .ok());
    auto result = client->ReadResponse();
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 100);
    ASSERT_TRUE(client->SendRaw("hello").ok());
    result = client->ReadResponse();
    ASSERT_TRUE(result) << result.error().ToString();
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->body, "hello");
}

TEST_F(HttpServerTest, ClientConnectionCloseIsHonoured) {
    StartServer();
    auto client = Client();
    auto result = client->Send("GET", "/v1/users/1/wallet", {{"Connection", "close"}});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(*result->Header("connection"), "close");
    EXPECT_FALSE(client->connected());
}

TEST(HttpServerOptionsTest, StartRejectsBadOptionsAndBusyPorts) {
    HttpServerOptions options;
    options.port = 0;
    options.io_threads = 0;
    HttpServer bad_threads(options, [](HttpRequest&&, Responder) {});
    EXPECT_EQ(bad_threads.Start().code(), StatusCode::kInvalidArgument);

    options.io_threads = 1;
    options.address = "not-an-address";
    HttpServer bad_address(options, [](HttpRequest&&, Responder) {});
    EXPECT_EQ(bad_address.Start().code(), StatusCode::kInvalidArgument);

    options.address = "127.0.0.1";
    HttpServer first(options, [](HttpRequest&&, Responder) {});
    ASSERT_TRUE(first.Start().ok());
    EXPECT_EQ(first.Start().code(), StatusCode::kInvalidArgument);
    options.port = first.port();
    HttpServer second(options, [](HttpRequest&&, Responder) {});
    EXPECT_EQ(second.Start().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace bursar::api
