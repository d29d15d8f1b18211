// libFuzzer target: the WebSocket frame parser (api/websocket_frame.h), which reads what any
// client sends. Whatever the bytes and however they are cut into reads, the parser finds the same
// events; a control frame is whole, final and at most 125 bytes; nothing follows a protocol
// error; and it never crashes (AddressSanitizer and UBSan watch every access, BURSAR_ASSERT the
// parser's bound on what it keeps).
//
// Input: byte 0 picks the message bound, byte 1 the read size; the rest is the client's bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/websocket_frame.h"
#include "api/websocket_protocol.h"

namespace {

using bursar::api::WebSocketFrameEvent;
using bursar::api::WebSocketFrameEventKind;
using bursar::api::WebSocketFrameParser;
namespace rfc6455 = bursar::api::rfc6455;

struct Event {
    WebSocketFrameEventKind kind;
    uint8_t opcode;
    bool final;
    uint64_t payload_bytes;
    std::string payload;
    bursar::api::WebSocketFrameError error;
    bool operator==(const Event&) const = default;
};

void Check(bool condition) {
    if (!condition) __builtin_trap();
}

// Takes every event the parser has; checks each on the way.
void Drain(WebSocketFrameParser& parser, std::vector<Event>* events) {
    while (true) {
        const WebSocketFrameEvent event = parser.Next();
        Check(parser.buffered_bytes() <= WebSocketFrameParser::kBufferedBytesMax ||
              event.kind != WebSocketFrameEventKind::kNeedMore);
        if (event.kind == WebSocketFrameEventKind::kNeedMore) return;
        // Nothing follows a protocol error.
        if (!events->empty()) Check(events->back().kind != WebSocketFrameEventKind::kProtocolError);
        switch (event.kind) {
            case WebSocketFrameEventKind::kControlFrame:
                Check(event.final && event.payload.size() == event.payload_bytes &&
                      event.payload_bytes <= rfc6455::kControlPayloadBytesMax);
                Check(event.opcode == rfc6455::kOpcodeClose ||
                      event.opcode == rfc6455::kOpcodePing || event.opcode == rfc6455::kOpcodePong);
                break;
            case WebSocketFrameEventKind::kDataFrame:
            case WebSocketFrameEventKind::kMessageTooBig:
                Check(event.opcode == rfc6455::kOpcodeContinuation ||
                      event.opcode == rfc6455::kOpcodeText ||
                      event.opcode == rfc6455::kOpcodeBinary);
                Check(event.payload_bytes >> 63 == 0);
                break;
            case WebSocketFrameEventKind::kProtocolError:
                Check(parser.broken() && parser.buffered_bytes() == 0);
                break;
            case WebSocketFrameEventKind::kNeedMore:
                break;
        }
        events->push_back(Event{event.kind, event.opcode, event.final, event.payload_bytes,
                                std::string(event.payload), event.error});
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const uint64_t message_bytes_max = uint64_t{1} << (data[0] % 24);
    const size_t read_bytes = 1 + data[1];
    const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

    std::vector<Event> whole;
    WebSocketFrameParser at_once(message_bytes_max);
    at_once.Append(bytes);
    Drain(at_once, &whole);

    std::vector<Event> cut;
    WebSocketFrameParser in_reads(message_bytes_max);
    for (size_t at = 0; at < bytes.size(); at += read_bytes) {
        in_reads.Append(bytes.substr(at, read_bytes));
        Drain(in_reads, &cut);
    }
    Check(cut == whole);
    Check(in_reads.broken() == at_once.broken());
    return 0;
}
