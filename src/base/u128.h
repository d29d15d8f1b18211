#pragma once

// Unsigned 128-bit integers: ids and amounts in minor units. Arithmetic on money is checked:
// an overflow is a value the caller handles, never a wrap.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bursar {

using u128 = unsigned __int128;

inline constexpr u128 kU128Max = ~static_cast<u128>(0);

inline constexpr u128 MakeU128(uint64_t high, uint64_t low) {
    return (static_cast<u128>(high) << 64) | low;
}
inline constexpr uint64_t High64(u128 value) { return static_cast<uint64_t>(value >> 64); }
inline constexpr uint64_t Low64(u128 value) { return static_cast<uint64_t>(value); }

// Returns false on overflow and leaves *out unspecified.
inline bool CheckedAdd(u128 a, u128 b, u128* out) { return !__builtin_add_overflow(a, b, out); }
inline bool CheckedSub(u128 a, u128 b, u128* out) { return !__builtin_sub_overflow(a, b, out); }

std::string U128ToString(u128 value);
std::string U128ToHex(u128 value);
// Parses a decimal string of digits only; nullopt when empty, not decimal or above 2^128 - 1.
std::optional<u128> U128FromString(std::string_view text);

}  // namespace bursar
