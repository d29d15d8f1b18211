#include "api/connection_registry.h"

#include <chrono>
#include <utility>

#include "base/assert.h"

namespace bursar::api::http_internal {

void ConnectionRegistry::Unregister(uint64_t id, bool rejected) {
    {
        std::lock_guard lock(mutex_);
        const size_t erased = connections_.erase(id);
        BURSAR_ASSERT(erased == 1);
        if (rejected) {
            BURSAR_ASSERT(rejecting_ > 0);
            rejecting_--;
        } else {
            BURSAR_ASSERT(connections_open_.load() > 0);
            connections_open_.fetch_sub(1);
        }
    }
    cv_.notify_all();
}

bool ConnectionRegistry::Replace(uint64_t id, std::shared_ptr<Connection> connection) {
    std::lock_guard lock(mutex_);
    if (stopping_.load()) return false;
    const auto entry = connections_.find(id);
    BURSAR_ASSERT(entry != connections_.end());
    entry->second = connection;
    return true;
}

void ConnectionRegistry::BeginStopping() {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::Live() {
    std::vector<std::shared_ptr<Connection>> live;
    std::lock_guard lock(mutex_);
    live.reserve(connections_.size());
    for (const auto& [id, weak] : connections_) {
        if (std::shared_ptr<Connection> connection = weak.lock()) {
            live.push_back(std::move(connection));
        }
    }
    return live;
}

void ConnectionRegistry::WaitForNone(uint32_t timeout_ms) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return connections_.empty(); });
}

}  // namespace bursar::api::http_internal
