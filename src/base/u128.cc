#include "base/u128.h"

namespace bursar {

std::string U128ToString(u128 value) {
    if (value == 0) return "0";
    char digits[40];
    int count = 0;
    while (value != 0) {
        digits[count++] = static_cast<char>('0' + static_cast<int>(value % 10));
        value /= 10;
    }
    std::string text;
    text.reserve(count);
    while (count > 0) text.push_back(digits[--count]);
    return text;
}

std::string U128ToHex(u128 value) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text(32, '0');
    for (int i = 31; i >= 0; --i) {
        text[i] = kHex[static_cast<int>(value & 0xF)];
        value >>= 4;
    }
    return text;
}

std::optional<u128> U128FromString(std::string_view text) {
    if (text.empty() || text.size() > 39) return std::nullopt;
    u128 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        u128 times_ten = 0;
        if (__builtin_mul_overflow(value, static_cast<u128>(10), &times_ten)) return std::nullopt;
        if (!CheckedAdd(times_ten, static_cast<u128>(c - '0'), &value)) return std::nullopt;
    }
    return value;
}

}  // namespace bursar
