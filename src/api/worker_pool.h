#pragma once

// A few threads for slow work that must run neither on the io threads nor on the engine thread
// (argon2 password hashing). Bounded: Post() refuses when kQueueMax tasks wait.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bursar::api {

class WorkerPool {
  public:
    static constexpr size_t kQueueMax = 1024;

    explicit WorkerPool(size_t threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // False when the queue is full or the pool is stopping.
    bool Post(std::function<void()> task);
    // Runs what is queued, then joins the threads.
    void Stop();

  private:
    void Run();
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace bursar::api
