#pragma once

// A blocking WebSocket client over plain POSIX sockets, for tests: it sends the HTTP upgrade
// itself and checks Sec-WebSocket-Accept, reads the server's (unmasked) frames, answers pings and
// the server's close, and sends masked text and close frames. No extensions, no TLS. Every read
// is bounded in bytes and by the client's timeout.
//
// Threads: one thread at a time per client.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.h"
#include "api/test_http_client.h"
#include "base/status.h"

namespace bursar::api {

struct TestWebSocketClientOptions {
    uint32_t timeout_ms = 5'000;   // bounds every connect, send and ReadMessage()
    int receive_buffer_bytes = 0;  // SO_RCVBUF, set before connecting; 0: the system's
    bool answer_pings = true;      // false: a client that stopped answering
};

class TestWebSocketClient {
  public:
    static constexpr size_t kHandshakeResponseBytesMax = 64 << 10;
    static constexpr size_t kMessageBytesMax = 16 << 20;

    TestWebSocketClient(std::string host, uint16_t port, TestWebSocketClientOptions options = {});
    ~TestWebSocketClient();
    TestWebSocketClient(const TestWebSocketClient&) = delete;
    TestWebSocketClient& operator=(const TestWebSocketClient&) = delete;

    // Connects and asks to upgrade `target`. A 101 with the right Sec-WebSocket-Accept opens the
    // client; any other response is returned with its body, and the client is closed.
    Result<HttpResult> Connect(std::string_view target, const HttpHeaders& headers = {});
    // The next text or binary message. Errors: kStopped once the server's close frame came
    // (answered; see close_code()), kNotFound when the connection ended without one, kIoError on
    // a timeout (the client stays open) or a failure, kCorruption for a malformed frame.
    Result<std::string> ReadMessage();
    Status SendText(std::string_view text);
    Status SendClose(uint16_t code, std::string_view reason);
    // One masked frame; `fin` false leaves the message open for continuation frames (opcode 0).
    Status SendFrame(uint8_t opcode, std::string_view payload, bool fin = true);
    // Bytes as they are, e.g. a frame that breaks the protocol.
    Status SendRaw(std::string_view bytes) { return SendAll(bytes); }
    // Reads, dropping messages, until the server ends the connection: true when it did in time.
    bool WaitForServerClose();
    void Close();

    bool open() const { return fd_ >= 0; }
    // The code and reason of the server's close frame, once received.
    std::optional<uint16_t> close_code() const { return close_code_; }
    const std::string& close_reason() const { return close_reason_; }
    uint64_t pings_received() const { return pings_received_; }
    uint64_t pongs_received() const { return pongs_received_; }
    const std::string& last_pong() const { return last_pong_; }

  private:
    struct Frame {
        bool fin = false;
        uint8_t opcode = 0;
        std::string payload;
    };

    Status ConnectSocket();
    Status SendAll(std::string_view bytes);
    // Appends at least one byte to pending_; kNotFound at end of stream, kIoError on failure or
    // timeout.
    Status ReadMore(uint64_t deadline_ms);
    Result<Frame> ReadFrame(uint64_t deadline_ms);

    const std::string host_;
    const uint16_t port_;
    const TestWebSocketClientOptions options_;
    int fd_ = -1;
    std::string pending_;  // bytes received and not yet consumed
    bool close_sent_ = false;
    std::optional<uint16_t> close_code_;
    std::string close_reason_;
    uint64_t pings_received_ = 0;
    uint64_t pongs_received_ = 0;
    std::string last_pong_;
};

}  // namespace bursar::api
