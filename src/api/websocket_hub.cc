#include "api/websocket_hub.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace bursar::api {

bool Sees(const Audience& audience, const HubMessage& message) {
    if (audience.admin) return true;
    if (audience.merchant_id != 0 && message.merchant_id == audience.merchant_id) return true;
    return audience.user_id != 0 && std::find(message.user_ids.begin(), message.user_ids.end(),
                                              audience.user_id) != message.user_ids.end();
}

void WebSocketHub::Add(std::shared_ptr<WebSocketSink> sink, Audience audience) {
    BURSAR_ASSERT(sink != nullptr);
    {
        std::lock_guard lock(mutex_);
        if (entries_.size() < kConnectionsMax) {
            entries_.push_back(Entry{.sink = std::move(sink), .audience = audience});
            connections_added_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    connections_refused_.fetch_add(1, std::memory_order_relaxed);
    sink->Close(kCloseTryAgainLater, "too many connections");
}

void WebSocketHub::Publish(const HubMessage& message) { Publish(std::vector<HubMessage>{message}); }

void WebSocketHub::Publish(const std::vector<HubMessage>& messages) {
    if (messages.empty()) return;
    std::vector<Entry> entries;
    {
        std::lock_guard lock(mutex_);
        std::erase_if(entries_, [](const Entry& entry) { return !entry.sink->open(); });
        entries = entries_;
    }
    uint64_t sent = 0;
    uint64_t slow = 0;
    for (const HubMessage& message : messages) {
        for (const Entry& entry : entries) {
            if (!Sees(entry.audience, message)) continue;
            switch (entry.sink->Send(message.json)) {
                case WebSocketSendResult::kQueued:
                    sent++;
                    break;
                case WebSocketSendResult::kTooSlow:
                    slow++;
                    break;
                case WebSocketSendResult::kClosed:
                    break;
            }
        }
    }
    messages_sent_.fetch_add(sent, std::memory_order_relaxed);
    slow_clients_closed_.fetch_add(slow, std::memory_order_relaxed);
}

bool WebSocketHub::empty() {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [](const Entry& entry) { return !entry.sink->open(); });
    return entries_.empty();
}

WebSocketHubStats WebSocketHub::stats() const {
    WebSocketHubStats stats;
    {
        std::lock_guard lock(mutex_);
        stats.connections = static_cast<uint64_t>(
            std::count_if(entries_.begin(), entries_.end(),
                          [](const Entry& entry) { return entry.sink->open(); }));
    }
    stats.connections_added = connections_added_.load(std::memory_order_relaxed);
    stats.connections_refused = connections_refused_.load(std::memory_order_relaxed);
    stats.messages_sent = messages_sent_.load(std::memory_order_relaxed);
    stats.slow_clients_closed = slow_clients_closed_.load(std::memory_order_relaxed);
    return stats;
}

}  // namespace bursar::api
