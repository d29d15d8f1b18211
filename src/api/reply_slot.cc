#include "api/reply_slot.h"

#include <boost/asio/post.hpp>
#include <utility>

#include "api/http_session.h"
#include "api/io_thread.h"

namespace bursar::api::http_internal {

void ReplySlot::Deliver(HttpResponse response) {
    std::lock_guard lock(mutex_);
    if (session_ == nullptr) return;
    PostLocked(std::move(response));
}

void ReplySlot::DeliverDropped() {
    std::lock_guard lock(mutex_);
    if (session_ == nullptr) return;
    PostLocked(ErrorResponse(kInternalError, "the handler dropped the request without answering"));
}

// Posting under the mutex: once Detach() returns, nothing more reaches the io_context.
void ReplySlot::PostLocked(HttpResponse response) {
    std::shared_ptr<HttpSession> session = std::move(session_);
    IoThread& io_thread = session->io_thread();
    io_thread.Deliver(std::move(session), request_number_, std::move(response));
}

std::shared_ptr<WebSocketSink> ReplySlot::Accept() {
    std::lock_guard lock(mutex_);
    if (session_ == nullptr) return WebSocketOutbox::MakeClosed();
    accepted_ = std::make_shared<WebSocketOutbox>(outbox_limits_);
    std::shared_ptr<HttpSession> session = std::move(session_);
    const Executor executor = session->io_thread().executor();
    asio::post(executor, [session = std::move(session), request_number = request_number_] {
        session->OnUpgradeAccepted(request_number);
    });
    return accepted_;
}

std::shared_ptr<WebSocketOutbox> ReplySlot::TakeAccepted() {
    std::lock_guard lock(mutex_);
    return std::move(accepted_);
}

void ReplySlot::Detach() {
    // Let go after the unlock: the last reference to the session may be here.
    std::shared_ptr<HttpSession> released;
    std::shared_ptr<WebSocketOutbox> abandoned;
    {
        std::lock_guard lock(mutex_);
        released = std::move(session_);
        abandoned = std::move(accepted_);
    }
    if (abandoned != nullptr) abandoned->Detach();
}

}  // namespace bursar::api::http_internal
