#pragma once

// Private to bursar_api_http (it includes Boost): no header of another library includes it.

#include <array>
#include <boost/beast/core/error.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/connection_registry.h"
#include "api/io_thread.h"
#include "api/lazy_timer.h"
#include "api/websocket_frame.h"
#include "api/websocket_outbox.h"

namespace bursar::api::http_internal {

namespace beast = boost::beast;

struct ServerCore;

// One WebSocket connection: it took an upgraded HTTP session's socket and place in the registry.
// The frames are the server's own (websocket_frame.h; RFC 6455, no extensions): unmasked, and a
// write sends every message queued in the outbox at once, one frame each, in one system call
// where the socket takes it (a batch of events costs one write, not one per event). It reads only
// to answer control frames (pings, the close) and to notice the peer going away: what the client
// sends is skipped, a message over websocket_message_bytes_max closes with 1009, a frame that
// breaks the protocol with 1002. It pings a peer it heard nothing from for
// websocket_ping_interval_ms and cuts it off after another interval. Every member function runs
// on the io thread, except where noted.
class WebSocketSession final : public Connection,
                               public std::enable_shared_from_this<WebSocketSession> {
  public:
    // What one read takes at most.
    static constexpr size_t kReadBytes = 4 << 10;

    WebSocketSession(ServerCore& core, IoThread& io_thread, uint64_t id, std::string request_id,
                     std::shared_ptr<WebSocketOutbox> outbox);

    Executor executor() const { return io_thread_.executor(); }  // any thread
    // Answers the upgrade request whose Sec-WebSocket-Key is `key` (101), then goes on.
    void Start(Socket socket, std::string_view key);
    // Writes what the outbox holds, unless a write is in flight (its completion comes back here).
    void WriteNext();

    // Any thread.
    void BeginShutdown() override;
    void HardClose() override;
    // Also called by Stop() once the io threads are joined.
    void Close() override;

  private:
    enum class State {
        kNew,
        kHandshake,  // the 101 response is written
        kOpen,
        kClosing,  // our close frame is queued or sent: waiting for the peer's
        kClosed,
    };

    struct CloseFrame {
        uint16_t code;
        std::string reason;
    };

    void OnHandshakeWritten();
    void Read();
    void OnRead(beast::error_code error, size_t bytes);
    // Handles what the parser finds in the bytes read so far.
    void HandleInput();
    void HandleControlFrame(uint8_t opcode, std::string_view payload);
    // A frame breaks the protocol: 1002, and the connection is closed once that is written.
    void FailProtocol(std::string_view what);
    // Sends a close frame with `code` next (a message too big, the answer to the peer's close).
    void StartClose(uint16_t code, std::string_view reason, bool too_slow);
    // Writes output_ from output_written_ on: true when the socket took it all at once, false
    // when the rest goes asynchronously (OnWritten() follows) or the write failed (closed).
    bool WriteOutput();
    void OnWritten(beast::error_code error);
    // Arms the timer for the earliest deadline that applies, unless it is armed earlier.
    void ScheduleTimer();
    void OnTimer();

    ServerCore& core_;
    IoThread& io_thread_;
    std::optional<Socket> socket_;  // from Start()
    LazyTimer timer_;
    const uint64_t id_;
    const std::string request_id_;  // the upgrade request's
    // Refers back to this session from the handshake until Close(), which breaks the cycle.
    const std::shared_ptr<WebSocketOutbox> outbox_;
    WebSocketOutbox::Next next_;  // what the outbox gave, reused

    State state_ = State::kNew;
    bool counted_open_ = false;
    // Reading.
    std::array<char, kReadBytes> read_buffer_{};
    WebSocketFrameParser parser_;  // what was read and not yet handled: at most a control frame
    SteadyClock::time_point last_heard_{};  // when the peer last sent anything
    bool pinged_ = false;                   // a ping went out since then
    // Writing: frames go to output_; one write at a time.
    std::string output_;
    size_t output_written_ = 0;
    bool writing_ = false;
    SteadyClock::time_point write_deadline_{};
    std::string pong_;  // the payload of a ping to answer, when pong_due_
    bool pong_due_ = false;
    bool ping_due_ = false;
    std::optional<CloseFrame> close_due_;  // to go out next, before anything else queued
    bool close_written_ = false;           // our close frame is in output_ or sent
    // The peer's close frame came (or a protocol error): the connection ends once ours is out.
    bool peer_closed_ = false;
    SteadyClock::time_point closing_deadline_{};
};

}  // namespace bursar::api::http_internal
