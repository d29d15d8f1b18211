#pragma once

// What the listener, the sessions and Stop() share: the options, the handlers, the connection
// registry, the counters behind HttpServerStats and the request ids. Plain C++.
// Private to bursar_api_http.

#include <atomic>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "api/connection_registry.h"
#include "api/http.h"
#include "api/http_server.h"

namespace bursar::api::http_internal {

// Sessions reach it only from the io threads and from Stop(): never from their destructor, which
// may run after the server is gone.
struct ServerCore {
    ServerCore(HttpServerOptions server_options, Handler server_handler);

    void Log(const std::string& line) const;
    std::string NewRequestId();
    void CountResponse(int status);
    bool stopping() const { return registry.stopping(); }
    // The upgrade handler for this path, or null.
    const UpgradeHandler* FindUpgradeHandler(const std::string& path) const;

    const HttpServerOptions options;
    const Handler handler;
    // Written by SetUpgradeHandler() before the io threads start; read-only afterwards.
    std::unordered_map<std::string, UpgradeHandler> upgrade_handlers;
    ConnectionRegistry registry;

    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> responses_by_class[5] = {};
    std::atomic<uint64_t> websocket_connections_accepted{0};
    std::atomic<uint64_t> websocket_connections_open{0};
    std::atomic<uint64_t> websocket_connections_closed_slow{0};

  private:
    const std::string request_id_prefix_;
    std::atomic<uint64_t> next_request_id_{0};
};

}  // namespace bursar::api::http_internal
