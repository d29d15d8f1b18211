#include "base/json_writer.h"

#include <charconv>
#include <cstdint>

namespace bursar {

namespace {

bool IsContinuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629 table 3-7), or 0.
size_t Utf8SequenceLength(std::string_view text) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
    const uint8_t lead = byte(0);
    if (lead < 0x80) return 1;
    size_t length = 0;
    uint8_t second_min = 0x80;
    uint8_t second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) second_min = 0xA0;  // no overlong forms
        if (lead == 0xED) second_max = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) second_min = 0x90;  // no overlong forms
        if (lead == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (text.size() < length) return 0;
    if (byte(1) < second_min || byte(1) > second_max) return 0;
    for (size_t i = 2; i < length; i++) {
        if (!IsContinuation(byte(i))) return 0;
    }
    return length;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
    static constexpr char kHexDigits[] = "0123456789abcdef";
    static constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD
    out += '"';
    size_t i = 0;
    while (i < text.size()) {
        // A run of characters that need no escaping is copied at once.
        size_t plain = i;
        while (plain < text.size()) {
            const auto p = static_cast<uint8_t>(text[plain]);
            if (p < 0x20 || p >= 0x80 || p == '"' || p == '\\') break;
            plain++;
        }
        if (plain > i) {
            out.append(text.data() + i, plain - i);
            i = plain;
            continue;
        }
        const auto c = static_cast<uint8_t>(text[i]);
        if (c >= 0x80) {
            const size_t length = Utf8SequenceLength(text.substr(i));
            if (length == 0) {
                out += kReplacementCharacter;
                i++;
            } else {
                out += text.substr(i, length);
                i += length;
            }
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += kHexDigits[c >> 4];
                    out += kHexDigits[c & 0xF];
                } else {
                    out += static_cast<char>(c);
                }
        }
        i++;
    }
    out += '"';
}

std::string JsonQuote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    AppendJsonString(out, text);
    return out;
}

void JsonWriter::Separate() {
    if (need_comma_) text_.push_back(',');
    need_comma_ = true;
}

JsonWriter& JsonWriter::BeginObject() {
    Separate();
    text_.push_back('{');
    need_comma_ = false;
    return *this;
}

JsonWriter& JsonWriter::EndObject() {
    text_.push_back('}');
    need_comma_ = true;
    return *this;
}

JsonWriter& JsonWriter::BeginArray() {
    Separate();
    text_.push_back('[');
    need_comma_ = false;
    return *this;
}

JsonWriter& JsonWriter::EndArray() {
    text_.push_back(']');
    need_comma_ = true;
    return *this;
}

JsonWriter::JsonWriter() { text_.reserve(kReservedBytes); }

JsonWriter& JsonWriter::Key(std::string_view key) {
    Separate();
    AppendJsonString(text_, key);
    text_.push_back(':');
    need_comma_ = false;
    return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
    Separate();
    AppendJsonString(text_, value);
    return *this;
}

JsonWriter& JsonWriter::Number(uint64_t value) {
    Separate();
    char digits[20];  // UINT64_MAX has 20
    const auto result = std::to_chars(digits, digits + sizeof(digits), value);
    text_.append(digits, result.ptr);
    return *this;
}

JsonWriter& JsonWriter::Signed(int64_t value) {
    Separate();
    char digits[21];  // INT64_MIN has 19 digits and a sign
    const auto result = std::to_chars(digits, digits + sizeof(digits), value);
    text_.append(digits, result.ptr);
    return *this;
}

JsonWriter& JsonWriter::Number(u128 value) {
    if (value <= UINT64_MAX) return Number(static_cast<uint64_t>(value));
    Separate();
    text_ += U128ToString(value);
    return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
    Separate();
    text_ += value ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::Null() {
    Separate();
    text_ += "null";
    return *this;
}

}  // namespace bursar
