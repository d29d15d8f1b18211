// libFuzzer target: the JSON request decoding of the API (api/json_input.h). Whatever the bytes,
// decoding returns fields within their declared bounds or an error naming a field, and never
// crashes (AddressSanitizer and UBSan watch every access).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/json_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace bursar::api;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const ParsedFields fields =
        JsonFields::Parse(body, {{"email", FieldKind::kString, true, 3, 254},
                                 {"name", FieldKind::kString, false, 1, 200},
                                 {"amount_minor", FieldKind::kAmount, false},
                                 {"currency", FieldKind::kString, false, 3, 5}});
    if (!fields) {
        if (fields.error().message.empty()) __builtin_trap();
        return 0;
    }
    const auto email = fields->String("email");
    if (!email || email->size() < 3 || email->size() > 254) __builtin_trap();
    if (const auto name = fields->String("name"); name && (name->empty() || name->size() > 200)) {
        __builtin_trap();
    }
    if (const auto amount = fields->Amount("amount_minor");
        amount && (*amount == 0 || *amount > kAmountMinorMax)) {
        __builtin_trap();
    }
    return 0;
}
