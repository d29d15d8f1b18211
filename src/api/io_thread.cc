#include "api/io_thread.h"

#include <boost/asio/post.hpp>
#include <utility>

#include "api/http_session.h"
#include "base/assert.h"

namespace bursar::api::http_internal {

void IoThread::Deliver(std::shared_ptr<HttpSession> session, uint64_t request_number,
                       HttpResponse response) {
    bool post = false;
    {
        std::lock_guard lock(mutex_);
        inbox_.push_back(Delivery{std::move(session), request_number, std::move(response)});
        post = !drain_posted_;
        drain_posted_ = true;
    }
    if (post) asio::post(context_, [this] { Drain(); });
}

void IoThread::Drain() {
    {
        std::lock_guard lock(mutex_);
        BURSAR_ASSERT(draining_.empty());
        std::swap(inbox_, draining_);
        drain_posted_ = false;
    }
    for (Delivery& delivery : draining_) {
        delivery.session->OnHandlerResponse(delivery.request_number, std::move(delivery.response));
    }
    draining_.clear();
}

}  // namespace bursar::api::http_internal
