#pragma once

// RFC 6455 framing as the server speaks it: the parser of what a client sends, and the frames the
// server writes. Plain C++: no Boost, no socket; websocket_session.cc feeds the parser what the
// socket reads and sends what the writers append. No extension is ever agreed.
//
// The parser checks every frame of the client: masked (a client masks every frame), no reserved
// bit, a length below 2^63, a known opcode; a control frame final and at most 125 bytes; a
// continuation only inside a fragmented message, a text or binary frame only outside one. It
// counts each message's bytes against a bound. Data payloads are skipped as they arrive, never
// kept: between reads it holds at most one frame's header, or one whole control frame.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/websocket_protocol.h"

namespace bursar::api {

// Why a client's frames break the protocol. Numbers are stable.
enum class WebSocketFrameError : uint8_t {
    kNone = 0,
    kMalformedFrame = 1,              // unmasked, a reserved bit set, or a length of 2^63 or more
    kBadControlFrame = 2,             // fragmented, over 125 bytes, or opcode 0xB..0xF
    kContinuationWithoutMessage = 3,  // opcode 0 while no fragmented message is under way
    kMessageInsideMessage = 4,        // a text or binary frame while one is under way
    kUnknownOpcode = 5,               // opcode 0x3..0x7
};

// What the server logs, e.g. "malformed frame".
std::string_view Describe(WebSocketFrameError error);

// Numbers are stable.
enum class WebSocketFrameEventKind : uint8_t {
    kNeedMore = 0,       // nothing whole in the bytes so far: Append() more
    kDataFrame = 1,      // a data frame's header; its payload is skipped as it comes
    kControlFrame = 2,   // a whole control frame, its payload unmasked
    kMessageTooBig = 3,  // a data frame's header that takes its message over the bound
    kProtocolError = 4,  // final: later bytes are dropped and Next() gives kNeedMore
};

struct WebSocketFrameEvent {
    WebSocketFrameEventKind kind = WebSocketFrameEventKind::kNeedMore;
    // kDataFrame, kMessageTooBig and kControlFrame: the frame's.
    uint8_t opcode = 0;
    bool final = false;
    uint64_t payload_bytes = 0;
    // kControlFrame: the unmasked payload, inside the parser: valid until its next call.
    std::string_view payload;
    WebSocketFrameError error = WebSocketFrameError::kNone;  // kProtocolError
};

// Threads: one at a time.
class WebSocketFrameParser {
  public:
    // What the parser holds between reads, at most: the start of one frame.
    static constexpr size_t kBufferedBytesMax =
        rfc6455::kFrameHeaderBytesMax + rfc6455::kControlPayloadBytesMax;

    // A message (its fragments together) over `message_bytes_max` gives kMessageTooBig.
    explicit WebSocketFrameParser(uint64_t message_bytes_max)
        : message_bytes_max_(message_bytes_max) {}

    // The next bytes the client sent. Call Next() until it gives kNeedMore first.
    void Append(std::string_view bytes);
    // The next event in the bytes appended so far.
    WebSocketFrameEvent Next();

    bool broken() const { return broken_; }  // a kProtocolError was given
    size_t buffered_bytes() const { return input_.size() - at_; }

  private:
    WebSocketFrameEvent Fail(WebSocketFrameError error);

    const uint64_t message_bytes_max_;
    std::string input_;  // bytes appended and not yet parsed, from at_ on
    size_t at_ = 0;
    bool broken_ = false;
    uint64_t skip_bytes_ = 0;       // of a data frame's payload, still to come and be skipped
    bool skipping_final_ = false;   // that frame ends its message
    bool message_started_ = false;  // a fragmented message is under way
    uint64_t message_bytes_ = 0;    // of the message under way, saturating
};

// Appends one whole, final, unmasked frame: what a server sends.
void AppendWebSocketFrame(std::string* out, uint8_t opcode, std::string_view payload);
// Appends a close frame with `code` and `reason`, which fits (WebSocketCloseReason()).
void AppendWebSocketCloseFrame(std::string* out, uint16_t code, std::string_view reason);
// `reason` cut to what fits a close frame (rfc6455::kCloseReasonBytesMax), at a UTF-8 character
// boundary.
std::string WebSocketCloseReason(std::string reason);

}  // namespace bursar::api
