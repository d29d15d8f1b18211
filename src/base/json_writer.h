#pragma once

// Builds JSON text: objects, arrays, escaped strings, integers (u128 included). No floating
// point: amounts are integers in minor units. The caller keeps keys and values balanced.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/u128.h"

namespace bursar {

class JsonWriter {
  public:
    JsonWriter();
    JsonWriter& BeginObject();
    JsonWriter& EndObject();
    JsonWriter& BeginArray();
    JsonWriter& EndArray();
    JsonWriter& Key(std::string_view key);
    JsonWriter& String(std::string_view value);
    JsonWriter& Number(uint64_t value);
    JsonWriter& Number(u128 value);
    JsonWriter& Signed(int64_t value);  // a number that may be negative
    JsonWriter& Bool(bool value);
    JsonWriter& Null();

    const std::string& text() const { return text_; }
    std::string Take() { return std::move(text_); }

  private:
    // Room taken at once: most documents (responses, events) fit, so the text grows rarely.
    static constexpr size_t kReservedBytes = 512;
    void Separate();
    std::string text_;
    bool need_comma_ = false;
};

// Appends `text` as a JSON string literal, quotes included. Control characters are escaped;
// bytes that are not valid UTF-8 become U+FFFD (error messages can carry user input).
void AppendJsonString(std::string& out, std::string_view text);
std::string JsonQuote(std::string_view text);

}  // namespace bursar
