#pragma once

// RFC 6455 constants shared by the server's own WebSocket framing (websocket_frame.h) and the
// test client (test_websocket_client.h). Plain C++: no Beast here.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bursar::api::rfc6455 {

// What Sec-WebSocket-Accept hashes with the key (RFC 6455 4.2.2).
inline constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
inline constexpr uint8_t kOpcodeContinuation = 0x0;
inline constexpr uint8_t kOpcodeText = 0x1;
inline constexpr uint8_t kOpcodeBinary = 0x2;
inline constexpr uint8_t kOpcodeClose = 0x8;
inline constexpr uint8_t kOpcodePing = 0x9;
inline constexpr uint8_t kOpcodePong = 0xA;
// A control frame's payload, at most (RFC 6455 5.5).
inline constexpr size_t kControlPayloadBytesMax = 125;
// A close frame's reason, at most: a control payload less the code's 2 bytes.
inline constexpr size_t kCloseReasonBytesMax = kControlPayloadBytesMax - 2;
// A frame's header, at most: 2 bytes, an 8-byte length, a 4-byte mask.
inline constexpr size_t kFrameHeaderBytesMax = 14;

}  // namespace bursar::api::rfc6455
