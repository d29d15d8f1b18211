// Against a real nats-server with JetStream (Debian's nats-server, started here on loopback).

#include <gtest/gtest.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include "events/jetstream_publisher.h"

extern char** environ;

namespace bursar::events {
namespace {

uint16_t FreePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

class NatsServer {
  public:
    NatsServer(uint16_t port, std::string store) : port_(port), store_(std::move(store)) {}
    ~NatsServer() { Kill(); }
    void Start() {
        const std::string port = std::to_string(port_);
        std::vector<std::string> args = {
            "nats-server", "-js", "-a",   "127.0.0.1", "-p",
            port,          "-sd", store_, "-l",        store_ + "/nats.log"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ASSERT_EQ(::posix_spawnp(&pid_, "nats-server", nullptr, nullptr, argv.data(), environ), 0);
        for (int i = 0; i < 200; ++i) {  // up to 10 s for it to listen
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(port_);
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            const bool up =
                ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
            ::close(fd);
            if (up) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL() << "nats-server did not start";
    }
    void Kill() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

  private:
    uint16_t port_;
    std::string store_;
    pid_t pid_ = -1;
};

class JetStreamTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ =
            (std::filesystem::temp_directory_path() / ("bursar-js-" + std::to_string(::getpid())))
                .string();
        std::filesystem::remove_all(root_);
        std::filesystem::create_directories(root_ + "/nats");
        nats_ = std::make_unique<NatsServer>(FreePort(), root_ + "/nats");
        nats_->Start();
        OpenBursar();
    }
    void TearDown() override {
        publisher_.reset();
        engine_.reset();
        nats_.reset();
        std::filesystem::remove_all(root_);
    }

    void OpenBursar() {
        engine::EngineOptions options;
        options.data_dir = root_ + "/data";
        auto engine = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
        ASSERT_TRUE(engine) << engine.error().ToString();
        engine_ = std::move(*engine);
        engine_->Start();
        JetStreamOptions js;
        js.url = nats_->url();
        js.retry_ms = 100;
        js.ack_wait_ms = 1000;
        publisher_ = std::make_unique<JetStreamPublisher>(PosixFileSystem(), *engine_,
                                                          root_ + "/data", js, nullptr);
        ASSERT_TRUE(publisher_->Start().ok());
    }

    payments::CommandResult Run(payments::Command c) {
        c.principal.kind = payments::PrincipalKind::kAdmin;
        auto result = engine::RunCommand(*engine_, std::move(c));
        EXPECT_TRUE(result) << result.error().ToString();
        return result ? std::move(*result) : payments::CommandResult{};
    }

    void Payments(int count) {
        for (int i = 0; i < count; ++i) {
            payments::Command pay;
            pay.type = payments::CommandType::kPay;
            pay.user_id = 1;
            pay.merchant_id = 1;
            pay.amount = 10;
            pay.currency = 392;
            ASSERT_EQ(Run(pay).status, 200);
            ++movements_;
        }
    }

    // Every message of the stream, in stream order: its event id.
    std::vector<std::string> StreamIds() {
        natsConnection* connection = nullptr;
        jsCtx* js = nullptr;
        EXPECT_EQ(natsConnection_ConnectTo(&connection, nats_->url().c_str()), NATS_OK);
        EXPECT_EQ(natsConnection_JetStream(&js, connection, nullptr), NATS_OK);
        jsStreamInfo* info = nullptr;
        EXPECT_EQ(js_GetStreamInfo(&info, js, "PAYMENTS", nullptr, nullptr), NATS_OK);
        std::vector<std::string> ids;
        const uint64_t count = info->State.Msgs;
        for (uint64_t seq = info->State.FirstSeq; seq < info->State.FirstSeq + count; ++seq) {
            natsMsg* msg = nullptr;
            EXPECT_EQ(js_GetMsg(&msg, js, "PAYMENTS", seq, nullptr, nullptr), NATS_OK);
            const std::string body(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
            const size_t start = body.find("\"event_id\":\"") + 12;
            ids.push_back(body.substr(start, body.find('"', start) - start));
            natsMsg_Destroy(msg);
        }
        jsStreamInfo_Destroy(info);
        jsCtx_Destroy(js);
        natsConnection_Destroy(connection);
        return ids;
    }

    std::string root_;
    std::unique_ptr<NatsServer> nats_;
    std::unique_ptr<engine::Engine> engine_;
    std::unique_ptr<JetStreamPublisher> publisher_;
    int movements_ = 0;
};

TEST_F(JetStreamTest, EveryMovementOnceInOrderAcrossRestarts) {
    payments::Command reg;
    reg.type = payments::CommandType::kRegisterUser;
    reg.email = "a@example.com";
    ASSERT_EQ(Run(reg).status, 201);
    payments::Command merchant;
    merchant.type = payments::CommandType::kCreateMerchant;
    merchant.secret_hash = Sha256::Of("k", 1);
    ASSERT_EQ(Run(merchant).status, 201);
    payments::Command topup;
    topup.type = payments::CommandType::kTopup;
    topup.user_id = 1;
    topup.amount = 1'000'000;
    topup.currency = 392;
    ASSERT_EQ(Run(topup).status, 200);
    ++movements_;
    Payments(20);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));

    // NATS dies between payments and comes back with its store.
    nats_->Kill();
    Payments(15);
    nats_->Start();
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 20'000));

    // Bursar restarts: the publisher continues from its cursor. A clean stop stores the cursor
    // at what was acknowledged (while running it is stored at most once a second).
    const uint64_t published_to = engine_->committed_seq();
    publisher_.reset();
    auto cursor = PosixFileSystem().ReadFile(JetStreamPublisher::CursorPath(root_ + "/data"));
    ASSERT_TRUE(cursor);
    EXPECT_EQ(std::stoull(*cursor), published_to);
    engine_.reset();
    OpenBursar();
    Payments(10);
    ASSERT_TRUE(publisher_->WaitFor(engine_->committed_seq(), 10'000));

    const std::vector<std::string> ids = StreamIds();
    ASSERT_EQ(ids.size(), static_cast<size_t>(movements_));
    std::set<std::string> unique(ids.begin(), ids.end());
    EXPECT_EQ(unique.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], "evt_" + std::to_string(i + 1));
    EXPECT_GT(publisher_->stats().published, 0u);
}

}  // namespace
}  // namespace bursar::events
