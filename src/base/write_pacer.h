#pragma once

// Paces a background writer (a snapshot, a journal segment written ahead) so that the journal's
// fsync never waits long behind it. A sync of the journal flushes the disk's cache, and with it
// whatever other writes reached the disk before: a writer that leaves many megabytes dirty and
// syncs them at once makes that flush wait for all of them (measured in docs/benchmarks.md:
// journal fsyncs of 60-130 ms behind 16-40 MiB). So a paced writer syncs every
// `sync_every_bytes`, and waits whenever it is ahead of `bytes_per_second_max`.
//
// Deterministic: the caller gives the time and does the waiting.

#include <cstdint>

namespace bursar {

class WritePacer {
  public:
    struct Step {
        bool sync = false;     // sync what was written, now
        uint64_t wait_ns = 0;  // then wait this long before writing more
    };

    WritePacer(uint64_t bytes_per_second_max, uint64_t sync_every_bytes, uint64_t start_ns)
        : bytes_per_second_max_(bytes_per_second_max),
          sync_every_bytes_(sync_every_bytes),
          start_ns_(start_ns) {}

    // After `bytes` more were written, at `now_ns` (a monotonic clock).
    Step Wrote(uint64_t bytes, uint64_t now_ns) {
        constexpr uint64_t kNsPerSecond = 1'000'000'000;
        Step step;
        written_ += bytes;
        unsynced_ += bytes;
        if (unsynced_ >= sync_every_bytes_) {
            step.sync = true;
            unsynced_ = 0;
        }
        // When the writer may have written `written_` bytes at the rate: whole seconds, then the
        // rest, so that the product does not overflow.
        const uint64_t due_ns =
            written_ / bytes_per_second_max_ * kNsPerSecond +
            written_ % bytes_per_second_max_ * kNsPerSecond / bytes_per_second_max_;
        const uint64_t elapsed_ns = now_ns - start_ns_;
        if (due_ns > elapsed_ns) step.wait_ns = due_ns - elapsed_ns;
        return step;
    }

  private:
    const uint64_t bytes_per_second_max_;
    const uint64_t sync_every_bytes_;
    const uint64_t start_ns_;
    uint64_t written_ = 0;
    uint64_t unsynced_ = 0;
};

}  // namespace bursar
