#pragma once

// A thread that follows the committed journal for one subscriber (the read model's projector, the
// live metrics, the WebSocket stream, the JetStream publisher): it reads the events of up to
// `records_per_poll` committed records at a time and hands them to `apply`. When reading or
// `apply` fails, the same records are read again after `retry_ms`, from the last position `apply`
// accepted, so nothing is skipped and nothing is applied twice by the follower itself.
//
// `linger_ms` trades a little lag for less work: once new records are committed the follower
// waits that long for more before it reads, so one read and one `apply` (one SQLite transaction
// for the projector) cover many engine batches instead of one each. A caller in WaitFor() cuts the
// wait short, so reading one's own writes never pays for it.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "events/event.h"

namespace bursar::events {

struct FollowerOptions {
    std::string name;  // for the log
    uint64_t records_per_poll = 256;
    uint64_t retry_ms = 1000;
    uint64_t linger_ms = 0;
    int nice = 0;  // scheduling priority of the thread (SetCurrentThreadNice)
    std::function<void(const std::string&)> log;
};

class Follower {
  public:
    // `position` is the last journal record whose events were applied.
    using ApplyFn = std::function<Status(const std::vector<Event>& events,
                                         const std::vector<Signup>& signups, uint64_t position)>;

    Follower(FileSystem& fs, const engine::Engine& engine, std::string journal_dir,
             FollowerOptions options, ApplyFn apply);
    ~Follower();
    Follower(const Follower&) = delete;
    Follower& operator=(const Follower&) = delete;

    // Starts after record `after_seq`.
    void Start(uint64_t after_seq);
    void Stop();
    uint64_t position() const;
    // True when `apply` accepted the records up to `seq` within `timeout_ms`.
    bool WaitFor(uint64_t seq, uint64_t timeout_ms) const;

  private:
    void Run();

    FileSystem& fs_;
    const engine::Engine& engine_;
    std::string journal_dir_;
    FollowerOptions options_;
    ApplyFn apply_;
    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
    uint64_t position_ = 0;
    mutable uint32_t waiters_ = 0;  // callers in WaitFor()
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace bursar::events
