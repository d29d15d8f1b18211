#include "api/worker_pool.h"

#include "base/thread.h"

namespace bursar::api {

WorkerPool::WorkerPool(size_t threads) {
    for (size_t i = 0; i < threads; ++i)
        threads_.emplace_back([this] {
            SetCurrentThreadName("worker");
            Run();
        });
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::Post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || tasks_.size() >= kQueueMax) return false;
        tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
}

void WorkerPool::Stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
}

void WorkerPool::Run() {
    while (true) {
        std::function<void()> task;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

}  // namespace bursar::api
