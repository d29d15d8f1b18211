#pragma once

// Fans live events out to WebSocket clients (`/v1/stream`), each seeing only what its audience
// may see. The hub holds the accepted connections' sinks (see http_server.h); Publish() copies
// the matching ones under its lock and sends outside it, so that a publisher never waits for a
// connection and never blocks Add(). A client too slow to read is closed by its sink (1008);
// closed sinks are dropped at the next Publish().
//
// Threads: every function from any thread. Messages reach each connection in the order of the
// Publish() calls when those come from one thread (the event subscriber).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/http_server.h"

namespace bursar::api {

// Who is at the other end of a connection. Ids are 0 when the client is no such party.
struct Audience {
    bool admin = false;        // sees every message
    uint64_t user_id = 0;      // sees the messages whose user_ids hold it
    uint64_t merchant_id = 0;  // sees the messages whose merchant_id is it
};

struct HubMessage {
    std::string json;                // sent as it is, as one text message
    std::vector<uint64_t> user_ids;  // the users the message is about, e.g. payer and payee
    uint64_t merchant_id = 0;        // the merchant it is about; 0: none
};

// Whether a connection with `audience` receives `message`.
bool Sees(const Audience& audience, const HubMessage& message);

struct WebSocketHubStats {
    uint64_t connections = 0;          // held now and open
    uint64_t connections_added = 0;    // refused ones not included
    uint64_t connections_refused = 0;  // over kConnectionsMax: closed with 1013
    uint64_t messages_sent = 0;        // queued to a connection: one per receiving connection
    uint64_t slow_clients_closed = 0;  // send queue full: closed with 1008 by this hub's Publish()
};

class WebSocketHub {
  public:
    // Connections held at once; more are closed at once with 1013 "try again later".
    static constexpr size_t kConnectionsMax = 100'000;
    static constexpr uint16_t kCloseTryAgainLater = 1013;

    void Add(std::shared_ptr<WebSocketSink> sink, Audience audience);
    // Sends `message` to every open connection whose audience sees it.
    void Publish(const HubMessage& message);
    // The same for several messages, in order, with one look at the connections for all of them.
    void Publish(const std::vector<HubMessage>& messages);
    // True when no open connection is held (closed ones are dropped here too): a publisher may
    // then skip making its messages.
    bool empty();
    WebSocketHubStats stats() const;

  private:
    struct Entry {
        std::shared_ptr<WebSocketSink> sink;
        Audience audience;
    };

    mutable std::mutex mutex_;
    std::vector<Entry> entries_;  // guarded

    std::atomic<uint64_t> connections_added_{0};
    std::atomic<uint64_t> connections_refused_{0};
    std::atomic<uint64_t> messages_sent_{0};
    std::atomic<uint64_t> slow_clients_closed_{0};
};

}  // namespace bursar::api
