#pragma once

// How a handler's answer reaches its HTTP session: the Responder (and, for an upgrade, the
// accept) that the server gives each handler. Plain C++ here; the .cc posts with Asio.
// Private to bursar_api_http.

#include <cstdint>
#include <memory>
#include <mutex>

#include "api/http.h"
#include "api/http_server.h"
#include "api/websocket_outbox.h"

namespace bursar::api::http_internal {

class HttpSession;

// The meeting point of a handler's Responder (and, for an upgrade, its accept) and the session
// waiting for its answer. It holds the session until the first answer, the timeout, the
// connection's close or Stop(), whichever comes first; after that every answer is dropped.
class ReplySlot {
  public:
    ReplySlot(std::shared_ptr<HttpSession> session, uint64_t request_number,
              WebSocketOutbox::Limits outbox_limits)
        : session_(std::move(session)),
          request_number_(request_number),
          outbox_limits_(outbox_limits) {}
    void Deliver(HttpResponse response);  // any thread
    void DeliverDropped();                // any thread: the Responder died unused
    // Any thread: the upgrade handler accepted. The outbox stays here until the session takes
    // it, so that Detach() closes it if the session never does.
    std::shared_ptr<WebSocketSink> Accept();
    std::shared_ptr<WebSocketOutbox> TakeAccepted();  // the session's io thread
    void Detach();  // the session's io thread, or Stop() after the io threads

  private:
    void PostLocked(HttpResponse response);

    std::mutex mutex_;
    std::shared_ptr<HttpSession> session_;       // guarded; null once answered or detached
    std::shared_ptr<WebSocketOutbox> accepted_;  // guarded; accepted, not yet taken
    const uint64_t request_number_;
    const WebSocketOutbox::Limits outbox_limits_;
};

// Owned by every copy of one Responder: when the last copy goes, an unanswered request gets 500.
struct ResponderToken {
    explicit ResponderToken(std::shared_ptr<ReplySlot> reply_slot) : slot(std::move(reply_slot)) {}
    ~ResponderToken() { slot->DeliverDropped(); }
    ResponderToken(const ResponderToken&) = delete;
    ResponderToken& operator=(const ResponderToken&) = delete;
    std::shared_ptr<ReplySlot> slot;
};

}  // namespace bursar::api::http_internal
