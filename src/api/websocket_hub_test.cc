#include "api/websocket_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.h"
#include "api/router.h"
#include "api/test_http_client.h"
#include "api/test_websocket_client.h"

namespace bursar::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr uint32_t kWaitMsMax = 3'000;
constexpr std::string_view kWelcome = R"({"type":"welcome"})";

bool WaitUntil(const std::function<bool()>& condition) {
    const auto deadline = steady_clock::now() + milliseconds(kWaitMsMax);
    while (!condition()) {
        if (steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(milliseconds(2));
    }
    return true;
}

int64_t ElapsedMs(steady_clock::time_point start) {
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
}

std::string Numbered(int number, std::string_view padding = {}) {
    std::string json = R"({"seq":)" + std::to_string(number);
    if (!padding.empty()) json.append(R"(,"pad":")").append(padding).append("\"");
    return json + "}";
}

// The number of a Numbered() message, or -1.
int NumberOf(const std::string& json) {
    constexpr std::string_view kPrefix = R"({"seq":)";
    if (json.compare(0, kPrefix.size(), kPrefix) != 0) return -1;
    return std::atoi(json.c_str() + kPrefix.size());
}

// A sink without a network: what the hub sends is kept; full after `capacity` messages.
class FakeSink final : public WebSocketSink {
  public:
    explicit FakeSink(size_t capacity = 1'000) : capacity_(capacity) {}

    WebSocketSendResult Send(std::string text) override {
        std::lock_guard lock(mutex_);
        if (!open_) return WebSocketSendResult::kClosed;
        if (received_.size() >= capacity_) {
            open_ = false;
            close_code_ = kClosePolicyViolation;
            return WebSocketSendResult::kTooSlow;
        }
        received_.push_back(std::move(text));
        return WebSocketSendResult::kQueued;
    }
    void Close(uint16_t code, std::string) override {
        std::lock_guard lock(mutex_);
        if (!open_) return;
        open_ = false;
        close_code_ = code;
    }
    bool open() const override {
        std::lock_guard lock(mutex_);
        return open_;
    }
    std::vector<std::string> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }
    uint16_t close_code() const {
        std::lock_guard lock(mutex_);
        return close_code_;
    }

  private:
    const size_t capacity_;
    mutable std::mutex mutex_;
    bool open_ = true;
    uint16_t close_code_ = 0;
    std::vector<std::string> received_;
};

TEST(AudienceTest, AdminSeesAllUsersAndMerchantsTheirOwn) {
    const HubMessage payment{.json = "{}", .user_ids = {7, 8}, .merchant_id = 3};
    EXPECT_TRUE(Sees({.admin = true}, payment));
    EXPECT_TRUE(Sees({.user_id = 7}, payment));
    EXPECT_TRUE(Sees({.user_id = 8}, payment));
    EXPECT_FALSE(Sees({.user_id = 9}, payment));
    EXPECT_TRUE(Sees({.merchant_id = 3}, payment));
    EXPECT_FALSE(Sees({.merchant_id = 4}, payment));
    EXPECT_FALSE(Sees({}, payment));
    // Id 0 is nobody: it matches no message without that party.
    const HubMessage top_up{.json = "{}", .user_ids = {7}, .merchant_id = 0};
    EXPECT_FALSE(Sees({.merchant_id = 0}, top_up));
    EXPECT_FALSE(Sees({.user_id = 0}, HubMessage{.json = "{}", .user_ids = {0}}));
    EXPECT_TRUE(Sees({.admin = true}, top_up));
}

TEST(WebSocketHubTest, PublishesToMatchingSinksAndDropsClosedOnes) {
    WebSocketHub hub;
    auto admin = std::make_shared<FakeSink>();
    auto user = std::make_shared<FakeSink>();
    auto merchant = std::make_shared<FakeSink>();
    hub.Add(admin, {.admin = true});
    hub.Add(user, {.user_id = 7});
    hub.Add(merchant, {.merchant_id = 3});
    EXPECT_EQ(hub.stats().connections, 3u);

    hub.Publish({.json = "a", .user_ids = {7}, .merchant_id = 3});
    hub.Publish({.json = "b", .user_ids = {8}, .merchant_id = 0});
    hub.Publish({.json = "c", .user_ids = {}, .merchant_id = 3});
    EXPECT_EQ(admin->received(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(user->received(), (std::vector<std::string>{"a"}));
    EXPECT_EQ(merchant->received(), (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(hub.stats().messages_sent, 6u);

    user->Close(WebSocketSink::kCloseNormal, "bye");
    EXPECT_EQ(hub.stats().connections, 2u);
    hub.Publish({.json = "d", .user_ids = {7}, .merchant_id = 0});
    EXPECT_EQ(user->received().size(), 1u);
    EXPECT_EQ(admin->received().back(), "d");
    const WebSocketHubStats stats = hub.stats();
    EXPECT_EQ(stats.connections, 2u);
    EXPECT_EQ(stats.connections_added, 3u);
    EXPECT_EQ(stats.messages_sent, 7u);
    EXPECT_EQ(stats.slow_clients_closed, 0u);
}

TEST(WebSocketHubTest, IsEmptyWithoutOpenConnections) {
    WebSocketHub hub;
    EXPECT_TRUE(hub.empty());
    auto first = std::make_shared<FakeSink>();
    auto second = std::make_shared<FakeSink>();
    hub.Add(first, {.admin = true});
    hub.Add(second, {.user_id = 7});
    EXPECT_FALSE(hub.empty());
    first->Close(WebSocketSink::kCloseNormal, "bye");
    EXPECT_FALSE(hub.empty());
    second->Close(WebSocketSink::kCloseNormal, "bye");
    EXPECT_TRUE(hub.empty());
    EXPECT_EQ(hub.stats().connections, 0u);
}

TEST(WebSocketHubTest, CountsSlowClientsOnce) {
    WebSocketHub hub;
    auto slow = std::make_shared<FakeSink>(/*capacity=*/2);
    auto fast = std::make_shared<FakeSink>();
    hub.Add(slow, {.admin = true});
    hub.Add(fast, {.admin = true});
    for (int i = 0; i < 5; i++) hub.Publish({.json = Numbered(i)});
    EXPECT_EQ(slow->received().size(), 2u);
    EXPECT_EQ(slow->close_code(), WebSocketSink::kClosePolicyViolation);
    EXPECT_EQ(fast->received().size(), 5u);
    const WebSocketHubStats stats = hub.stats();
    EXPECT_EQ(stats.slow_clients_closed, 1u);
    EXPECT_EQ(stats.messages_sent, 7u);
    EXPECT_EQ(stats.connections, 1u);
}

// The server with a `/v1/stream` upgrade handler that authenticates on another thread, as the
// platform's does: `Authorization: Bearer admin`, `user-<id>`, `merchant-<id>`; `hang` never
// answers (the accept is kept for the test), `drop` drops accept and reject unused.
class WebSocketServerTest : public ::testing::Test {
  protected:
    WebSocketServerTest() {
        router_.Add("GET", "/v1/ping", [](HttpRequest&&, const PathParams&, Responder responder) {
            responder({.body = R"({"ok":true})"});
        });
    }

    ~WebSocketServerTest() override {
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
        options.write_timeout_ms = 2'000;
        options.shutdown_timeout_ms = 2'000;
        return options;
    }

    void StartServer(HttpServerOptions options = TestOptions()) {
        server_ = std::make_unique<HttpServer>(std::move(options), router_.AsHandler());
        server_->SetUpgradeHandler(
            "/v1/stream", [this](HttpRequest&& request, WebSocketAccept accept, Responder reject) {
                const std::string* authorization = request.Header("authorization");
                RunLater([this, token = authorization == nullptr ? "" : *authorization,
                          accept = std::move(accept), reject = std::move(reject)]() mutable {
                    Decide(token, std::move(accept), std::move(reject));
                });
            });
        const Status status = server_->Start();
        ASSERT_TRUE(status.ok()) << status.ToString();
    }

    static std::optional<Audience> AudienceFor(std::string_view token) {
        constexpr std::string_view kBearer = "Bearer ";
        if (token.substr(0, kBearer.size()) != kBearer) return std::nullopt;
        token.remove_prefix(kBearer.size());
        if (token == "admin") return Audience{.admin = true};
        for (const std::string_view kind : {"user-", "merchant-"}) {
            if (token.substr(0, kind.size()) != kind) continue;
            const uint64_t id =
                std::strtoull(std::string(token.substr(kind.size())).c_str(), nullptr, 10);
            if (id == 0) return std::nullopt;
            return kind == "user-" ? Audience{.user_id = id} : Audience{.merchant_id = id};
        }
        return std::nullopt;
    }

    // On a worker thread. An accepted client gets a welcome message sent right away, before its
    // handshake is done: it is queued and follows the handshake.
    void Decide(const std::string& token, WebSocketAccept accept, Responder reject) {
        if (token == "Bearer hang") {
            std::lock_guard lock(mutex_);
            hung_accepts_.push_back(std::move(accept));
            return;
        }
        if (token == "Bearer drop") return;
        const std::optional<Audience> audience = AudienceFor(token);
        if (!audience.has_value()) {
            reject(ErrorResponse(401, "UNAUTHENTICATED", "a valid bearer token is required"));
            return;
        }
        std::shared_ptr<WebSocketSink> sink = accept();
        hub_.Add(sink, *audience);
        {
            std::lock_guard lock(mutex_);
            sinks_.push_back(sink);
        }
        EXPECT_EQ(sink->Send(std::string(kWelcome)), WebSocketSendResult::kQueued);
    }

    void RunLater(std::function<void()> work) {
        std::lock_guard lock(mutex_);
        workers_.emplace_back(std::move(work));
    }

    // A connected client of `token` that got its welcome, which is sent after the hub and
    // sinks_ have its sink: publishing may start. Null on failure.
    std::unique_ptr<TestWebSocketClient> Connect(std::string_view token,
                                                 TestWebSocketClientOptions options = {}) {
        auto client = std::make_unique<TestWebSocketClient>("127.0.0.1", server_->port(), options);
        Result<HttpResult> response =
            client->Connect("/v1/stream", {{"Authorization", "Bearer " + std::string(token)}});
        if (!response || response->status != 101) {
            ADD_FAILURE() << "upgrade as " << token << ": "
                          << (response ? std::to_string(response->status) + " " + response->body
                                       : response.error().ToString());
            return nullptr;
        }
        Result<std::string> welcome = client->ReadMessage();
        if (!welcome || *welcome != kWelcome) {
            ADD_FAILURE() << "no welcome for " << token;
            return nullptr;
        }
        return client;
    }

    void Publish(int number, std::vector<uint64_t> user_ids, uint64_t merchant_id) {
        hub_.Publish({.json = Numbered(number),
                      .user_ids = std::move(user_ids),
                      .merchant_id = merchant_id});
    }

    std::vector<std::shared_ptr<WebSocketSink>> Sinks() {
        std::lock_guard lock(mutex_);
        return sinks_;
    }

    Router router_;
    WebSocketHub hub_;
    std::unique_ptr<HttpServer> server_;
    std::mutex mutex_;
    std::vector<std::thread> workers_;                   // guarded
    std::vector<std::shared_ptr<WebSocketSink>> sinks_;  // guarded
    std::vector<WebSocketAccept> hung_accepts_;          // guarded
};

TEST_F(WebSocketServerTest, AcceptedClientReceivesPublishedMessagesInOrder) {
    StartServer();
    TestWebSocketClient client("127.0.0.1", server_->port());
    Result<HttpResult> response =
        client.Connect("/v1/stream", {{"Authorization", "Bearer admin"}, {"X-Request-Id", "ws-1"}});
    ASSERT_TRUE(response) << response.error().ToString();
    EXPECT_EQ(response->status, 101);
    ASSERT_NE(response->Header("x-request-id"), nullptr);
    EXPECT_EQ(*response->Header("x-request-id"), "ws-1");
    Result<std::string> welcome = client.ReadMessage();
    ASSERT_TRUE(welcome) << welcome.error().ToString();
    EXPECT_EQ(*welcome, kWelcome);

    constexpr int kMessages = 200;
    for (int i = 0; i < kMessages; i++) Publish(i, {}, 0);
    for (int i = 0; i < kMessages; i++) {
        Result<std::string> message = client.ReadMessage();
        ASSERT_TRUE(message) << i << ": " << message.error().ToString();
        EXPECT_EQ(*message, Numbered(i));
    }
    HttpServerStats stats = server_->stats();
    EXPECT_EQ(stats.websocket_connections_accepted, 1u);
    EXPECT_EQ(stats.websocket_connections_open, 1u);
    EXPECT_EQ(stats.connections_open, 1u);
    EXPECT_EQ(stats.responses_1xx, 1u);
    EXPECT_EQ(hub_.stats().messages_sent, uint64_t{kMessages});

    // The client closes; the server answers and ends the connection.
    ASSERT_TRUE(client.SendClose(WebSocketSink::kCloseNormal, "bye").ok());
    EXPECT_TRUE(client.WaitForServerClose());
    EXPECT_EQ(client.close_code(), WebSocketSink::kCloseNormal);
    ASSERT_TRUE(WaitUntil([&] { return server_->stats().connections_open == 0; }));
    stats = server_->stats();
    EXPECT_EQ(stats.websocket_connections_open, 0u);
    EXPECT_EQ(stats.websocket_connections_closed_slow, 0u);
    EXPECT_FALSE(Sinks().at(0)->open());
    EXPECT_EQ(Sinks().at(0)->Send("late"), WebSocketSendResult::kClosed);
    EXPECT_EQ(hub_.stats().connections, 0u);
}

TEST_F(WebSocketServerTest, RejectedUpgradeGetsTheHttpResponse) {
    StartServer();
    for (const HttpHeaders& headers :
         {HttpHeaders{{"Authorization", "Bearer nobody"}}, HttpHeaders{}}) {
        TestWebSocketClient client("127.0.0.1", server_->port());
        Result<HttpResult> response = client.Connect("/v1/stream", headers);
        ASSERT_TRUE(response) << response.error().ToString();
        EXPECT_EQ(response->status, 401);
        EXPECT_NE(response->body.find(R"("code":"UNAUTHENTICATED")"), std::string::npos)
            << response->body;
        EXPECT_FALSE(client.open());
    }

    // Elsewhere an upgrade request is an ordinary request, and so is a plain GET of the stream.
    TestWebSocketClient elsewhere("127.0.0.1", server_->port());
    Result<HttpResult> response = elsewhere.Connect("/v1/other");
    ASSERT_TRUE(response) << response.error().ToString();
    EXPECT_EQ(response->status, 404);
    TestHttpClient http("127.0.0.1", server_->port());
    Result<HttpResult> plain = http.Send("GET", "/v1/stream");
    ASSERT_TRUE(plain) << plain.error().ToString();
    EXPECT_EQ(plain->status, 404);

    // An upgrade without the WebSocket version never reaches the upgrade handler.
    ASSERT_TRUE(http.SendRaw("GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: abc\r\n\r\n")
                    .ok());
    plain = http.ReadResponse();
    ASSERT_TRUE(plain) << plain.error().ToString();
    EXPECT_EQ(plain->status, 400);
    EXPECT_NE(plain->body.find(R"("code":"INVALID_REQUEST")"), std::string::npos);
    EXPECT_EQ(server_->stats().websocket_connections_accepted, 0u);
}

TEST_F(WebSocketServerTest, UpgradeHandlerThatDropsOrDoesNotAnswer) {
    HttpServerOptions options = TestOptions();
    options.request_timeout_ms = 200;
    StartServer(options);

    TestWebSocketClient dropped("127.0.0.1", server_->port());
    Result<HttpResult> response = dropped.Connect("/v1/stream", {{"Authorization", "Bearer drop"}});
    ASSERT_TRUE(response) << response.error().ToString();
    EXPECT_EQ(response->status, 500);
    EXPECT_NE(response->body.find(R"("code":"INTERNAL_ERROR")"), std::string::npos);

    TestWebSocketClient hung("127.0.0.1", server_->port());
    response = hung.Connect("/v1/stream", {{"Authorization", "Bearer hang"}});
    ASSERT_TRUE(response) << response.error().ToString();
    EXPECT_EQ(response->status, 504);
    // Accepting after the timeout gives a closed sink.
    std::vector<WebSocketAccept> accepts;
    {
        std::lock_guard lock(mutex_);
        accepts.swap(hung_accepts_);
    }
    ASSERT_EQ(accepts.size(), 1u);
    std::shared_ptr<WebSocketSink> late = accepts[0]();
    ASSERT_NE(late, nullptr);
    EXPECT_FALSE(late->open());
    EXPECT_EQ(late->Send("nobody"), WebSocketSendResult::kClosed);
    EXPECT_EQ(server_->stats().websocket_connections_accepted, 0u);
}

TEST_F(WebSocketServerTest, EachClientGetsWhatItsAudienceSees) {
    StartServer();
    auto admin = Connect("admin");
    auto user7 = Connect("user-7");
    auto user8 = Connect("user-8");
    auto merchant3 = Connect("merchant-3");
    ASSERT_TRUE(admin && user7 && user8 && merchant3);
    EXPECT_EQ(hub_.stats().connections, 4u);

    Publish(1, {7}, 3);     // user 7 paid merchant 3
    Publish(2, {8, 7}, 0);  // user 8 sent money to user 7
    Publish(3, {9}, 4);     // for the admin only
    Publish(4, {}, 3);      // merchant 3 settled
    Publish(5, {7, 8}, 3);  // everyone's: the last one
    const std::vector<std::pair<TestWebSocketClient*, std::vector<int>>> expected = {
        {admin.get(), {1, 2, 3, 4, 5}},
        {user7.get(), {1, 2, 5}},
        {user8.get(), {2, 5}},
        {merchant3.get(), {1, 4, 5}},
    };
    for (const auto& [client, numbers] : expected) {
        for (const int number : numbers) {
            Result<std::string> message = client->ReadMessage();
            ASSERT_TRUE(message) << message.error().ToString();
            EXPECT_EQ(*message, Numbered(number));
        }
    }
    EXPECT_EQ(hub_.stats().messages_sent, 5u + 3u + 2u + 3u);
}

TEST_F(WebSocketServerTest, SlowClientIsClosedWith1008WhileAFastOneKeepsUp) {
    HttpServerOptions options = TestOptions();
    options.websocket_send_queue_messages_max = 8;
    options.write_timeout_ms = 5'000;  // the slow client reads again long before this
    StartServer(options);
    auto fast = Connect("admin");
    auto slow = Connect("admin", {.receive_buffer_bytes = 4 << 10});
    ASSERT_TRUE(fast && slow);

    std::mutex mutex;
    std::condition_variable received_cv;
    int fast_received = 0;     // guarded
    bool fast_failed = false;  // guarded
    std::thread reader([&] {
        while (true) {
            Result<std::string> message = fast->ReadMessage();
            if (message && *message == "end") return;
            std::lock_guard lock(mutex);
            if (!message || NumberOf(*message) != fast_received) {
                fast_failed = true;
                received_cv.notify_all();
                return;
            }
            fast_received++;
            received_cv.notify_all();
        }
    });

    // The publisher keeps in step with the fast client: its queue never holds more than one
    // message, while the slow client's fills the kernel's buffers, then its queue.
    constexpr int kMessagesMax = 4'096;
    const std::string padding(8 << 10, 'x');
    int published = 0;
    while (hub_.stats().slow_clients_closed == 0 && published < kMessagesMax) {
        hub_.Publish({.json = Numbered(published, padding)});
        published++;
        std::unique_lock lock(mutex);
        ASSERT_TRUE(received_cv.wait_for(lock, milliseconds(kWaitMsMax), [&] {
            return fast_received == published || fast_failed;
        }));
        ASSERT_FALSE(fast_failed) << "after " << fast_received;
    }
    ASSERT_EQ(hub_.stats().slow_clients_closed, 1u) << published << " messages";

    // The slow client reads what reached it, in order, then the close.
    int slow_received = 0;
    while (true) {
        Result<std::string> message = slow->ReadMessage();
        if (!message) {
            EXPECT_EQ(message.error().code(), StatusCode::kStopped) << message.error().ToString();
            break;
        }
        ASSERT_EQ(NumberOf(*message), slow_received);
        slow_received++;
    }
    EXPECT_EQ(slow->close_code(), WebSocketSink::kClosePolicyViolation);
    EXPECT_EQ(slow->close_reason(), "too slow");
    EXPECT_TRUE(slow->WaitForServerClose());
    EXPECT_LT(slow_received, published);

    // The fast client still gets everything.
    hub_.Publish({.json = Numbered(published)});
    published++;
    {
        std::unique_lock lock(mutex);
        EXPECT_TRUE(received_cv.wait_for(lock, milliseconds(kWaitMsMax), [&] {
            return fast_received == published || fast_failed;
        }));
        EXPECT_EQ(fast_received, published);
    }
    hub_.Publish({.json = "end"});
    reader.join();

    const HttpServerStats stats = server_->stats();
    EXPECT_EQ(stats.websocket_connections_closed_slow, 1u);
    EXPECT_EQ(stats.websocket_connections_accepted, 2u);
    EXPECT_EQ(hub_.stats().slow_clients_closed, 1u);
}

TEST_F(WebSocketServerTest, StopClosesWebSocketsWith1001) {
    StartServer();
    auto client = Connect("admin");
    ASSERT_TRUE(client);
    const std::shared_ptr<WebSocketSink> sink = Sinks().at(0);
    std::future<bool> closed =
        std::async(std::launch::async, [&client] { return client->WaitForServerClose(); });

    const auto start = steady_clock::now();
    server_->Stop();
    EXPECT_LT(ElapsedMs(start), 1'000);
    EXPECT_TRUE(closed.get());
    EXPECT_EQ(client->close_code(), WebSocketSink::kCloseGoingAway);
    EXPECT_EQ(client->close_reason(), "going away");
    EXPECT_EQ(server_->stats().websocket_connections_open, 0u);
    EXPECT_EQ(server_->stats().connections_open, 0u);

    // The sink outlives the server: closed, and harmless.
    EXPECT_FALSE(sink->open());
    server_.reset();
    EXPECT_EQ(sink->Send("after"), WebSocketSendResult::kClosed);
    sink->Close(WebSocketSink::kCloseNormal, "again");
    hub_.Publish({.json = "after"});
    EXPECT_EQ(hub_.stats().connections, 0u);
}

TEST_F(WebSocketServerTest, HttpIsServedWhileWebSocketsAreOpen) {
    StartServer();
    auto first = Connect("admin");
    auto second = Connect("user-7");
    ASSERT_TRUE(first && second);
    TestHttpClient http("127.0.0.1", server_->port());
    for (int i = 0; i < 5; i++) {
        Result<HttpResult> result = http.Send("GET", "/v1/ping");
        ASSERT_TRUE(result) << result.error().ToString();
        EXPECT_EQ(result->status, 200);
        EXPECT_EQ(result->body, R"({"ok":true})");
    }
    EXPECT_EQ(server_->stats().connections_open, 3u);
    Publish(1, {7}, 0);
    for (TestWebSocketClient* client : {first.get(), second.get()}) {
        Result<std::string> message = client->ReadMessage();
        ASSERT_TRUE(message) << message.error().ToString();
        EXPECT_EQ(*message, Numbered(1));
    }
}

TEST_F(WebSocketServerTest, ClientTextIsIgnoredAndOversizedMessagesClose) {
    HttpServerOptions options = TestOptions();
    options.websocket_message_bytes_max = 1024;
    StartServer(options);
    auto client = Connect("admin");
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->SendText("hello server").ok());
    Publish(1, {}, 0);
    Result<std::string> message = client->ReadMessage();
    ASSERT_TRUE(message) << message.error().ToString();
    EXPECT_EQ(*message, Numbered(1));

    ASSERT_TRUE(client->SendText(std::string(1025, 'a')).ok());
    EXPECT_TRUE(client->WaitForServerClose());
    EXPECT_EQ(client->close_code(), 1009);  // message too big
    ASSERT_TRUE(WaitUntil([&] { return server_->stats().websocket_connections_open == 0; }));
}

TEST_F(WebSocketServerTest, ClientPingsAreAnsweredAndFragmentsCountTowardsTheLimit) {
    HttpServerOptions options = TestOptions();
    options.websocket_message_bytes_max = 1024;
    StartServer(options);
    auto client = Connect("admin");
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->SendFrame(0x9, "are you there").ok());  // ping
    // A message of two fragments within the limit, a ping between them: ignored, still open.
    ASSERT_TRUE(client->SendFrame(0x1, std::string(600, 'a'), /*fin=*/false).ok());
    ASSERT_TRUE(client->SendFrame(0x9, "again").ok());
    ASSERT_TRUE(client->SendFrame(0x0, std::string(400, 'b'), /*fin=*/true).ok());
    // Messages published meanwhile; the pongs arrive among them, in the order of the pings.
    for (int n = 1; n <= 100 && client->pongs_received() < 2; n++) {
        Publish(n, {}, 0);
        Result<std::string> message = client->ReadMessage();
        ASSERT_TRUE(message) << message.error().ToString();
        EXPECT_EQ(*message, Numbered(n));
        std::this_thread::sleep_for(milliseconds(5));
    }
    EXPECT_EQ(client->pongs_received(), 2u);
    EXPECT_EQ(client->last_pong(), "again");
    // Fragments that together pass the limit close with 1009.
    ASSERT_TRUE(client->SendFrame(0x2, std::string(1000, 'c'), /*fin=*/false).ok());
    ASSERT_TRUE(client->SendFrame(0x0, std::string(100, 'd'), /*fin=*/true).ok());
    EXPECT_TRUE(client->WaitForServerClose());
    EXPECT_EQ(client->close_code(), 1009);
}

TEST_F(WebSocketServerTest, FramesThatBreakTheProtocolClose1002) {
    StartServer();
    // An unmasked frame, a continuation without a message, an oversized or fragmented control
    // frame, a reserved bit, an unknown opcode.
    const std::vector<std::string> broken = {
        std::string("\x81\x02hi", 4),
        std::string("\x80\x80\x01\x02\x03\x04", 6),
        std::string("\x89\xFE\x00\x7E", 4) + std::string(4 + 126, 'x'),
        std::string("\x09\x80\x01\x02\x03\x04", 6),
        std::string("\xC1\x80\x01\x02\x03\x04", 6),
        std::string("\x83\x80\x01\x02\x03\x04", 6),
    };
    for (size_t i = 0; i < broken.size(); i++) {
        SCOPED_TRACE("frame " + std::to_string(i));
        auto client = Connect("admin");
        ASSERT_TRUE(client);
        ASSERT_TRUE(client->SendRaw(broken[i]).ok());
        EXPECT_TRUE(client->WaitForServerClose());
        EXPECT_EQ(client->close_code(), 1002);
    }
    ASSERT_TRUE(WaitUntil([&] { return server_->stats().websocket_connections_open == 0; }));
}

TEST_F(WebSocketServerTest, ClientCloseIsAnsweredAndEndsTheConnection) {
    StartServer();
    auto client = Connect("admin");
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->SendClose(WebSocketSink::kCloseNormal, "bye").ok());
    EXPECT_TRUE(client->WaitForServerClose());
    EXPECT_EQ(client->close_code(), WebSocketSink::kCloseNormal);
    ASSERT_TRUE(WaitUntil([&] { return server_->stats().websocket_connections_open == 0; }));
    EXPECT_FALSE(Sinks().at(0)->open());
}

TEST_F(WebSocketServerTest, ServerPingsAndClosesPeersThatStopAnswering) {
    HttpServerOptions options = TestOptions();
    options.websocket_ping_interval_ms = 100;
    StartServer(options);
    auto silent = Connect("admin", {.timeout_ms = 2'000, .answer_pings = false});
    auto answering = Connect("admin", {.timeout_ms = 500});
    ASSERT_TRUE(answering && silent);

    // Nothing is published: the answering client reads only pings, and answers them.
    Result<std::string> message = answering->ReadMessage();
    ASSERT_FALSE(message);
    EXPECT_EQ(message.error().code(), StatusCode::kIoError);  // timed out, still open
    EXPECT_GE(answering->pings_received(), 3u);

    // Meanwhile the silent one was cut off, two intervals after its last word.
    const auto start = steady_clock::now();
    EXPECT_TRUE(silent->WaitForServerClose());
    EXPECT_LT(ElapsedMs(start), 100);
    EXPECT_GE(silent->pings_received(), 1u);
    EXPECT_FALSE(silent->close_code().has_value());  // cut off, no closing handshake

    Publish(1, {}, 0);
    message = answering->ReadMessage();
    ASSERT_TRUE(message) << message.error().ToString();
    EXPECT_EQ(*message, Numbered(1));
    EXPECT_EQ(server_->stats().websocket_connections_open, 1u);
}

}  // namespace
}  // namespace bursar::api
