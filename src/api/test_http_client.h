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

// The socket layer of the test clients (this one and test_websocket_client.h). Deadlines are in
// milliseconds of TestNowMs().
uint64_t TestNowMs();
std::string TestLowercase(std::string_view text);
// Resolves `host` and connects, TCP_NODELAY on; SO_RCVBUF is set first when
// `receive_buffer_bytes` > 0. Returns the socket.
Result<int> TestConnect(const std::string& host, uint16_t port, int receive_buffer_bytes = 0);
Status TestSendAll(int fd, std::string_view bytes, uint64_t deadline_ms);
// Appends at least one byte to *pending: kNotFound at end of stream, kIoError "read timed out" or
// on failure.
Status TestReadMore(int fd, std::string* pending, uint64_t deadline_ms);
inline constexpr std::string_view kTestReadTimedOut = "read timed out";
// Reads a response's status line and headers (at most `head_bytes_max` bytes) into `result`,
// leaving the bytes after them in *pending.
Status TestReadHead(int fd, std::string* pending, uint64_t deadline_ms, size_t head_bytes_max,
                    HttpResult* result);

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
    const std::string host_;
    const uint16_t port_;
    const uint32_t timeout_ms_;
    int fd_ = -1;
    bool send_failed_ = false;  // the server may have answered and closed before reading it all
    std::string pending_;       // bytes received and not yet consumed
};

}  // namespace bursar::api
