#pragma once

// Private to bursar_api_http (it includes Boost): no header of another library includes it.

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <utility>

#include "api/io_thread.h"

namespace bursar::api::http_internal {

// A connection's deadline timer, armed only when something waits, and not armed again for a
// later time while a wait for an earlier one is pending: that wait fires, and the owner, finding
// its deadline later, arms again. A wait made stale by a later Arm() or by Cancel() does nothing.
class LazyTimer {
  public:
    explicit LazyTimer(const Executor& executor) : timer_(executor) {}

    // `fire` runs when the wait ends at `expiry`; it holds what keeps the owner (and this timer)
    // alive, such as the owner's shared_ptr.
    template <typename Fire>
    void Arm(SteadyClock::time_point expiry, Fire fire) {
        if (armed_ && expiry_ <= expiry) return;
        ++generation_;
        armed_ = true;
        expiry_ = expiry;
        timer_.expires_at(expiry);
        timer_.async_wait([this, generation = generation_,
                           fire = std::move(fire)](boost::system::error_code error) mutable {
            if (generation != generation_) return;
            armed_ = false;
            if (!error) fire();
        });
    }

    void Cancel() {
        ++generation_;
        armed_ = false;
        timer_.cancel();
    }

  private:
    Timer timer_;
    SteadyClock::time_point expiry_{};  // what the timer is armed for, when armed
    bool armed_ = false;
    uint64_t generation_ = 0;  // a wait whose generation is not this one is stale
};

}  // namespace bursar::api::http_internal
