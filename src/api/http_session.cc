#include "api/http_session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <exception>
#include <utility>

#include "api/reply_slot.h"
#include "api/server_core.h"
#include "api/websocket_outbox.h"
#include "api/websocket_session.h"
#include "base/assert.h"

namespace bursar::api::http_internal {
namespace {

namespace websocket = beast::websocket;

// Room in a session's read buffer beyond header_bytes_max: one read may bring this much more.
constexpr size_t kReadBufferSlackBytes = 64 << 10;
// A response head (status line and headers) is built in a string reserved this large.
constexpr size_t kResponseHeadBytes = 256;
// After the last response of a connection the session stops sending and reads what the client
// still sends, so that closing does not reset the connection and destroy that response before
// the client reads it. Bounded in time and bytes.
constexpr uint32_t kLingerTimeoutMs = 2'000;
constexpr size_t kLingerBytesMax = 256 << 10;
constexpr size_t kLingerChunkBytes = 4 << 10;
constexpr size_t kRequestIdBytesMax = 64;
// A handler's status must be a final one.
constexpr int kStatusMin = 200;
constexpr int kStatusMax = 599;
constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kWebSocketVersion = "13";
// A Sec-WebSocket-Key is the base64 of 16 bytes.
constexpr size_t kWebSocketKeyBytesMax = 24;

bool IsTokenCharacter(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidHeaderName(std::string_view name) {
    if (name.empty()) return false;
    for (const char c : name) {
        if (!IsTokenCharacter(c)) return false;
    }
    return true;
}

bool IsValidHeaderValue(std::string_view value) {
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t') || byte == 0x7F) return false;
    }
    return true;
}

// Headers the server writes itself.
bool IsServerOwnedHeader(std::string_view name) {
    return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
           beast::iequals(name, "connection") || beast::iequals(name, "x-request-id");
}

bool IsValidRequestId(std::string_view id) {
    if (id.empty() || id.size() > kRequestIdBytesMax) return false;
    for (const char c : id) {
        const bool alphanumeric =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alphanumeric && c != '-' && c != '_' && c != '.' && c != ':') return false;
    }
    return true;
}

// What Beast's handshake checks beyond websocket::is_upgrade(): a bad upgrade request gets 400
// before the upgrade handler sees it, rather than failing after the handler accepted it.
bool IsValidWebSocketUpgrade(const http::request<http::string_body>& request) {
    const std::string_view key = request[http::field::sec_websocket_key];
    return !key.empty() && key.size() <= kWebSocketKeyBytesMax &&
           request[http::field::sec_websocket_version] == kWebSocketVersion;
}

std::string Lowercase(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return lower;
}

}  // namespace

HttpSession::HttpSession(ServerCore& core, IoThread& io_thread, Socket socket, uint64_t id,
                         bool rejected)
    : core_(core),
      io_thread_(io_thread),
      socket_(std::move(socket)),
      timer_(io_thread.executor()),
      id_(id),
      rejected_(rejected),
      buffer_(core.options.header_bytes_max + kReadBufferSlackBytes) {
    beast::error_code error;
    const tcp::endpoint remote = socket_.remote_endpoint(error);
    if (!error) remote_address_ = remote.address().to_string();
    // Reads and writes are tried at once and come back with would_block instead of waiting.
    socket_.non_blocking(true, error);
    output_.reserve(kResponseHeadBytes);
}

void HttpSession::Start() {
    asio::post(io_thread_.executor(), [self = shared_from_this()] {
        if (self->state_ != State::kNew) return;  // Stop() closed it first
        if (!self->rejected_) {
            self->WaitForRequest();
            return;
        }
        self->request_id_ = self->core_.NewRequestId();
        HttpResponse response = ErrorResponse(kServerBusy, "too many connections; retry later");
        response.headers.emplace_back("Retry-After", "1");
        self->WriteResponse(std::move(response), /*close=*/true);
    });
}

void HttpSession::BeginShutdown() {
    asio::post(io_thread_.executor(), [self = shared_from_this()] {
        if (self->state_ == State::kWaitingRequest) self->Close();
    });
}

void HttpSession::HardClose() {
    asio::post(io_thread_.executor(), [self = shared_from_this()] { self->Close(); });
}

void HttpSession::Close() {
    if (state_ == State::kClosed || state_ == State::kUpgraded) return;
    state_ = State::kClosed;
    beast::error_code ignored;
    timer_.Cancel();
    socket_.close(ignored);
    DetachReply();
    // The parser, buffer and output stay: operations still pending refer to them, and complete
    // (aborted) later on the io thread, where they find the state closed.
    core_.registry.Unregister(id_, rejected_);
}

void HttpSession::WaitForRequest() {
    if (core_.stopping()) {
        Close();
        return;
    }
    if (buffer_.size() > 0) {  // the client sent the next request early
        StartRequest();
        ReadRequest();
        return;
    }
    state_ = State::kWaitingRequest;
    SetDeadline(served_any_ ? core_.options.idle_timeout_ms : core_.options.request_timeout_ms);
    WaitReadable();
}

void HttpSession::WaitReadable() {
    socket_.async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this()](beast::error_code error) { self->OnReadable(error); });
}

void HttpSession::OnReadable(beast::error_code error) {
    if (state_ != State::kWaitingRequest && state_ != State::kReadingRequest) return;
    if (error) {
        if (state_ == State::kWaitingRequest) {
            Close();
        } else {
            OnReadFailed(error);
        }
        return;
    }
    if (state_ == State::kWaitingRequest) StartRequest();
    ReadRequest();
}

void HttpSession::StartRequest() {
    state_ = State::kReadingRequest;
    timed_out_ = false;
    continue_checked_ = false;
    SetDeadline(core_.options.request_timeout_ms);
    parser_.emplace();
    parser_->header_limit(core_.options.header_bytes_max);
    parser_->body_limit(core_.options.body_bytes_max);
    parser_->eager(true);
}

// Parses what the buffer holds and what the socket has, until the request is whole, the socket
// has nothing more for now (then waits until it has), or something fails.
void HttpSession::ReadRequest() {
    while (true) {
        beast::error_code error;
        http::read_some(socket_, buffer_, *parser_, error);
        if (error == asio::error::would_block) {
            WaitReadable();
            return;
        }
        if (error) {
            OnReadFailed(error);
            return;
        }
        if (parser_->is_done()) {
            OnRequest();
            return;
        }
        if (parser_->is_header_done() && !continue_checked_) {
            continue_checked_ = true;
            const auto& message = parser_->get();
            if (message.version() == 11 &&
                beast::iequals(message[http::field::expect], "100-continue")) {
                asio::async_write(
                    socket_, asio::buffer(kContinueResponse.data(), kContinueResponse.size()),
                    [self = shared_from_this()](beast::error_code write_error, size_t) {
                        self->OnContinueWritten(write_error);
                    });
                return;
            }
        }
    }
}

void HttpSession::OnContinueWritten(beast::error_code error) {
    if (state_ != State::kReadingRequest) return;
    if (error) {
        Close();
        return;
    }
    ReadRequest();
}

void HttpSession::OnReadFailed(beast::error_code error) {
    request_id_ = core_.NewRequestId();
    version_ = 11;
    head_request_ = false;
    const bool received_some = parser_->got_some() || buffer_.size() > 0;
    if (timed_out_) {
        if (!received_some) {
            Close();
            return;
        }
        WriteError(kRequestTimeout,
                   "the request was not received within " +
                       std::to_string(core_.options.request_timeout_ms) + " ms",
                   /*close=*/true);
        return;
    }
    if (error == http::error::body_limit) {
        WriteError(
            kPayloadTooLarge,
            "the request body exceeds " + std::to_string(core_.options.body_bytes_max) + " bytes",
            /*close=*/true);
        return;
    }
    if (error == http::error::header_limit ||
        (error == http::error::buffer_overflow && !parser_->is_header_done())) {
        WriteError(kHeadersTooLarge,
                   "the request line and headers exceed " +
                       std::to_string(core_.options.header_bytes_max) + " bytes",
                   /*close=*/true);
        return;
    }
    if (error == http::error::end_of_stream || error == http::error::partial_message) {
        Close();  // the client went away
        return;
    }
    if (error.category() == http::make_error_code(http::error::bad_method).category()) {
        WriteError(kInvalidRequest, "malformed HTTP request: " + error.message(), /*close=*/true);
        return;
    }
    Close();  // a network error: nobody to answer
}

void HttpSession::OnRequest() {
    core_.requests.fetch_add(1, std::memory_order_relaxed);
    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const size_t question_mark = request.target.find('?');
    request.path = request.target.substr(0, question_mark);
    if (question_mark != std::string::npos)
        request.query = request.target.substr(question_mark + 1);
    for (const auto& field : message) {
        request.headers.emplace_back(Lowercase(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_address_;
    const UpgradeHandler* upgrade_handler =
        websocket::is_upgrade(message) ? core_.FindUpgradeHandler(request.path) : nullptr;
    const std::string* client_id = request.Header("x-request-id");
    request_id_ =
        client_id != nullptr && IsValidRequestId(*client_id) ? *client_id : core_.NewRequestId();
    request.request_id = request_id_;
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    head_request_ = message.method() == http::verb::head;
    upgrade_request_.reset();
    if (upgrade_handler != nullptr) upgrade_request_.emplace(parser_->release());
    parser_.reset();

    if (request.path.empty() || request.path[0] != '/') {
        WriteError(kInvalidRequest, "the request target must be a path", /*close=*/true);
        return;
    }
    if (upgrade_handler != nullptr && !IsValidWebSocketUpgrade(*upgrade_request_)) {
        upgrade_request_.reset();
        WriteError(kInvalidRequest,
                   "a WebSocket upgrade needs a Sec-WebSocket-Key and Sec-WebSocket-Version: 13",
                   /*close=*/true);
        return;
    }
    state_ = State::kAwaitingHandler;
    request_number_++;
    SetDeadline(core_.options.request_timeout_ms);
    reply_slot_ = std::make_shared<ReplySlot>(
        shared_from_this(), request_number_,
        WebSocketOutbox::Limits{.messages_max = core_.options.websocket_send_queue_messages_max,
                                .bytes_max = core_.options.websocket_send_queue_bytes_max});
    // Accept and reject share one token: dropping both unused answers 500.
    const auto token = std::make_shared<ResponderToken>(reply_slot_);
    const Responder responder = [token](HttpResponse response) {
        token->slot->Deliver(std::move(response));
    };
    // Exceptions stop here: a handler that throws answers 500, the io thread goes on. The copy
    // kept here outlives the handler's, so that a throw is not taken for a dropped Responder.
    try {
        if (upgrade_handler != nullptr) {
            WebSocketAccept accept = [token] { return token->slot->Accept(); };
            (*upgrade_handler)(std::move(request), std::move(accept), responder);
        } else {
            core_.handler(std::move(request), responder);
        }
    } catch (const std::exception& exception) {
        core_.Log(std::string("http: handler threw: ") + exception.what());
        responder(ErrorResponse(kInternalError, "the handler failed"));
    } catch (...) {
        core_.Log("http: handler threw a non-standard exception");
        responder(ErrorResponse(kInternalError, "the handler failed"));
    }
}

void HttpSession::OnHandlerResponse(uint64_t request_number, HttpResponse response) {
    if (state_ != State::kAwaitingHandler || request_number != request_number_) return;
    reply_slot_.reset();
    WriteResponse(std::move(response), !keep_alive_ || core_.stopping());
}

void HttpSession::OnUpgradeAccepted(uint64_t request_number) {
    if (state_ != State::kAwaitingHandler || request_number != request_number_) return;
    std::shared_ptr<WebSocketOutbox> outbox = reply_slot_->TakeAccepted();
    reply_slot_.reset();
    BURSAR_ASSERT(outbox != nullptr && upgrade_request_.has_value());
    auto websocket =
        std::make_shared<WebSocketSession>(core_, io_thread_, id_, request_id_, outbox);
    if (!core_.registry.Replace(id_, websocket)) {
        outbox->Detach();
        upgrade_request_.reset();
        WriteError(kServerBusy, "the server is stopping", /*close=*/true);
        return;
    }
    state_ = State::kUpgraded;
    timer_.Cancel();
    // Whatever the client sent after the upgrade request is dropped: it may send no frame
    // before the handshake's answer.
    buffer_.consume(buffer_.size());
    const std::string key(upgrade_request_->at(http::field::sec_websocket_key));
    upgrade_request_.reset();
    websocket->Start(std::move(socket_), key);
}

void HttpSession::WriteError(const HttpError& error, std::string_view message, bool close) {
    WriteResponse(ErrorResponse(error, message), close);
}

void HttpSession::WriteResponse(HttpResponse response, bool close) {
    BURSAR_ASSERT(state_ != State::kClosed && state_ != State::kWritingResponse);
    bool valid = response.status >= kStatusMin && response.status <= kStatusMax &&
                 IsValidHeaderValue(response.content_type);
    for (const auto& [name, value] : response.headers) {
        valid = valid && IsValidHeaderName(name) && IsValidHeaderValue(value);
    }
    if (!valid) {
        core_.Log("http: handler answered an invalid status or header; request " + request_id_);
        response = ErrorResponse(kInternalError, "the handler gave an invalid response");
    }

    std::string& out = output_;
    out.clear();
    out += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(response.status);
    out += ' ';
    out += http::obsolete_reason(static_cast<http::status>(response.status));
    out += "\r\n";
    auto header = [&out](std::string_view name, std::string_view value) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    };
    if (!response.content_type.empty()) header("Content-Type", response.content_type);
    for (const auto& [name, value] : response.headers) {
        if (!IsServerOwnedHeader(name)) header(name, value);
    }
    header("X-Request-Id", request_id_);
    if (close) {
        header("Connection", "close");
    } else if (version_ == 10) {
        header("Connection", "keep-alive");
    }
    const bool no_body = response.status == 204 || response.status == 304;
    if (!no_body) header("Content-Length", std::to_string(response.body.size()));
    out += "\r\n";
    if (!no_body && !head_request_) out += response.body;
    core_.CountResponse(response.status);

    state_ = State::kWritingResponse;
    close_after_write_ = close;
    beast::error_code error;
    output_written_ = socket_.write_some(asio::buffer(output_), error);
    if (error == asio::error::would_block) {
        error.clear();
        output_written_ = 0;
    }
    if (error || output_written_ == output_.size()) {
        OnWritten(error);
        return;
    }
    // The socket's buffer is full: the rest when it has room, within write_timeout_ms.
    SetDeadline(core_.options.write_timeout_ms);
    asio::async_write(
        socket_, asio::buffer(output_.data() + output_written_, output_.size() - output_written_),
        [self = shared_from_this()](beast::error_code write_error, size_t) {
            self->OnWritten(write_error);
        });
}

void HttpSession::OnWritten(beast::error_code error) {
    if (state_ != State::kWritingResponse) return;
    if (error) {
        Close();
        return;
    }
    served_any_ = true;
    if (close_after_write_) {
        Linger();
        return;
    }
    WaitForRequest();
}

void HttpSession::Linger() {
    state_ = State::kLingering;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    lingered_bytes_ = 0;
    SetDeadline(kLingerTimeoutMs);
    ReadLinger();
}

void HttpSession::ReadLinger() {
    socket_.async_read_some(buffer_.prepare(kLingerChunkBytes),
                            [self = shared_from_this()](beast::error_code error, size_t bytes) {
                                self->OnLingerRead(error, bytes);
                            });
}

void HttpSession::OnLingerRead(beast::error_code error, size_t bytes) {
    if (state_ != State::kLingering) return;
    lingered_bytes_ += bytes;
    if (error || lingered_bytes_ > kLingerBytesMax) {
        Close();
        return;
    }
    ReadLinger();
}

void HttpSession::DetachReply() {
    if (reply_slot_ == nullptr) return;
    reply_slot_->Detach();
    reply_slot_.reset();
}

void HttpSession::SetDeadline(uint32_t timeout_ms) {
    deadline_ = SteadyClock::now() + Milliseconds(timeout_ms);
    ArmTimer();
}

void HttpSession::ArmTimer() {
    timer_.Arm(deadline_, [self = shared_from_this()] { self->OnTimer(); });
}

void HttpSession::OnTimer() {
    if (state_ == State::kNew || state_ == State::kUpgraded || state_ == State::kClosed) return;
    if (SteadyClock::now() < deadline_) {
        ArmTimer();
        return;
    }
    switch (state_) {
        case State::kReadingRequest: {
            // The pending wait completes, aborted, and answers 408 when part of a request came.
            timed_out_ = true;
            beast::error_code ignored;
            socket_.cancel(ignored);
            return;
        }
        case State::kAwaitingHandler:
            DetachReply();
            WriteError(kHandlerTimeout,
                       "the handler did not answer within " +
                           std::to_string(core_.options.request_timeout_ms) + " ms",
                       !keep_alive_ || core_.stopping());
            return;
        case State::kWaitingRequest:   // idle too long
        case State::kWritingResponse:  // the client does not read
        case State::kLingering:
            Close();
            return;
        case State::kNew:
        case State::kUpgraded:
        case State::kClosed:
            return;
    }
}

}  // namespace bursar::api::http_internal
