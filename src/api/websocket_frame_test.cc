#include "api/websocket_frame.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_server.h"
#include "api/websocket_protocol.h"

namespace bursar::api {
namespace {

using namespace rfc6455;  // NOLINT(google-build-using-namespace): the protocol's constants
using Kind = WebSocketFrameEventKind;
using Error = WebSocketFrameError;

constexpr uint64_t kMessageBytesMax = 1 << 20;
constexpr uint8_t kMaskKey[4] = {0x37, 0xFA, 0x21, 0x3D};

struct FrameSpec {
    uint8_t opcode = kOpcodeText;
    std::string payload;
    bool final = true;
    bool masked = true;
    uint8_t reserved_bits = 0;  // 0x40, 0x20, 0x10
    // 0: the shortest length encoding; 2 or 8: that many length bytes after 126 or 127.
    int length_bytes = 0;
};

// A frame as a client sends it (masked unless told otherwise).
std::string ClientFrame(const FrameSpec& spec) {
    std::string out;
    out.push_back(static_cast<char>((spec.final ? 0x80 : 0) | spec.reserved_bits | spec.opcode));
    const uint8_t mask_bit = spec.masked ? 0x80 : 0;
    const uint64_t length = spec.payload.size();
    int length_bytes = spec.length_bytes;
    if (length_bytes == 0) length_bytes = length < 126 ? 0 : length <= 0xFFFF ? 2 : 8;
    if (length_bytes == 0) {
        out.push_back(static_cast<char>(mask_bit | length));
    } else {
        out.push_back(static_cast<char>(mask_bit | (length_bytes == 2 ? 126 : 127)));
        for (int shift = 8 * (length_bytes - 1); shift >= 0; shift -= 8) {
            out.push_back(static_cast<char>((length >> shift) & 0xFF));
        }
    }
    if (spec.masked) out.append(reinterpret_cast<const char*>(kMaskKey), 4);
    for (size_t i = 0; i < spec.payload.size(); i++) {
        const uint8_t key = spec.masked ? kMaskKey[i % 4] : 0;
        out.push_back(static_cast<char>(static_cast<uint8_t>(spec.payload[i]) ^ key));
    }
    return out;
}

std::string Text(std::string payload, bool final = true) {
    return ClientFrame({.opcode = kOpcodeText, .payload = std::move(payload), .final = final});
}
std::string Continuation(std::string payload, bool final = true) {
    return ClientFrame(
        {.opcode = kOpcodeContinuation, .payload = std::move(payload), .final = final});
}
std::string Control(uint8_t opcode, std::string payload) {
    return ClientFrame({.opcode = opcode, .payload = std::move(payload)});
}

// One event as text, so that sequences compare and print readably.
std::string Show(const WebSocketFrameEvent& event) {
    switch (event.kind) {
        case Kind::kNeedMore:
            return "need-more";
        case Kind::kDataFrame:
        case Kind::kMessageTooBig:
            return std::string(event.kind == Kind::kDataFrame ? "data" : "too-big") +
                   " op=" + std::to_string(event.opcode) + (event.final ? " final" : " more") +
                   " bytes=" + std::to_string(event.payload_bytes);
        case Kind::kControlFrame:
            return "control op=" + std::to_string(event.opcode) + " '" +
                   std::string(event.payload) + "'";
        case Kind::kProtocolError:
            return "error " + std::string(Describe(event.error));
    }
    return "?";
}

// Every event until the parser needs more bytes.
std::vector<std::string> Drain(WebSocketFrameParser& parser) {
    std::vector<std::string> events;
    while (true) {
        const WebSocketFrameEvent event = parser.Next();
        if (event.kind == Kind::kNeedMore) break;
        events.push_back(Show(event));
    }
    EXPECT_LE(parser.buffered_bytes(), WebSocketFrameParser::kBufferedBytesMax);
    return events;
}

std::vector<std::string> ParseAll(std::string_view bytes, uint64_t max = kMessageBytesMax) {
    WebSocketFrameParser parser(max);
    parser.Append(bytes);
    return Drain(parser);
}

// The bytes appended in pieces cut at `cuts` (ascending offsets).
std::vector<std::string> ParseCut(std::string_view bytes, const std::vector<size_t>& cuts,
                                  uint64_t max = kMessageBytesMax) {
    WebSocketFrameParser parser(max);
    std::vector<std::string> events;
    size_t at = 0;
    for (size_t cut : cuts) {
        parser.Append(bytes.substr(at, cut - at));
        for (std::string& event : Drain(parser)) events.push_back(std::move(event));
        at = cut;
    }
    parser.Append(bytes.substr(at));
    for (std::string& event : Drain(parser)) events.push_back(std::move(event));
    return events;
}

using Events = std::vector<std::string>;

TEST(WebSocketFrameParserTest, GoodFramesOfEachOpcode) {
    const std::string bytes =
        Text("hello") + ClientFrame({.opcode = kOpcodeBinary, .payload = "\x01\x02"}) +
        Text("frag", /*final=*/false) + Continuation("ment") + Control(kOpcodePing, "ping!") +
        Control(kOpcodePong, "") + Control(kOpcodeClose, std::string("\x03\xE8", 2) + "bye");
    EXPECT_EQ(ParseAll(bytes), (Events{
                                   "data op=1 final bytes=5",
                                   "data op=2 final bytes=2",
                                   "data op=1 more bytes=4",
                                   "data op=0 final bytes=4",
                                   "control op=9 'ping!'",
                                   "control op=10 ''",
                                   "control op=8 '\x03\xE8"
                                   "bye'",
                               }));
}

TEST(WebSocketFrameParserTest, ControlPayloadComesUnmaskedAndWhole) {
    WebSocketFrameParser parser(kMessageBytesMax);
    const std::string ping = Control(kOpcodePing, "are you there");
    parser.Append(std::string_view(ping).substr(0, ping.size() - 1));
    EXPECT_EQ(parser.Next().kind, Kind::kNeedMore);  // a control frame is given whole
    EXPECT_EQ(parser.buffered_bytes(), ping.size() - 1);
    parser.Append(std::string_view(ping).substr(ping.size() - 1));
    const WebSocketFrameEvent event = parser.Next();
    EXPECT_EQ(event.kind, Kind::kControlFrame);
    EXPECT_EQ(event.opcode, kOpcodePing);
    EXPECT_TRUE(event.final);
    EXPECT_EQ(event.payload_bytes, 13u);
    EXPECT_EQ(event.payload, "are you there");
    EXPECT_EQ(parser.Next().kind, Kind::kNeedMore);
    EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(WebSocketFrameParserTest, UnmaskedFramesAreMalformed) {
    for (const uint8_t opcode : {kOpcodeText, kOpcodeBinary, kOpcodePing, kOpcodeClose}) {
        const std::string frame = ClientFrame({.opcode = opcode, .payload = "x", .masked = false});
        EXPECT_EQ(ParseAll(frame), (Events{"error malformed frame"})) << int{opcode};
    }
    // After a good masked frame, an unmasked one still fails.
    const std::string unmasked = ClientFrame({.payload = "x", .masked = false});
    EXPECT_EQ(ParseAll(Text("ok") + unmasked),
              (Events{"data op=1 final bytes=2", "error malformed frame"}));
}

TEST(WebSocketFrameParserTest, SixteenAndSixtyFourBitLengths) {
    for (const size_t size :
         {size_t{125}, size_t{126}, size_t{0xFFFF}, size_t{0x10000}, size_t{200'000}}) {
        const std::string bytes = Text(std::string(size, 'a')) + Control(kOpcodePing, "after");
        EXPECT_EQ(ParseAll(bytes),
                  (Events{"data op=1 final bytes=" + std::to_string(size), "control op=9 'after'"}))
            << size;
    }
    // A length in more bytes than it needs is still read (RFC 6455 asks for the shortest; the
    // server is lenient, as it was).
    const std::string long16 = ClientFrame({.payload = "abc", .length_bytes = 2});
    const std::string long64 = ClientFrame({.payload = "abcd", .length_bytes = 8});
    EXPECT_EQ(ParseAll(long16 + long64),
              (Events{"data op=1 final bytes=3", "data op=1 final bytes=4"}));
}

TEST(WebSocketFrameParserTest, LengthOf2To63OrMoreIsMalformed) {
    std::string frame = {static_cast<char>(0x81), static_cast<char>(0x80 | 127)};
    frame += std::string("\x80\x00\x00\x00\x00\x00\x00\x00", 8);
    frame.append(reinterpret_cast<const char*>(kMaskKey), 4);
    EXPECT_EQ(ParseAll(frame), (Events{"error malformed frame"}));
    // The largest length allowed only announces a long payload.
    frame[2] = 0x7F;
    for (size_t i = 3; i < 10; i++) frame[i] = static_cast<char>(0xFF);
    EXPECT_EQ(ParseAll(frame, UINT64_MAX), (Events{"data op=1 final bytes=9223372036854775807"}));
}

TEST(WebSocketFrameParserTest, FramesSplitAtEveryByteBoundary) {
    const std::string bytes =
        Text("first") + Text(std::string(300, 'b'), /*final=*/false) + Control(kOpcodePing, "p") +
        Continuation(std::string(70'000, 'c'), /*final=*/false) + Control(kOpcodePong, "q") +
        Continuation("", /*final=*/true) +
        ClientFrame({.opcode = kOpcodeBinary, .payload = "bin", .length_bytes = 8}) +
        Control(kOpcodeClose, std::string("\x03\xE8", 2));
    const Events whole = ParseAll(bytes);
    ASSERT_EQ(whole.size(), 8u);
    // Two pieces, cut at every offset.
    for (size_t cut = 0; cut <= bytes.size(); cut++) {
        ASSERT_EQ(ParseCut(bytes, {cut}), whole) << "cut at " << cut;
    }
    // One byte at a time.
    std::vector<size_t> every_byte;
    for (size_t cut = 1; cut < bytes.size(); cut++) every_byte.push_back(cut);
    EXPECT_EQ(ParseCut(bytes, every_byte), whole);
}

TEST(WebSocketFrameParserTest, ErrorsAreTheSameWhereverTheBytesAreCut) {
    const std::string bytes =
        Text("a", /*final=*/false) + Control(kOpcodePing, "x") + Text("nested");
    const Events whole = ParseAll(bytes);
    EXPECT_EQ(whole, (Events{"data op=1 more bytes=1", "control op=9 'x'",
                             "error new message inside a fragmented one"}));
    for (size_t cut = 0; cut <= bytes.size(); cut++) {
        ASSERT_EQ(ParseCut(bytes, {cut}), whole) << "cut at " << cut;
    }
}

TEST(WebSocketFrameParserTest, OversizeMessages) {
    constexpr uint64_t kMax = 10;
    EXPECT_EQ(ParseAll(Text(std::string(10, 'x')), kMax), (Events{"data op=1 final bytes=10"}));
    EXPECT_EQ(ParseAll(Text(std::string(11, 'x')), kMax), (Events{"too-big op=1 final bytes=11"}));
    // The fragments of one message count together; every frame past the bound says so.
    EXPECT_EQ(
        ParseAll(Text("123456", false) + Continuation("12345", false) + Continuation("1"), kMax),
        (Events{"data op=1 more bytes=6", "too-big op=0 more bytes=5",
                "too-big op=0 final bytes=1"}));
    // Control frames do not count; a new message starts from zero.
    EXPECT_EQ(ParseAll(Text("123456", false) + Control(kOpcodePing, "12345678") +
                           Continuation("1234") + Text("1234567890"),
                       kMax),
              (Events{"data op=1 more bytes=6", "control op=9 '12345678'",
                      "data op=0 final bytes=4", "data op=1 final bytes=10"}));
    // The size is known from the header: no payload byte needs to have come.
    const std::string big = Text(std::string(1000, 'x'));
    EXPECT_EQ(ParseAll(std::string_view(big).substr(0, 8), kMax),
              (Events{"too-big op=1 final bytes=1000"}));
}

TEST(WebSocketFrameParserTest, ReservedBitsAreMalformed) {
    for (const uint8_t bit : {uint8_t{0x40}, uint8_t{0x20}, uint8_t{0x10}}) {
        EXPECT_EQ(ParseAll(ClientFrame({.payload = "x", .reserved_bits = bit})),
                  (Events{"error malformed frame"}))
            << int{bit};
        EXPECT_EQ(ParseAll(ClientFrame({.opcode = kOpcodePing, .reserved_bits = bit})),
                  (Events{"error malformed frame"}))
            << int{bit};
    }
}

TEST(WebSocketFrameParserTest, BadOpcodes) {
    for (uint8_t opcode = 0x3; opcode <= 0x7; opcode++) {
        EXPECT_EQ(ParseAll(ClientFrame({.opcode = opcode, .payload = "x"})),
                  (Events{"error unknown opcode"}))
            << int{opcode};
    }
    for (uint8_t opcode = 0xB; opcode <= 0xF; opcode++) {
        EXPECT_EQ(ParseAll(ClientFrame({.opcode = opcode, .payload = "x"})),
                  (Events{"error bad control frame"}))
            << int{opcode};
    }
}

TEST(WebSocketFrameParserTest, ControlFramesOver125BytesOrFragmented) {
    EXPECT_EQ(ParseAll(Control(kOpcodePing, std::string(125, 'p'))),
              (Events{"control op=9 '" + std::string(125, 'p') + "'"}));
    for (const uint8_t opcode : {kOpcodePing, kOpcodePong, kOpcodeClose}) {
        EXPECT_EQ(ParseAll(Control(opcode, std::string(126, 'p'))),
                  (Events{"error bad control frame"}))
            << int{opcode};
        EXPECT_EQ(ParseAll(ClientFrame({.opcode = opcode, .payload = "x", .final = false})),
                  (Events{"error bad control frame"}))
            << int{opcode};
    }
    // Refused from the header alone: the 126 bytes need not come.
    const std::string big_ping = Control(kOpcodePing, std::string(126, 'p'));
    EXPECT_EQ(ParseAll(std::string_view(big_ping).substr(0, 8)),
              (Events{"error bad control frame"}));
}

TEST(WebSocketFrameParserTest, FragmentSequenceErrors) {
    EXPECT_EQ(ParseAll(Continuation("x")), (Events{"error continuation without a message"}));
    EXPECT_EQ(ParseAll(Text("done") + Continuation("x")),
              (Events{"data op=1 final bytes=4", "error continuation without a message"}));
    EXPECT_EQ(ParseAll(Text("", /*final=*/true) + Continuation("x")),
              (Events{"data op=1 final bytes=0", "error continuation without a message"}));
    EXPECT_EQ(ParseAll(Text("a", false) + Text("b")),
              (Events{"data op=1 more bytes=1", "error new message inside a fragmented one"}));
    EXPECT_EQ(ParseAll(Text("a", false) + ClientFrame({.opcode = kOpcodeBinary, .payload = "b"})),
              (Events{"data op=1 more bytes=1", "error new message inside a fragmented one"}));
    // A message of empty fragments is fine, and so is the next one.
    EXPECT_EQ(ParseAll(Text("", false) + Continuation("", false) + Continuation("") + Text("z")),
              (Events{"data op=1 more bytes=0", "data op=0 more bytes=0", "data op=0 final bytes=0",
                      "data op=1 final bytes=1"}));
}

TEST(WebSocketFrameParserTest, NothingIsParsedAfterAProtocolError) {
    WebSocketFrameParser parser(kMessageBytesMax);
    parser.Append(Control(kOpcodePing, "a") + Continuation("x") + Control(kOpcodePing, "b"));
    EXPECT_EQ(parser.Next().kind, Kind::kControlFrame);
    const WebSocketFrameEvent error = parser.Next();
    EXPECT_EQ(error.kind, Kind::kProtocolError);
    EXPECT_EQ(error.error, Error::kContinuationWithoutMessage);
    EXPECT_TRUE(parser.broken());
    EXPECT_EQ(parser.buffered_bytes(), 0u);
    EXPECT_EQ(parser.Next().kind, Kind::kNeedMore);
    parser.Append(Control(kOpcodePing, "c"));
    EXPECT_EQ(parser.Next().kind, Kind::kNeedMore);
    EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(WebSocketFrameParserTest, DataPayloadsAreSkippedNotKept) {
    WebSocketFrameParser parser(kMessageBytesMax);
    const std::string bytes = Text(std::string(100'000, 'x')) + Control(kOpcodePing, "end");
    std::vector<std::string> events;
    for (size_t at = 0; at < bytes.size(); at += 4096) {
        parser.Append(std::string_view(bytes).substr(at, 4096));
        for (std::string& event : Drain(parser)) events.push_back(std::move(event));
        EXPECT_LE(parser.buffered_bytes(), WebSocketFrameParser::kBufferedBytesMax);
    }
    EXPECT_EQ(events, (Events{"data op=1 final bytes=100000", "control op=9 'end'"}));
}

TEST(WebSocketFrameParserTest, ErrorsDescribeThemselves) {
    EXPECT_EQ(Describe(Error::kMalformedFrame), "malformed frame");
    EXPECT_EQ(Describe(Error::kBadControlFrame), "bad control frame");
    EXPECT_EQ(Describe(Error::kContinuationWithoutMessage), "continuation without a message");
    EXPECT_EQ(Describe(Error::kMessageInsideMessage), "new message inside a fragmented one");
    EXPECT_EQ(Describe(Error::kUnknownOpcode), "unknown opcode");
}

TEST(WebSocketServerFrameTest, LengthsInTheShortestEncoding) {
    struct Case {
        size_t payload_bytes;
        std::string header;
    };
    const Case cases[] = {
        {0, std::string("\x81\x00", 2)},
        {125, "\x81\x7D"},
        {126, std::string("\x81\x7E\x00\x7E", 4)},
        {0xFFFF, "\x81\x7E\xFF\xFF"},
        {0x10000, std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10)},
    };
    for (const Case& test : cases) {
        std::string out = "prefix";
        const std::string payload(test.payload_bytes, 'z');
        AppendWebSocketFrame(&out, kOpcodeText, payload);
        EXPECT_EQ(out, "prefix" + test.header + payload) << test.payload_bytes;
    }
}

TEST(WebSocketServerFrameTest, CloseFrameAndReason) {
    std::string out;
    AppendWebSocketCloseFrame(&out, 1001, "going away");
    EXPECT_EQ(out, std::string("\x88\x0C\x03\xE9", 4) + "going away");

    EXPECT_EQ(WebSocketCloseReason("short"), "short");
    const std::string fits(WebSocketSink::kCloseReasonBytesMax, 'r');
    EXPECT_EQ(WebSocketCloseReason(fits), fits);
    EXPECT_EQ(WebSocketCloseReason(fits + "more"), fits);
    // Cut before a character that does not fit whole: "é" is 2 bytes, at 122 and 123.
    const std::string accented = std::string(122, 'r') + "\xC3\xA9";
    EXPECT_EQ(WebSocketCloseReason(accented), std::string(122, 'r'));
}

}  // namespace
}  // namespace bursar::api
