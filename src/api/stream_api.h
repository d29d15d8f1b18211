#pragma once

// The live event stream over WebSocket (issue 4): GET /v1/stream with `Upgrade: websocket`,
// authenticated by the same tokens as the API: `Authorization: Bearer ...`, or `?token=...` for
// browsers, which cannot set headers on a WebSocket. Each message is one event (docs/events.md).
// A user receives the events about their own wallet, a merchant its own payments, the admin all.
// A client that cannot keep up is closed with 1008 "too slow"; the engine never waits for it:
// the stream reads committed events from the journal on its own thread.

#include "api/http_server.h"
#include "api/platform_api.h"
#include "api/websocket_hub.h"
#include "events/event.h"
#include "events/follower.h"

namespace bursar::api {

class StreamApi {
  public:
    static constexpr const char* kPath = "/v1/stream";

    StreamApi(engine::Engine& engine, const PlatformApi& platform_api, FileSystem& fs,
              const std::string& data_dir);
    ~StreamApi();

    // Registers the upgrade handler (before the server starts) and starts the feeding thread.
    void Attach(HttpServer& server);
    void Stop();
    WebSocketHubStats stats() const { return hub_.stats(); }

  private:
    void Upgrade(HttpRequest&& request, WebSocketAccept accept, Responder reject);

    engine::Engine& engine_;
    const PlatformApi& platform_api_;
    WebSocketHub hub_;
    events::EventJsonEncoder encoder_;  // the follower's thread
    events::Follower follower_;
};

}  // namespace bursar::api
