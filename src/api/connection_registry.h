#pragma once

// The HTTP server's open connections: the connection limit, and how Stop() reaches every
// connection. A connection is registered from accept to close: by its HTTP session, then, after
// an upgrade, by the WebSocket session that took the HTTP session's place. The registry holds
// connections weakly: each is owned by the operations pending on its io thread.
//
// Threads: every function from any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace bursar::api::http_internal {

// What Stop() needs of a connection: an HTTP session, or the WebSocket session that took an
// upgraded HTTP session's place in the registry.
class Connection {
  public:
    virtual ~Connection() = default;
    // Any thread: each hands its work to the connection's io thread.
    virtual void BeginShutdown() = 0;  // close when idle; a WebSocket closes with 1001
    virtual void HardClose() = 0;
    // The connection's io thread, or Stop() once the io threads are joined. Unregisters;
    // idempotent.
    virtual void Close() = 0;
};

class ConnectionRegistry {
  public:
    // Connections over connections_max still being told 503; further ones are closed at once.
    static constexpr uint32_t kRejectingConnectionsMax = 64;

    explicit ConnectionRegistry(uint32_t connections_max) : connections_max_(connections_max) {}

    // Registers an accepted connection, made under the registry's lock by `make(id, rejected)`
    // (rejected: over connections_max, to be answered 503 and closed), and returns it. Null,
    // and `make` not called, when stopping or when it must be dropped at once.
    template <typename Make>
    auto Register(Make make) -> decltype(make(uint64_t{0}, false)) {
        connections_accepted_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(mutex_);
        if (stopping_.load()) return nullptr;
        const bool reject = connections_open_.load() >= connections_max_;
        if (reject) {
            connections_rejected_.fetch_add(1, std::memory_order_relaxed);
            if (rejecting_ >= kRejectingConnectionsMax) return nullptr;
            rejecting_++;
        } else {
            connections_open_.fetch_add(1);
        }
        const uint64_t id = next_id_++;
        auto connection = make(id, reject);
        connections_.emplace(id, connection);
        return connection;
    }
    void Unregister(uint64_t id, bool rejected);
    // Puts `connection` in the place of the registered connection `id` (an upgrade); false, and
    // nothing changed, when stopping.
    bool Replace(uint64_t id, std::shared_ptr<Connection> connection);
    // Sets stopping(), so that no connection registers afterwards.
    void BeginStopping();
    bool stopping() const { return stopping_.load(); }
    std::vector<std::shared_ptr<Connection>> Live();
    void WaitForNone(uint32_t timeout_ms);

    uint64_t connections_accepted() const {
        return connections_accepted_.load(std::memory_order_relaxed);
    }
    uint64_t connections_open() const { return connections_open_.load(std::memory_order_relaxed); }
    uint64_t connections_rejected() const {
        return connections_rejected_.load(std::memory_order_relaxed);
    }

  private:
    const uint32_t connections_max_;
    std::atomic<bool> stopping_{false};  // written under mutex_
    std::atomic<uint64_t> connections_accepted_{0};
    std::atomic<uint64_t> connections_open_{0};  // written under mutex_
    std::atomic<uint64_t> connections_rejected_{0};

    std::mutex mutex_;
    std::condition_variable cv_;
    std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections_;  // guarded
    uint64_t next_id_ = 0;                                                 // guarded
    uint32_t rejecting_ = 0;                                               // guarded
};

}  // namespace bursar::api::http_internal
