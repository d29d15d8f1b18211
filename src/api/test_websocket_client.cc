#include "api/test_websocket_client.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "api/websocket_protocol.h"
#include "base/assert.h"

namespace bursar::api {
namespace {

using namespace rfc6455;  // NOLINT(google-build-using-namespace): the protocol's constants
constexpr size_t kKeyBytes = 16;

std::string Base64(std::string_view bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<int>(bytes.size()));
    text.resize(static_cast<size_t>(length));
    return text;
}

// RFC 6455 4.2.2: base64(SHA-1(key + GUID)).
std::string AcceptKey(std::string_view key) {
    const std::string input = std::string(key) + std::string(kGuid);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_bytes = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &digest_bytes, EVP_sha1(), nullptr) != 1) {
        return {};
    }
    return Base64(std::string_view(reinterpret_cast<const char*>(digest), digest_bytes));
}

std::mt19937_64& Random() {
    thread_local std::mt19937_64 random(std::random_device{}());
    return random;
}

std::string RandomBytes(size_t count) {
    std::string bytes(count, '\0');
    for (char& byte : bytes) byte = static_cast<char>(Random()() & 0xFF);
    return bytes;
}

}  // namespace

TestWebSocketClient::TestWebSocketClient(std::string host, uint16_t port,
                                         TestWebSocketClientOptions options)
    : host_(std::move(host)), port_(port), options_(options) {}

TestWebSocketClient::~TestWebSocketClient() { Close(); }

void TestWebSocketClient::Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    pending_.clear();
}

Status TestWebSocketClient::ConnectSocket() {
    Close();
    close_sent_ = false;
    close_code_.reset();
    close_reason_.clear();
    auto fd = TestConnect(host_, port_, options_.receive_buffer_bytes);
    if (!fd) return fd.error();
    fd_ = *fd;
    return Status::Ok();
}

Result<HttpResult> TestWebSocketClient::Connect(std::string_view target,
                                                const HttpHeaders& headers) {
    BURSAR_RETURN_IF_ERROR(ConnectSocket());
    const std::string key = Base64(RandomBytes(kKeyBytes));
    std::string request;
    request.append("GET ").append(target).append(" HTTP/1.1\r\n");
    request.append("Host: ").append(host_).append(":").append(std::to_string(port_));
    request.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
    request.append("Sec-WebSocket-Key: ").append(key).append("\r\n");
    request.append("Sec-WebSocket-Version: 13\r\n");
    for (const auto& [name, value] : headers) {
        request.append(name).append(": ").append(value).append("\r\n");
    }
    request.append("\r\n");
    Status sent = SendAll(request);
    if (!sent.ok()) {
        Close();
        return Error(sent);
    }

    const uint64_t deadline_ms = TestNowMs() + options_.timeout_ms;
    HttpResult result;
    Status head = TestReadHead(fd_, &pending_, deadline_ms, kHandshakeResponseBytesMax, &result);
    if (!head.ok()) {
        Close();
        return Error(head);
    }

    if (result.status == 101) {
        const std::string* accept = result.Header("sec-websocket-accept");
        const std::string* upgrade = result.Header("upgrade");
        if (accept == nullptr || *accept != AcceptKey(key) || upgrade == nullptr ||
            TestLowercase(*upgrade) != "websocket") {
            Close();
            return Error(StatusCode::kCorruption, "bad WebSocket handshake response");
        }
        return result;
    }
    // Refused: the body follows, framed by Content-Length.
    const std::string* length_header = result.Header("content-length");
    const uint64_t length =
        length_header == nullptr ? 0 : std::strtoull(length_header->c_str(), nullptr, 10);
    if (length > kHandshakeResponseBytesMax) {
        Close();
        return Error(StatusCode::kCorruption, "response body too large");
    }
    while (pending_.size() < length) {
        Status status = ReadMore(deadline_ms);
        if (!status.ok()) {
            Close();
            return Error(status);
        }
    }
    result.body = pending_.substr(0, length);
    Close();
    return result;
}

Status TestWebSocketClient::SendAll(std::string_view bytes) {
    return TestSendAll(fd_, bytes, TestNowMs() + options_.timeout_ms);
}

Status TestWebSocketClient::ReadMore(uint64_t deadline_ms) {
    return TestReadMore(fd_, &pending_, deadline_ms);
}

Result<TestWebSocketClient::Frame> TestWebSocketClient::ReadFrame(uint64_t deadline_ms) {
    size_t header_bytes = 2;
    while (true) {
        while (pending_.size() < header_bytes) BURSAR_RETURN_IF_ERROR(ReadMore(deadline_ms));
        const auto byte1 = static_cast<uint8_t>(pending_[1]);
        const uint8_t length7 = byte1 & 0x7F;
        const size_t needed = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0);
        if (needed == header_bytes) break;
        header_bytes = needed;
    }
    const auto byte0 = static_cast<uint8_t>(pending_[0]);
    const auto byte1 = static_cast<uint8_t>(pending_[1]);
    if ((byte0 & 0x70) != 0) return Error(StatusCode::kCorruption, "reserved bits set");
    if ((byte1 & 0x80) != 0) return Error(StatusCode::kCorruption, "masked frame from the server");
    uint64_t length = byte1 & 0x7F;
    if (header_bytes > 2) {
        length = 0;
        for (size_t i = 2; i < header_bytes; i++) {
            length = (length << 8) | static_cast<uint8_t>(pending_[i]);
        }
    }
    if (length > kMessageBytesMax) return Error(StatusCode::kCorruption, "frame too large");
    while (pending_.size() < header_bytes + length) {
        BURSAR_RETURN_IF_ERROR(ReadMore(deadline_ms));
    }
    Frame frame;
    frame.fin = (byte0 & 0x80) != 0;
    frame.opcode = byte0 & 0x0F;
    frame.payload = pending_.substr(header_bytes, length);
    pending_.erase(0, header_bytes + length);
    return frame;
}

Result<std::string> TestWebSocketClient::ReadMessage() {
    if (close_code_.has_value()) return Error(StatusCode::kStopped, "closed by the server");
    if (fd_ < 0) return Error(StatusCode::kInvalidArgument, "not connected");
    const uint64_t deadline_ms = TestNowMs() + options_.timeout_ms;
    std::string message;
    bool in_message = false;
    while (true) {
        Result<Frame> frame = ReadFrame(deadline_ms);
        if (!frame) {
            // After a timeout the client stays usable: a partial frame stays pending.
            if (frame.error().message() != kTestReadTimedOut) Close();
            return Error(frame.error());
        }
        switch (frame->opcode) {
            case kOpcodeText:
            case kOpcodeBinary:
            case kOpcodeContinuation:
                if ((frame->opcode == kOpcodeContinuation) != in_message) {
                    Close();
                    return Error(StatusCode::kCorruption, "bad fragmentation");
                }
                in_message = true;
                if (message.size() + frame->payload.size() > kMessageBytesMax) {
                    Close();
                    return Error(StatusCode::kCorruption, "message too large");
                }
                message += frame->payload;
                if (frame->fin) return message;
                break;
            case kOpcodePing:
                pings_received_++;
                if (options_.answer_pings)
                    BURSAR_RETURN_IF_ERROR(SendFrame(kOpcodePong, frame->payload));
                break;
            case kOpcodePong:
                pongs_received_++;
                last_pong_ = frame->payload;
                break;
            case kOpcodeClose: {
                const std::string& payload = frame->payload;
                close_code_ = payload.size() >= 2
                                  ? static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                                          static_cast<uint8_t>(payload[1]))
                                  : uint16_t{1005};  // no status received
                close_reason_ = payload.size() > 2 ? payload.substr(2) : std::string();
                if (!close_sent_) {
                    // Echo the code; the reason is optional.
                    (void)SendFrame(kOpcodeClose, payload.substr(0, 2));
                    close_sent_ = true;
                }
                return Error(
                    StatusCode::kStopped,
                    "closed by the server: " + std::to_string(*close_code_) + " " + close_reason_);
            }
            default:
                Close();
                return Error(StatusCode::kCorruption,
                             "unknown opcode " + std::to_string(frame->opcode));
        }
    }
}

Status TestWebSocketClient::SendFrame(uint8_t opcode, std::string_view payload, bool fin) {
    if (fd_ < 0) return Status(StatusCode::kInvalidArgument, "not connected");
    BURSAR_ASSERT(opcode < kOpcodeClose || payload.size() <= kControlPayloadBytesMax);
    std::string frame;
    frame.reserve(14 + payload.size());
    frame.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
    if (payload.size() < 126) {
        frame.push_back(static_cast<char>(0x80 | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        frame.push_back(static_cast<char>(0x80 | 126));
        frame.push_back(static_cast<char>(payload.size() >> 8));
        frame.push_back(static_cast<char>(payload.size() & 0xFF));
    } else {
        frame.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8) {
            frame.push_back(
                static_cast<char>((static_cast<uint64_t>(payload.size()) >> shift) & 0xFF));
        }
    }
    const std::string mask = RandomBytes(4);
    frame += mask;
    for (size_t i = 0; i < payload.size(); i++) frame.push_back(payload[i] ^ mask[i % 4]);
    return SendAll(frame);
}

Status TestWebSocketClient::SendText(std::string_view text) { return SendFrame(kOpcodeText, text); }

Status TestWebSocketClient::SendClose(uint16_t code, std::string_view reason) {
    std::string payload;
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason);
    close_sent_ = true;
    return SendFrame(kOpcodeClose, payload);
}

bool TestWebSocketClient::WaitForServerClose() {
    while (fd_ >= 0) {
        Result<std::string> message = ReadMessage();
        if (message) continue;
        if (message.error().code() == StatusCode::kStopped) break;  // the close frame came
        return message.error().code() == StatusCode::kNotFound;
    }
    if (fd_ < 0) return true;
    // After the close frames, the server ends the TCP connection.
    const uint64_t deadline_ms = TestNowMs() + options_.timeout_ms;
    while (true) {
        Status status = ReadMore(deadline_ms);
        if (status.code() == StatusCode::kNotFound) {
            Close();
            return true;
        }
        if (!status.ok()) return false;
        pending_.clear();
    }
}

}  // namespace bursar::api
