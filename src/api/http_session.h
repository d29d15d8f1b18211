#pragma once

// Private to bursar_api_http (it includes Boost): no header of another library includes it.

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/connection_registry.h"
#include "api/http.h"
#include "api/io_thread.h"
#include "api/lazy_timer.h"

namespace bursar::api::http_internal {

namespace beast = boost::beast;
namespace http = beast::http;

class ReplySlot;
struct ServerCore;

// One HTTP connection. Every member function runs on the session's io thread, except where
// noted.
//
// Reads are readiness-driven: the session waits until the socket is readable, then parses what a
// non-blocking read brings; a response is written at once when the socket takes it whole (the
// usual case), else asynchronously. Timeouts use one deadline per state and one timer that is
// re-armed only when a deadline comes before the time it is armed for, so a keep-alive request
// costs no timer operation.
class HttpSession final : public Connection, public std::enable_shared_from_this<HttpSession> {
  public:
    HttpSession(ServerCore& core, IoThread& io_thread, Socket socket, uint64_t id, bool rejected);

    uint64_t id() const { return id_; }
    bool rejected() const { return rejected_; }
    IoThread& io_thread() const { return io_thread_; }  // any thread

    // Any thread: each posts to the io thread.
    void Start();
    void BeginShutdown() override;
    void HardClose() override;

    void OnHandlerResponse(uint64_t request_number, HttpResponse response);
    // The upgrade handler accepted: the socket goes to a WebSocketSession.
    void OnUpgradeAccepted(uint64_t request_number);
    // Also called by Stop() once the io threads are joined.
    void Close() override;

  private:
    enum class State {
        kNew,
        kWaitingRequest,   // keep-alive idle, or a new connection: no byte of a request yet
        kReadingRequest,   // request_timeout_ms runs
        kAwaitingHandler,  // request_timeout_ms runs
        kWritingResponse,  // write_timeout_ms runs
        kLingering,        // the last response is written; draining what the client still sends
        kUpgraded,         // the socket and the place in the registry went to a WebSocketSession
        kClosed,
    };

    void WaitForRequest();
    void WaitReadable();
    void OnReadable(beast::error_code error);
    void StartRequest();
    void ReadRequest();
    void OnContinueWritten(beast::error_code error);
    void OnReadFailed(beast::error_code error);
    void OnRequest();
    void WriteResponse(HttpResponse response, bool close);
    void WriteError(const HttpError& error, std::string_view message, bool close);
    void OnWritten(beast::error_code error);
    void Linger();
    void ReadLinger();
    void OnLingerRead(beast::error_code error, size_t bytes);
    void DetachReply();
    // The state's deadline is `timeout_ms` from now.
    void SetDeadline(uint32_t timeout_ms);
    void ArmTimer();
    void OnTimer();

    ServerCore& core_;
    IoThread& io_thread_;
    Socket socket_;
    LazyTimer timer_;
    SteadyClock::time_point deadline_{};  // of the current state
    const uint64_t id_;
    const bool rejected_;  // over connections_max: answer 503 and close
    std::string remote_address_;

    State state_ = State::kNew;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    bool continue_checked_ = false;  // Expect: 100-continue looked at for the request being read
    std::string output_;             // the response being written: head, then body
    size_t output_written_ = 0;      // bytes of output_ the socket took synchronously
    bool timed_out_ = false;         // the request timer fired while reading
    bool served_any_ = false;
    bool close_after_write_ = false;
    size_t lingered_bytes_ = 0;

    // The request being answered.
    uint64_t request_number_ = 0;
    unsigned version_ = 11;
    bool keep_alive_ = false;
    bool head_request_ = false;
    std::string request_id_;
    std::shared_ptr<ReplySlot> reply_slot_;
    // An upgrade request, from its arrival to the upgrade handler's answer.
    std::optional<http::request<http::string_body>> upgrade_request_;
};

}  // namespace bursar::api::http_internal
