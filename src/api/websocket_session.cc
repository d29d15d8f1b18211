#include "api/websocket_session.h"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "api/server_core.h"
#include "api/websocket_protocol.h"
#include "base/assert.h"

namespace bursar::api::http_internal {
namespace {

// RFC 6455 (websocket_protocol.h) and the close codes of this server.
using namespace rfc6455;  // NOLINT(google-build-using-namespace): the protocol's constants
constexpr int kSwitchingProtocolsStatus = 101;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseMessageTooBig = 1009;

// base64(SHA-1(key + kGuid)): what proves to the client that the server speaks WebSocket.
std::string WebSocketAcceptKey(std::string_view key) {
    std::string text(key);
    text += kGuid;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_bytes = 0;
    BURSAR_ASSERT(
        EVP_Digest(text.data(), text.size(), digest, &digest_bytes, EVP_sha1(), nullptr) == 1);
    unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    const int encoded_bytes = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_bytes));
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(encoded_bytes));
}

}  // namespace

WebSocketSession::WebSocketSession(ServerCore& core, IoThread& io_thread, uint64_t id,
                                   std::string request_id, std::shared_ptr<WebSocketOutbox> outbox)
    : core_(core),
      io_thread_(io_thread),
      timer_(io_thread.executor()),
      id_(id),
      request_id_(std::move(request_id)),
      outbox_(std::move(outbox)),
      parser_(core.options.websocket_message_bytes_max) {}

void WebSocketSession::Start(Socket socket, std::string_view key) {
    BURSAR_ASSERT(state_ == State::kNew);
    // A bounded kernel send buffer: a client that stops reading fills it and then the send queue,
    // and is closed as too slow, instead of pinning megabytes of kernel memory (Linux grows an
    // unbounded socket buffer up to tcp_wmem's maximum, 4 MiB by default).
    beast::error_code ignored;
    socket.set_option(asio::socket_base::send_buffer_size(
                          static_cast<int>(core_.options.websocket_socket_send_buffer_bytes)),
                      ignored);
    socket_.emplace(std::move(socket));
    output_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    output_ += "Sec-WebSocket-Accept: " + WebSocketAcceptKey(key) + "\r\n";
    output_ += "X-Request-Id: " + request_id_ + "\r\n\r\n";
    output_written_ = 0;
    state_ = State::kHandshake;
    if (WriteOutput()) OnHandshakeWritten();
}

void WebSocketSession::OnHandshakeWritten() {
    core_.CountResponse(kSwitchingProtocolsStatus);
    core_.websocket_connections_accepted.fetch_add(1, std::memory_order_relaxed);
    core_.websocket_connections_open.fetch_add(1);
    counted_open_ = true;
    state_ = State::kOpen;
    last_heard_ = SteadyClock::now();
    if (!outbox_->Attach(shared_from_this())) {
        Close();
        return;
    }
    Read();
    WriteNext();
}

void WebSocketSession::Read() {
    socket_->async_read_some(asio::buffer(read_buffer_),
                             [self = shared_from_this()](beast::error_code error, size_t bytes) {
                                 self->OnRead(error, bytes);
                             });
}

void WebSocketSession::OnRead(beast::error_code error, size_t bytes) {
    if (state_ == State::kClosed) return;
    if (error) {
        Close();  // the peer went away (or closed its end after the closing handshake)
        return;
    }
    last_heard_ = SteadyClock::now();
    pinged_ = false;
    parser_.Append(std::string_view(read_buffer_.data(), bytes));
    HandleInput();
    if (state_ != State::kClosed) Read();
}

void WebSocketSession::HandleInput() {
    while (state_ != State::kClosed) {
        const WebSocketFrameEvent event = parser_.Next();
        switch (event.kind) {
            case WebSocketFrameEventKind::kNeedMore:
                return;
            case WebSocketFrameEventKind::kDataFrame:
                break;  // what the client says is not listened to: its payload is skipped
            case WebSocketFrameEventKind::kMessageTooBig:
                StartClose(kCloseMessageTooBig, "message too big", /*too_slow=*/false);
                break;
            case WebSocketFrameEventKind::kControlFrame:
                HandleControlFrame(event.opcode, event.payload);
                break;
            case WebSocketFrameEventKind::kProtocolError:
                FailProtocol(Describe(event.error));
                return;
        }
    }
}

void WebSocketSession::HandleControlFrame(uint8_t opcode, std::string_view payload) {
    switch (opcode) {
        case kOpcodePing:
            pong_.assign(payload);
            pong_due_ = true;
            WriteNext();
            return;
        case kOpcodePong:
            return;  // hearing from the peer is what counts
        case kOpcodeClose: {
            peer_closed_ = true;
            if (close_written_ || close_due_.has_value()) {
                // The closing handshake is complete once our close frame is out.
                if (close_written_ && !writing_) Close();
                return;
            }
            // The peer closes first: answer with its code, then close the connection.
            uint16_t code = WebSocketSink::kCloseNormal;
            if (payload.size() >= 2) {
                code = static_cast<uint16_t>(static_cast<uint8_t>(payload[0]) << 8 |
                                             static_cast<uint8_t>(payload[1]));
            }
            close_due_ = CloseFrame{.code = code, .reason = {}};
            WriteNext();
            return;
        }
        default:
            return;
    }
}

void WebSocketSession::FailProtocol(std::string_view what) {
    core_.Log("websocket: " + std::string(what) + " from the client; request " + request_id_);
    // The frames can no longer be told apart (the parser reads no more): no closing handshake is
    // waited for.
    peer_closed_ = true;
    StartClose(kCloseProtocolError, "protocol error", /*too_slow=*/false);
}

void WebSocketSession::StartClose(uint16_t code, std::string_view reason, bool too_slow) {
    if (close_written_ || close_due_.has_value() || state_ == State::kClosed) return;
    if (too_slow) {
        core_.websocket_connections_closed_slow.fetch_add(1, std::memory_order_relaxed);
        core_.Log("websocket: closing a client too slow to read; request " + request_id_);
    }
    close_due_ = CloseFrame{.code = code, .reason = WebSocketCloseReason(std::string(reason))};
    WriteNext();
}

void WebSocketSession::WriteNext() {
    if (writing_ || (state_ != State::kOpen && state_ != State::kClosing)) return;
    while (true) {
        output_.clear();
        output_written_ = 0;
        if (pong_due_) {
            AppendWebSocketFrame(&output_, kOpcodePong, pong_);
            pong_due_ = false;
        }
        if (ping_due_) {
            AppendWebSocketFrame(&output_, kOpcodePing, {});
            ping_due_ = false;
        }
        if (!close_written_) {
            // Nothing follows a close frame: the messages queued after it are not sent.
            if (!close_due_.has_value()) {
                outbox_->TakeNext(&next_);
                for (const std::string& message : next_.messages) {
                    AppendWebSocketFrame(&output_, kOpcodeText, message);
                }
                if (next_.close.has_value()) {
                    if (next_.close->too_slow) {
                        core_.websocket_connections_closed_slow.fetch_add(
                            1, std::memory_order_relaxed);
                        core_.Log("websocket: closing a client too slow to read; request " +
                                  request_id_);
                    }
                    close_due_ = CloseFrame{.code = next_.close->code,
                                            .reason = std::move(next_.close->reason)};
                }
            }
            if (close_due_.has_value()) {
                AppendWebSocketCloseFrame(&output_, close_due_->code, close_due_->reason);
                close_due_.reset();
                close_written_ = true;
                state_ = State::kClosing;
                closing_deadline_ =
                    SteadyClock::now() + Milliseconds(core_.options.write_timeout_ms);
            }
        }
        if (output_.empty()) {
            ScheduleTimer();
            return;
        }
        if (!WriteOutput()) return;  // the rest is written asynchronously, or it failed
        if (close_written_ && peer_closed_) {
            Close();
            return;
        }
    }
}

bool WebSocketSession::WriteOutput() {
    beast::error_code error;
    size_t written = socket_->write_some(
        asio::buffer(output_.data() + output_written_, output_.size() - output_written_), error);
    if (error == asio::error::would_block) {
        error.clear();
        written = 0;
    }
    if (error) {
        Close();
        return false;
    }
    output_written_ += written;
    if (output_written_ == output_.size()) return true;
    // The socket's buffer is full: the rest when it has room, within write_timeout_ms.
    writing_ = true;
    write_deadline_ = SteadyClock::now() + Milliseconds(core_.options.write_timeout_ms);
    ScheduleTimer();
    asio::async_write(
        *socket_, asio::buffer(output_.data() + output_written_, output_.size() - output_written_),
        [self = shared_from_this()](beast::error_code write_error, size_t) {
            self->OnWritten(write_error);
        });
    return false;
}

void WebSocketSession::OnWritten(beast::error_code error) {
    writing_ = false;
    if (state_ == State::kClosed) return;
    if (error) {
        Close();
        return;
    }
    if (state_ == State::kHandshake) {
        OnHandshakeWritten();
        return;
    }
    if (close_written_ && peer_closed_) {
        Close();
        return;
    }
    WriteNext();
}

void WebSocketSession::ScheduleTimer() {
    if (state_ == State::kClosed || state_ == State::kNew) return;
    const Milliseconds ping_interval(core_.options.websocket_ping_interval_ms);
    SteadyClock::time_point next = SteadyClock::time_point::max();
    if (writing_) next = std::min(next, write_deadline_);
    if (state_ == State::kClosing) next = std::min(next, closing_deadline_);
    if (state_ == State::kOpen) {
        next = std::min(next, last_heard_ + (pinged_ ? 2 * ping_interval : ping_interval));
    }
    if (next == SteadyClock::time_point::max()) return;
    timer_.Arm(next, [self = shared_from_this()] { self->OnTimer(); });
}

void WebSocketSession::OnTimer() {
    if (state_ == State::kClosed) return;
    const SteadyClock::time_point now = SteadyClock::now();
    if (writing_ && now >= write_deadline_) {
        if (state_ == State::kOpen) {
            core_.Log("websocket: a message was not written within " +
                      std::to_string(core_.options.write_timeout_ms) + " ms; request " +
                      request_id_);
        }
        Close();
        return;
    }
    if (state_ == State::kClosing && now >= closing_deadline_) {
        Close();
        return;
    }
    if (state_ == State::kOpen) {
        const Milliseconds ping_interval(core_.options.websocket_ping_interval_ms);
        if (now >= last_heard_ + 2 * ping_interval) {
            Close();  // nothing came, not even the answer to a ping: cut off
            return;
        }
        if (!pinged_ && now >= last_heard_ + ping_interval) {
            pinged_ = true;
            ping_due_ = true;
            WriteNext();
        }
    }
    ScheduleTimer();
}

void WebSocketSession::BeginShutdown() {
    outbox_->Close(WebSocketSink::kCloseGoingAway, "going away");
}

void WebSocketSession::HardClose() {
    asio::post(io_thread_.executor(), [self = shared_from_this()] { self->Close(); });
}

void WebSocketSession::Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    timer_.Cancel();
    if (socket_.has_value()) {
        beast::error_code ignored;
        socket_->close(ignored);
    }
    outbox_->Detach();
    if (counted_open_) {
        BURSAR_ASSERT(core_.websocket_connections_open.load() > 0);
        core_.websocket_connections_open.fetch_sub(1);
    }
    // The socket and the buffers stay: operations still pending refer to them, and complete
    // (aborted) later on the io thread, where they find the state closed.
    core_.registry.Unregister(id_, /*rejected=*/false);
}

}  // namespace bursar::api::http_internal
