#pragma once

// CRC32C (Castagnoli), hardware-accelerated with SSE4.2 when the processor has it. Stored CRCs
// are masked as in LevelDB so that a CRC over bytes that contain CRCs stays strong.

#include <cstddef>
#include <cstdint>

namespace bursar::crc32c {

uint32_t Extend(uint32_t crc, const void* data, size_t size);
inline uint32_t Value(const void* data, size_t size) { return Extend(0, data, size); }

inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
    uint32_t rotated = masked - kMaskDelta;
    return (rotated >> 17) | (rotated << 15);
}

}  // namespace bursar::crc32c
