#pragma once

// The sink an upgrade handler's caller holds: a bounded queue between the publishing threads and
// the connection's io thread. It refers to its WebSocketSession only from the handshake to the
// connection's close (Attach() to Detach()) and posts to the io_context only then, under its
// mutex; every session is closed before Stop() returns, so a sink kept longer never touches the
// io_context. Plain C++ here; the .cc posts with Asio. Private to bursar_api_http.

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/http_server.h"

namespace bursar::api::http_internal {

class WebSocketSession;

class WebSocketOutbox final : public WebSocketSink {
  public:
    struct Limits {
        uint32_t messages_max;
        uint64_t bytes_max;
    };
    struct CloseRequest {
        uint16_t code;
        std::string reason;
        bool too_slow;  // the queue was full
    };
    // What the connection sends next: the queued messages in order, then a close when asked for.
    struct Next {
        std::vector<std::string> messages;
        std::optional<CloseRequest> close;
        bool empty() const { return messages.empty() && !close.has_value(); }
    };

    explicit WebSocketOutbox(Limits limits) : limits_(limits) {}
    // For an accept that comes too late: closed from the start.
    static std::shared_ptr<WebSocketOutbox> MakeClosed();

    WebSocketSendResult Send(std::string text) override;
    void Close(uint16_t code, std::string reason) override;
    bool open() const override;

    // The session's io thread, once the handshake is done; the session calls WriteNext() next.
    // False when the outbox was detached meanwhile.
    bool Attach(std::shared_ptr<WebSocketSession> session);
    // The session's io thread: moves everything queued into `next` (cleared first, its buffers
    // kept). Empty means the session is idle until the next wake-up.
    void TakeNext(Next* next);
    // Any thread; final: closed, the queue dropped, the session let go.
    void Detach();

  private:
    // Posts WriteNext() to the session unless it is not attached or already awake.
    void WakeLocked();

    const Limits limits_;
    mutable std::mutex mutex_;
    std::deque<std::string> queue_;  // guarded; behind the message being written, if any
    uint64_t queue_bytes_ = 0;       // guarded
    bool open_ = true;               // guarded; false once closing started
    bool detached_ = false;          // guarded
    std::optional<CloseRequest> close_request_;  // guarded; not yet taken by the session
    // Guarded: a WriteNext() is posted or running, or a write is in flight, so that a Send()
    // needs not post another.
    bool awake_ = false;
    std::shared_ptr<WebSocketSession> session_;  // guarded; from Attach() to Detach()
};

}  // namespace bursar::api::http_internal
