#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

namespace bursar::crc32c {
namespace {

constexpr uint32_t kPolynomialReflected = 0x82f63b78u;

constexpr std::array<uint32_t, 256> MakeTable() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t crc = i;
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomialReflected : 0);
        table[i] = crc;
    }
    return table;
}

constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t ExtendPortable(uint32_t crc, const uint8_t* p, size_t size) {
    uint32_t state = ~crc;
    for (size_t i = 0; i < size; ++i) state = kTable[(state ^ p[i]) & 0xFF] ^ (state >> 8);
    return ~state;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const uint8_t* p,
                                                          size_t size) {
    uint64_t state = ~crc;
    while (size >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        state = _mm_crc32_u64(state, word);
        p += 8;
        size -= 8;
    }
    auto state32 = static_cast<uint32_t>(state);
    while (size > 0) {
        state32 = _mm_crc32_u8(state32, *p);
        ++p;
        --size;
    }
    return ~state32;
}

bool HasSse42() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ecx & bit_SSE4_2) != 0;
}

const bool kHardware = HasSse42();
#endif

}  // namespace

uint32_t Extend(uint32_t crc, const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
    if (kHardware) return ExtendHardware(crc, p, size);
#endif
    return ExtendPortable(crc, p, size);
}

}  // namespace bursar::crc32c
