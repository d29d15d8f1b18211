#include "api/websocket_outbox.h"

#include <boost/asio/post.hpp>
#include <utility>

#include "api/websocket_frame.h"
#include "api/websocket_session.h"
#include "base/assert.h"

namespace bursar::api::http_internal {

static_assert(WebSocketSink::kCloseReasonBytesMax == rfc6455::kCloseReasonBytesMax);

std::shared_ptr<WebSocketOutbox> WebSocketOutbox::MakeClosed() {
    auto outbox = std::make_shared<WebSocketOutbox>(Limits{.messages_max = 0, .bytes_max = 0});
    outbox->Detach();
    return outbox;
}

WebSocketSendResult WebSocketOutbox::Send(std::string text) {
    std::lock_guard lock(mutex_);
    if (!open_) return WebSocketSendResult::kClosed;
    if (queue_.size() >= limits_.messages_max || queue_bytes_ >= limits_.bytes_max) {
        open_ = false;
        queue_.clear();
        queue_bytes_ = 0;
        close_request_ =
            CloseRequest{.code = kClosePolicyViolation, .reason = "too slow", .too_slow = true};
        WakeLocked();
        return WebSocketSendResult::kTooSlow;
    }
    queue_bytes_ += text.size();
    queue_.push_back(std::move(text));
    WakeLocked();
    return WebSocketSendResult::kQueued;
}

void WebSocketOutbox::Close(uint16_t code, std::string reason) {
    std::lock_guard lock(mutex_);
    if (!open_) return;
    open_ = false;
    close_request_ = CloseRequest{
        .code = code, .reason = WebSocketCloseReason(std::move(reason)), .too_slow = false};
    WakeLocked();
}

bool WebSocketOutbox::open() const {
    std::lock_guard lock(mutex_);
    return open_;
}

bool WebSocketOutbox::Attach(std::shared_ptr<WebSocketSession> session) {
    std::lock_guard lock(mutex_);
    if (detached_) return false;
    BURSAR_ASSERT(session_ == nullptr);
    session_ = std::move(session);
    awake_ = true;
    return true;
}

void WebSocketOutbox::TakeNext(Next* next) {
    next->messages.clear();
    next->close.reset();
    std::lock_guard lock(mutex_);
    for (std::string& message : queue_) next->messages.push_back(std::move(message));
    queue_.clear();
    queue_bytes_ = 0;
    next->close = std::move(close_request_);
    close_request_.reset();
    if (next->empty()) awake_ = false;
}

void WebSocketOutbox::Detach() {
    std::shared_ptr<WebSocketSession> released;  // let go after the unlock
    std::lock_guard lock(mutex_);
    open_ = false;
    detached_ = true;
    queue_.clear();
    queue_bytes_ = 0;
    close_request_.reset();
    released = std::move(session_);
}

void WebSocketOutbox::WakeLocked() {
    if (session_ == nullptr || awake_) return;
    awake_ = true;
    asio::post(session_->executor(), [session = session_] { session->WriteNext(); });
}

}  // namespace bursar::api::http_internal
