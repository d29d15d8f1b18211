#pragma once

// The HTTP server's io threads, and the Asio types of the connections that run on them.
// Private to bursar_api_http (it includes Boost): no header of another library includes it.

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "api/http.h"

namespace bursar::api::http_internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Milliseconds = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
// Each io thread runs its own io_context, and a connection lives on one of them from accept to
// close: its handlers never run concurrently, so no strand is needed, and the executor is the
// io_context's own (no type erasure).
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Timer = asio::basic_waitable_timer<SteadyClock, asio::wait_traits<SteadyClock>, Executor>;

class HttpSession;

// One io thread: its io_context, and the answers other threads hand to its connections. Answers
// are queued and the thread is woken once for all that arrive until it runs (a batch of the
// engine completes many requests at once), instead of once per answer.
class IoThread {
  public:
    IoThread() : context_(1) {}
    asio::io_context& context() { return context_; }
    Executor executor() { return context_.get_executor(); }
    // Any thread. The session's OnHandlerResponse() runs on this thread later.
    void Deliver(std::shared_ptr<HttpSession> session, uint64_t request_number,
                 HttpResponse response);

  private:
    struct Delivery {
        std::shared_ptr<HttpSession> session;
        uint64_t request_number;
        HttpResponse response;
    };
    void Drain();  // the io thread

    // First member: destroyed last, after the sessions the deliveries hold.
    asio::io_context context_;
    std::mutex mutex_;
    std::vector<Delivery> inbox_;     // guarded
    bool drain_posted_ = false;       // guarded
    std::vector<Delivery> draining_;  // the io thread's; swapped with inbox_ to keep both buffers
};

}  // namespace bursar::api::http_internal
