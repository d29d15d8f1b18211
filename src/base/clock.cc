#include "base/clock.h"

#include <time.h>

namespace bursar {
namespace {

uint64_t Read(clockid_t id) {
    timespec now{};
    clock_gettime(id, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull +
           static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

uint64_t SystemClock::RealtimeNs() { return Read(CLOCK_REALTIME); }
uint64_t SystemClock::MonotonicNs() { return Read(CLOCK_MONOTONIC); }

SystemClock& SystemClock::Instance() {
    static SystemClock clock;
    return clock;
}

}  // namespace bursar
