#pragma once

// Time comes from an injected clock so that tests are deterministic. The engine reads wall time
// only to stamp batches; the state machine never reads a clock.

#include <atomic>
#include <cstdint>

namespace bursar {

class Clock {
  public:
    virtual ~Clock() = default;
    virtual uint64_t RealtimeNs() = 0;   // nanoseconds since the Unix epoch
    virtual uint64_t MonotonicNs() = 0;  // for durations only
};

class SystemClock final : public Clock {
  public:
    uint64_t RealtimeNs() override;
    uint64_t MonotonicNs() override;
    static SystemClock& Instance();
};

// A clock that moves only when told to; both readings are the same value.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(uint64_t start_ns) : now_ns_(start_ns) {}
    uint64_t RealtimeNs() override { return now_ns_.load(); }
    uint64_t MonotonicNs() override { return now_ns_.load(); }
    void Set(uint64_t now_ns) { now_ns_.store(now_ns); }
    void Advance(uint64_t delta_ns) { now_ns_.fetch_add(delta_ns); }

  private:
    std::atomic<uint64_t> now_ns_;
};

}  // namespace bursar
