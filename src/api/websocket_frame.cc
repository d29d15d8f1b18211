#include "api/websocket_frame.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"

namespace bursar::api {

using namespace rfc6455;  // NOLINT(google-build-using-namespace): the protocol's constants

std::string_view Describe(WebSocketFrameError error) {
    switch (error) {
        case WebSocketFrameError::kNone:
            return "no error";
        case WebSocketFrameError::kMalformedFrame:
            return "malformed frame";
        case WebSocketFrameError::kBadControlFrame:
            return "bad control frame";
        case WebSocketFrameError::kContinuationWithoutMessage:
            return "continuation without a message";
        case WebSocketFrameError::kMessageInsideMessage:
            return "new message inside a fragmented one";
        case WebSocketFrameError::kUnknownOpcode:
            return "unknown opcode";
    }
    return "unknown error";
}

void WebSocketFrameParser::Append(std::string_view bytes) {
    // Next() gave kNeedMore: what is left was moved to the front.
    BURSAR_ASSERT(at_ == 0);
    if (broken_) return;
    input_.append(bytes);
}

WebSocketFrameEvent WebSocketFrameParser::Next() {
    while (!broken_) {
        if (skip_bytes_ > 0) {
            const uint64_t skipped = std::min<uint64_t>(skip_bytes_, input_.size() - at_);
            at_ += skipped;
            skip_bytes_ -= skipped;
            if (skip_bytes_ > 0) break;
            if (skipping_final_) message_started_ = false;
            continue;
        }
        const size_t available = input_.size() - at_;
        if (available < 2) break;
        auto* bytes = reinterpret_cast<uint8_t*>(input_.data() + at_);
        const bool final = (bytes[0] & 0x80) != 0;
        const bool reserved_bits = (bytes[0] & 0x70) != 0;
        const uint8_t opcode = bytes[0] & 0x0F;
        const bool masked = (bytes[1] & 0x80) != 0;
        uint64_t length = bytes[1] & 0x7F;
        const size_t length_bytes = length == 126 ? 2 : length == 127 ? 8 : 0;
        const size_t header = 2 + length_bytes + (masked ? 4 : 0);
        if (available < header) break;
        if (length_bytes > 0) {
            length = 0;
            for (size_t i = 0; i < length_bytes; i++) length = length << 8 | bytes[2 + i];
        }
        // A client masks every frame; no extension was agreed, so no reserved bit is set.
        if (reserved_bits || !masked || (length >> 63) != 0) {
            return Fail(WebSocketFrameError::kMalformedFrame);
        }
        if (opcode >= kOpcodeClose) {
            if (!final || length > kControlPayloadBytesMax ||
                (opcode != kOpcodeClose && opcode != kOpcodePing && opcode != kOpcodePong)) {
                return Fail(WebSocketFrameError::kBadControlFrame);
            }
            if (available < header + length) break;  // the rest of the frame comes later
            const uint8_t* mask = bytes + header - 4;
            uint8_t* payload = bytes + header;
            for (size_t i = 0; i < length; i++) payload[i] ^= mask[i % 4];
            at_ += header + length;
            return WebSocketFrameEvent{
                .kind = WebSocketFrameEventKind::kControlFrame,
                .opcode = opcode,
                .final = true,
                .payload_bytes = length,
                .payload = std::string_view(reinterpret_cast<const char*>(payload), length),
            };
        }
        if (opcode == kOpcodeContinuation) {
            if (!message_started_) return Fail(WebSocketFrameError::kContinuationWithoutMessage);
        } else if (opcode == kOpcodeText || opcode == kOpcodeBinary) {
            if (message_started_) return Fail(WebSocketFrameError::kMessageInsideMessage);
            message_started_ = true;
            message_bytes_ = 0;
        } else {
            return Fail(WebSocketFrameError::kUnknownOpcode);
        }
        message_bytes_ = length > std::numeric_limits<uint64_t>::max() - message_bytes_
                             ? std::numeric_limits<uint64_t>::max()
                             : message_bytes_ + length;
        at_ += header;
        skip_bytes_ = length;
        skipping_final_ = final;
        if (length == 0 && final) message_started_ = false;
        return WebSocketFrameEvent{
            .kind = message_bytes_ > message_bytes_max_ ? WebSocketFrameEventKind::kMessageTooBig
                                                        : WebSocketFrameEventKind::kDataFrame,
            .opcode = opcode,
            .final = final,
            .payload_bytes = length,
        };
    }
    input_.erase(0, at_);
    at_ = 0;
    // What stays is the start of one frame: its header, or a control frame's header and payload.
    BURSAR_ASSERT(input_.size() <= kBufferedBytesMax);
    return WebSocketFrameEvent{};
}

// The frames can no longer be told apart: nothing more is parsed.
WebSocketFrameEvent WebSocketFrameParser::Fail(WebSocketFrameError error) {
    broken_ = true;
    input_.clear();
    at_ = 0;
    return WebSocketFrameEvent{.kind = WebSocketFrameEventKind::kProtocolError, .error = error};
}

void AppendWebSocketFrame(std::string* out, uint8_t opcode, std::string_view payload) {
    out->push_back(static_cast<char>(0x80 | opcode));
    const uint64_t length = payload.size();
    if (length < 126) {
        out->push_back(static_cast<char>(length));
    } else if (length <= 0xFFFF) {
        out->push_back(static_cast<char>(126));
        out->push_back(static_cast<char>(length >> 8));
        out->push_back(static_cast<char>(length & 0xFF));
    } else {
        out->push_back(static_cast<char>(127));
        for (int shift = 56; shift >= 0; shift -= 8) {
            out->push_back(static_cast<char>((length >> shift) & 0xFF));
        }
    }
    out->append(payload);
}

void AppendWebSocketCloseFrame(std::string* out, uint16_t code, std::string_view reason) {
    BURSAR_ASSERT(reason.size() <= kCloseReasonBytesMax);
    std::string payload;
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload += reason;
    AppendWebSocketFrame(out, kOpcodeClose, payload);
}

std::string WebSocketCloseReason(std::string reason) {
    if (reason.size() <= kCloseReasonBytesMax) return reason;
    size_t size = kCloseReasonBytesMax;
    while (size > 0 && (static_cast<unsigned char>(reason[size]) & 0xC0) == 0x80) size--;
    reason.resize(size);
    return reason;
}

}  // namespace bursar::api
