#pragma once

// The HTTP/1.1 server: a listener and one session per connection on a pool of io threads
// (Boost.Beast on Boost.Asio, kept out of this header). Keep-alive, no pipelining: a session
// reads one request, waits for its handler's answer, writes it, then reads the next. Every read
// has a size limit and a timeout; every failure the server answers itself uses the error body
// of http.h. Stop() is graceful: in-flight requests are answered, within shutdown_timeout_ms.
//
// Threads: Start(), Stop() and the destructor from one owning thread, never from a handler;
// port() and stats() from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http.h"
#include "base/status.h"

namespace bursar::api {

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
    uint32_t idle_timeout_ms = 60'000;   // keep-alive connection without a request: closed
    uint32_t write_timeout_ms = 30'000;  // to write one response; late: the connection is closed
    // Stop() waits this long for in-flight requests before closing every connection.
    uint32_t shutdown_timeout_ms = 10'000;
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
    uint64_t connections_accepted = 0;  // rejected ones included
    uint64_t connections_open = 0;      // accepted and not rejected, now
    uint64_t connections_rejected = 0;  // over connections_max
};

class HttpServer {
  public:
    static constexpr uint32_t kIoThreadsMax = 64;

    HttpServer(HttpServerOptions options, Handler handler);
    ~HttpServer();  // Stop()
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds, listens and starts the io threads. kInvalidArgument for bad options or a second
    // call, kIoError when the address cannot be bound.
    Status Start();
    // The bound port once started (the chosen one when options.port is 0), else 0.
    uint16_t port() const;
    // Stops accepting (new connections are refused), closes idle connections, lets requests in
    // flight be answered and their responses written for up to shutdown_timeout_ms, then closes
    // every connection and joins the io threads. Answers that come later are dropped. Idempotent.
    void Stop();
    HttpServerStats stats() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace bursar::api
