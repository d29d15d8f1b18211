#pragma once

// The HTTP/1.1 server: a listener and one session per connection on io threads (Boost.Beast on
// Boost.Asio, kept out of this header). Each io thread runs its own io_context; a connection stays
// on one thread from accept to close. Keep-alive, no pipelining: a session reads one request,
// waits for its handler's answer, writes it, then reads the next. Every read has a size limit and
// a timeout; every failure the server answers itself uses the error body of http.h. Answers that
// arrive from other threads are handed to the connection's io thread in batches (one wake-up for
// all the answers that arrive until it runs). Stop() is graceful: in-flight requests are
// answered, within shutdown_timeout_ms.
//
// WebSocket: a path given to SetUpgradeHandler() takes `Upgrade: websocket` requests. Its handler
// accepts (the server does the handshake and owns the connection from then on; the caller sends
// through a WebSocketSink) or rejects with an ordinary HTTP response. A WebSocket connection
// counts as an open connection (connections_max). The server ignores what the client sends
// except control frames, pings it, closes it when it stops answering or reading, and Stop()
// closes it with 1001 "going away".
//
// Threads: Start(), Stop(), SetUpgradeHandler() and the destructor from one owning thread, never
// from a handler; port() and stats() from any thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http.h"
#include "base/status.h"

namespace bursar::api {

// The outcome of WebSocketSink::Send(). Numbers are stable.
enum class WebSocketSendResult : uint8_t {
    kQueued = 0,   // will be sent after the messages queued before it
    kClosed = 1,   // the connection is closed or closing: dropped
    kTooSlow = 2,  // the send queue was full: dropped, and the connection is being closed (1008)
};

// The sending side of one accepted WebSocket connection. The server implements it; callers hold
// it (e.g. in a WebSocketHub) for as long as they like, also after the connection closed or the
// server was destroyed: then it is closed and drops what it is given.
//
// Threads: every function from any thread. Send() never blocks on the network: it queues the
// message and wakes the connection's io thread.
class WebSocketSink {
  public:
    // Defaults of the per-connection send queue bounds (HttpServerOptions).
    static constexpr uint32_t kSendQueueMessagesMax = 1024;
    static constexpr uint64_t kSendQueueBytesMax = 4 << 20;
    // Close codes (RFC 6455 7.4.1) the server uses.
    static constexpr uint16_t kCloseNormal = 1000;
    static constexpr uint16_t kCloseGoingAway = 1001;        // Stop()
    static constexpr uint16_t kClosePolicyViolation = 1008;  // "too slow"
    // A close reason travels in a control frame: 125 bytes with the code's 2.
    static constexpr size_t kCloseReasonBytesMax = 123;

    virtual ~WebSocketSink() = default;

    // Queues one text message (UTF-8, e.g. JSON). When the queue already holds the connection's
    // maximum of messages or bytes, the message is dropped, the queue is cleared and the
    // connection is closed with 1008 "too slow": kTooSlow, once; later calls give kClosed.
    virtual WebSocketSendResult Send(std::string text) = 0;
    // Sends the messages queued so far, then closes with this code and reason (cut to
    // kCloseReasonBytesMax). Later Send() calls give kClosed. Idempotent: the first close wins.
    virtual void Close(uint16_t code, std::string reason) = 0;
    // False once closing started, by either side, or when the handshake failed.
    virtual bool open() const = 0;
};

// Called by an UpgradeHandler to take the connection: returns its sink at once, before the
// handshake (messages sent meanwhile are queued and follow it). Accepting after rejecting, after
// the request timed out or after Stop() gives a closed sink.
using WebSocketAccept = std::function<std::shared_ptr<WebSocketSink>()>;
// Decides on a WebSocket upgrade request: call exactly one of `accept` or `reject` (an HTTP error
// response, e.g. 401), once, from any thread, within request_timeout_ms (else 504), as for a
// Handler's Responder. Dropping both unused answers 500. Runs on an io thread: must not block.
using UpgradeHandler =
    std::function<void(HttpRequest&& request, WebSocketAccept accept, Responder reject)>;

struct HttpServerOptions {
    std::string address = "127.0.0.1";     // IPv4 or IPv6 literal to listen on
    uint16_t port = 8080;                  // 0: an ephemeral port, see HttpServer::port()
    uint32_t io_threads = 2;               // 1..kIoThreadsMax
    uint64_t body_bytes_max = 1 << 20;     // larger request bodies get 413 PAYLOAD_TOO_LARGE
    uint32_t header_bytes_max = 16 << 10;  // request line and headers; more gets 431
    uint32_t connections_max = 10'000;     // open connections; more get 503 SERVER_BUSY
    // From a request's first byte to its last; a new connection's first byte must come within
    // it too. Late: 408 REQUEST_TIMEOUT. Also the handler's time to answer. Late: 504.
    uint32_t request_timeout_ms = 30'000;
    uint32_t idle_timeout_ms = 60'000;  // keep-alive connection without a request: closed
    // To write one response or WebSocket message, to do a WebSocket handshake, or to complete a
    // WebSocket closing handshake. Late: the connection is closed.
    uint32_t write_timeout_ms = 30'000;
    // Stop() waits this long for in-flight requests and WebSocket closing handshakes before
    // closing every connection.
    uint32_t shutdown_timeout_ms = 10'000;
    // WebSocket connections. A message from the client over this size closes the connection
    // with 1009 "message too big" (the server reads only control frames and ignores the rest).
    uint32_t websocket_message_bytes_max = 4 << 10;
    // Send queue bounds per connection, 1.. each; a full queue closes the connection with 1008.
    uint32_t websocket_send_queue_messages_max = WebSocketSink::kSendQueueMessagesMax;
    uint64_t websocket_send_queue_bytes_max = WebSocketSink::kSendQueueBytesMax;
    // The server pings a connection it received nothing from for this long, and closes it when
    // nothing (not even the pong) comes in another interval.
    uint32_t websocket_ping_interval_ms = 20'000;
    // The kernel's send buffer of a WebSocket connection (SO_SNDBUF; Linux doubles it).
    uint32_t websocket_socket_send_buffer_bytes = 64 << 10;
    // Failures worth an operator's eye, one line each; called from the io threads.
    std::function<void(const std::string&)> log;
};

// Counters since Start(), for a metrics endpoint.
struct HttpServerStats {
    uint64_t requests = 0;  // received whole and given to the handler
    uint64_t responses_1xx = 0;
    uint64_t responses_2xx = 0;
    uint64_t responses_3xx = 0;
    uint64_t responses_4xx = 0;
    uint64_t responses_5xx = 0;
    uint64_t connections_accepted = 0;               // rejected ones included
    uint64_t connections_open = 0;                   // accepted and not rejected, now
    uint64_t connections_rejected = 0;               // over connections_max
    uint64_t websocket_connections_accepted = 0;     // handshakes completed
    uint64_t websocket_connections_open = 0;         // now; also counted in connections_open
    uint64_t websocket_connections_closed_slow = 0;  // send queue full: closed with 1008
};

class HttpServer {
  public:
    static constexpr uint32_t kIoThreadsMax = 64;
    static constexpr size_t kUpgradePathsMax = 16;

    HttpServer(HttpServerOptions options, Handler handler);
    ~HttpServer();  // Stop()
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds, listens and starts the io threads. kInvalidArgument for bad options or a second
    // call, kIoError when the address cannot be bound.
    Status Start();
    // Before Start(): `Upgrade: websocket` requests for exactly this path (any query) go to
    // `handler` instead of the server's Handler; other requests for it still go to the Handler.
    // A path given twice, a path not starting with '/', or a call after Start() is a
    // programming error: asserted.
    void SetUpgradeHandler(std::string path, UpgradeHandler handler);
    // The bound port once started (the chosen one when options.port is 0), else 0.
    uint16_t port() const;
    // Stops accepting (new connections are refused), closes idle connections, lets requests in
    // flight be answered and their responses written, and closes WebSocket connections with 1001
    // after the messages already queued, for up to shutdown_timeout_ms; then closes every
    // connection and joins the io threads. Answers that come later are dropped, and every
    // WebSocketSink is closed. Idempotent.
    void Stop();
    HttpServerStats stats() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace bursar::api
