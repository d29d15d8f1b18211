#pragma once

// A blocking HTTP/1.1 client over plain POSIX sockets, for tests: one connection, kept alive
// across Send() calls until either side closes it. It reads responses framed by Content-Length or
// by the end of the connection (not chunked ones). Every read is bounded
// in bytes and by the client's timeout.
//
// Threads: one thread at a time per client.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/http.h"
#include "base/status.h"

namespace bursar::api {

struct HttpResult {
    int status = 0;
    HttpHeaders headers;  // names lowercased, in the order received
    std::string body;

    // The first header with this name (any case), or null.
    const std::string* Header(std::string_view name) const;
};

class TestHttpClient {
  public:
    static constexpr uint32_t kTimeoutMsDefault = 5'000;
    static constexpr size_t kResponseHeaderBytesMax = 64 << 10;
    static constexpr size_t kResponseBodyBytesMax = 64 << 20;
    static constexpr size_t kReadChunkBytes = 16 << 10;

    // `host` is a name or an address literal; `timeout_ms` bounds every connect, send and read.
    TestHttpClient(std::string host, uint16_t port, uint32_t timeout_ms = kTimeoutMsDefault);
    ~TestHttpClient();
    TestHttpClient(const TestHttpClient&) = delete;
    TestHttpClient& operator=(const TestHttpClient&) = delete;

    // Opens the connection; Send() and SendRaw() call it when there is none.
    Status Connect();
    // Sends one request (Host and, with a body, Content-Length added) and reads its response.
    // A response with `Connection: close` closes the client's side too.
    Result<HttpResult> Send(std::string_view method, std::string_view path,
                            const HttpHeaders& headers = {}, std::string_view body = {});
    // Sends bytes as they are: for partial and malformed requests. Read with ReadResponse().
    Status SendRaw(std::string_view bytes);
    // Reads one response; interim ones (100 Continue) too, which Send() skips.
    Result<HttpResult> ReadResponse();
    // Waits up to the timeout for the server to close the connection: true when it did.
    bool WaitForServerClose();
    bool connected() const { return fd_ >= 0; }
    void Close();

  private:
    Status SendAll(std::string_view bytes);
    // Appends at least one byte to pending_; an error at end of stream, failure or timeout.
    Status ReadMore(uint64_t deadline_ms);

    const std::string host_;
    const uint16_t port_;
    const uint32_t timeout_ms_;
    int fd_ = -1;
    bool send_failed_ = false;  // the server may have answered and closed before reading it all
    std::string pending_;       // bytes received and not yet consumed
};

}  // namespace bursar::api
