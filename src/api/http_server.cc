// The listener (HttpServer::Impl), the io threads it starts, and Stop(). The connections' own
// files: http_session.h, websocket_session.h (README.md lists them all). Boost stays out of
// http_server.h and of every file that uses the server.

#include "api/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "api/http_session.h"
#include "api/io_thread.h"
#include "api/server_core.h"
#include "base/assert.h"
#include "base/thread.h"

namespace bursar::api {
namespace {

using http_internal::Connection;
using http_internal::Executor;
using http_internal::HttpSession;
using http_internal::IoThread;
using http_internal::Milliseconds;
using http_internal::ServerCore;
using http_internal::Socket;
using http_internal::tcp;
using http_internal::Timer;
namespace asio = boost::asio;
namespace beast = boost::beast;

// Pending connections the kernel queues before accept().
constexpr int kListenBacklog = 1024;
// After a failed accept (e.g. out of file descriptors) the listener waits this long to retry.
constexpr uint32_t kAcceptRetryDelayMs = 100;
// Stop(): how long closing every connection may take once the graceful wait is over.
constexpr uint32_t kHardCloseWaitMs = 1'000;
// header_bytes_max, at least.
constexpr uint32_t kHeaderBytesMin = 256;

}  // namespace

// The listener and the io threads: accepts on the first io thread and hands each connection to
// the next io thread in turn.
class HttpServer::Impl {
  public:
    Impl(HttpServerOptions options, Handler handler)
        : io_threads_(MakeIoThreads(options.io_threads)),
          acceptor_(io_threads_[0]->context()),
          accept_retry_timer_(io_threads_[0]->executor()),
          core_(std::move(options), std::move(handler)) {}

    Status Start();
    void Stop();
    void SetUpgradeHandler(std::string path, UpgradeHandler handler);
    uint16_t port() const { return port_.load(); }
    HttpServerStats stats() const;

  private:
    static std::vector<std::unique_ptr<IoThread>> MakeIoThreads(uint32_t count);
    Status ValidateOptions() const;
    void Accept();
    void OnAccept(beast::error_code error, Socket socket, IoThread& io_thread);
    bool OnIoThread() const;

    // First member: destroyed last, after everything that uses it. The listener runs on the
    // first; connections go to each in turn.
    std::vector<std::unique_ptr<IoThread>> io_threads_;
    size_t next_io_thread_ = 0;  // the listener's
    asio::basic_socket_acceptor<tcp, Executor> acceptor_;
    Timer accept_retry_timer_;
    ServerCore core_;
    std::vector<std::thread> threads_;
    std::atomic<uint16_t> port_{0};
    bool started_ = false;
    bool stopped_ = false;
};

std::vector<std::unique_ptr<IoThread>> HttpServer::Impl::MakeIoThreads(uint32_t count) {
    std::vector<std::unique_ptr<IoThread>> io_threads;
    const uint32_t bounded = std::clamp<uint32_t>(count, 1, kIoThreadsMax);  // validated in Start()
    for (uint32_t i = 0; i < bounded; i++) io_threads.push_back(std::make_unique<IoThread>());
    return io_threads;
}

Status HttpServer::Impl::ValidateOptions() const {
    const HttpServerOptions& options = core_.options;
    if (!core_.handler) return Status(StatusCode::kInvalidArgument, "http: no handler");
    if (options.io_threads < 1 || options.io_threads > kIoThreadsMax) {
        return Status(StatusCode::kInvalidArgument,
                      "http: io_threads must be 1.." + std::to_string(kIoThreadsMax));
    }
    if (options.header_bytes_max < kHeaderBytesMin) {
        return Status(StatusCode::kInvalidArgument,
                      "http: header_bytes_max must be at least " + std::to_string(kHeaderBytesMin));
    }
    if (options.connections_max < 1 || options.request_timeout_ms < 1 ||
        options.idle_timeout_ms < 1 || options.write_timeout_ms < 1) {
        return Status(StatusCode::kInvalidArgument,
                      "http: connections_max and every timeout must be positive");
    }
    if (options.websocket_message_bytes_max < 1 || options.websocket_send_queue_messages_max < 1 ||
        options.websocket_send_queue_bytes_max < 1 || options.websocket_ping_interval_ms < 1) {
        return Status(StatusCode::kInvalidArgument,
                      "http: every websocket limit and interval must be positive");
    }
    return Status::Ok();
}

Status HttpServer::Impl::Start() {
    if (started_ || stopped_) {
        return Status(StatusCode::kInvalidArgument, "http: the server was already started");
    }
    BURSAR_RETURN_IF_ERROR(ValidateOptions());
    beast::error_code error;
    const asio::ip::address address = asio::ip::make_address(core_.options.address, error);
    if (error) {
        return Status(StatusCode::kInvalidArgument,
                      "http: bad listen address '" + core_.options.address + "'");
    }
    const tcp::endpoint endpoint(address, core_.options.port);
    const std::string where = core_.options.address + ":" + std::to_string(core_.options.port);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(kListenBacklog, error);
    if (error) {
        beast::error_code ignored;
        acceptor_.close(ignored);
        return Status(StatusCode::kIoError,
                      "http: cannot listen on " + where + ": " + error.message());
    }
    port_.store(acceptor_.local_endpoint(error).port());
    started_ = true;
    Accept();
    threads_.reserve(io_threads_.size());
    for (const std::unique_ptr<IoThread>& io_thread : io_threads_) {
        threads_.emplace_back([context = &io_thread->context()] {
            SetCurrentThreadName("io");
            // Runs until Stop(), also while it has nothing to do.
            auto work = asio::make_work_guard(*context);
            context->run();
        });
    }
    return Status::Ok();
}

void HttpServer::Impl::SetUpgradeHandler(std::string path, UpgradeHandler handler) {
    BURSAR_ASSERT(!started_ && !stopped_);
    BURSAR_ASSERT(!path.empty() && path[0] == '/' && handler);
    BURSAR_ASSERT(core_.upgrade_handlers.size() < kUpgradePathsMax);
    const bool inserted =
        core_.upgrade_handlers.emplace(std::move(path), std::move(handler)).second;
    BURSAR_ASSERT(inserted);
}

void HttpServer::Impl::Accept() {
    IoThread& io_thread = *io_threads_[next_io_thread_];
    next_io_thread_ = (next_io_thread_ + 1) % io_threads_.size();
    acceptor_.async_accept(io_thread.context(),
                           [this, &io_thread](beast::error_code error, Socket socket) {
                               OnAccept(error, std::move(socket), io_thread);
                           });
}

void HttpServer::Impl::OnAccept(beast::error_code error, Socket socket, IoThread& io_thread) {
    if (core_.stopping() || !acceptor_.is_open()) return;
    if (error) {
        core_.Log("http: accept failed: " + error.message());
        accept_retry_timer_.expires_after(Milliseconds(kAcceptRetryDelayMs));
        accept_retry_timer_.async_wait([this](beast::error_code wait_error) {
            if (!wait_error && !core_.stopping()) Accept();
        });
        return;
    }
    // Every response and WebSocket message is written whole, at once: waiting to coalesce it with
    // later bytes (Nagle) could only delay it, up to the peer's delayed acknowledgment.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const std::shared_ptr<HttpSession> session =
        core_.registry.Register([&](uint64_t id, bool rejected) {
            return std::make_shared<HttpSession>(core_, io_thread, std::move(socket), id, rejected);
        });
    if (session != nullptr) session->Start();
    Accept();
}

bool HttpServer::Impl::OnIoThread() const {
    for (const std::thread& thread : threads_) {
        if (thread.get_id() == std::this_thread::get_id()) return true;
    }
    return false;
}

void HttpServer::Impl::Stop() {
    if (!started_ || stopped_) {
        stopped_ = true;
        return;
    }
    stopped_ = true;
    BURSAR_ASSERT(!OnIoThread());  // Stop() joins the io threads

    core_.registry.BeginStopping();
    asio::post(acceptor_.get_executor(), [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
        accept_retry_timer_.cancel();
    });
    for (const std::shared_ptr<Connection>& session : core_.registry.Live()) {
        session->BeginShutdown();
    }
    core_.registry.WaitForNone(core_.options.shutdown_timeout_ms);

    for (const std::shared_ptr<Connection>& session : core_.registry.Live()) session->HardClose();
    core_.registry.WaitForNone(kHardCloseWaitMs);

    for (const std::unique_ptr<IoThread>& io_thread : io_threads_) io_thread->context().stop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    // No io thread runs now: what is left is closed from here. Handlers still queued in the
    // io_context are destroyed with it, and the sessions they hold with them.
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (const std::shared_ptr<Connection>& session : core_.registry.Live()) session->Close();
    BURSAR_ASSERT(core_.registry.Live().empty());
}

HttpServerStats HttpServer::Impl::stats() const {
    HttpServerStats stats;
    stats.requests = core_.requests.load(std::memory_order_relaxed);
    stats.responses_1xx = core_.responses_by_class[0].load(std::memory_order_relaxed);
    stats.responses_2xx = core_.responses_by_class[1].load(std::memory_order_relaxed);
    stats.responses_3xx = core_.responses_by_class[2].load(std::memory_order_relaxed);
    stats.responses_4xx = core_.responses_by_class[3].load(std::memory_order_relaxed);
    stats.responses_5xx = core_.responses_by_class[4].load(std::memory_order_relaxed);
    stats.connections_accepted = core_.registry.connections_accepted();
    stats.connections_open = core_.registry.connections_open();
    stats.connections_rejected = core_.registry.connections_rejected();
    stats.websocket_connections_accepted =
        core_.websocket_connections_accepted.load(std::memory_order_relaxed);
    stats.websocket_connections_open =
        core_.websocket_connections_open.load(std::memory_order_relaxed);
    stats.websocket_connections_closed_slow =
        core_.websocket_connections_closed_slow.load(std::memory_order_relaxed);
    return stats;
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }

void HttpServer::SetUpgradeHandler(std::string path, UpgradeHandler handler) {
    impl_->SetUpgradeHandler(std::move(path), std::move(handler));
}

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

HttpServerStats HttpServer::stats() const { return impl_->stats(); }

}  // namespace bursar::api
