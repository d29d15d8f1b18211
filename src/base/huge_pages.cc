#include "base/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace bursar {
namespace {

constexpr size_t kHugePageBytes = 2u << 20;

size_t RoundUp(size_t bytes) { return (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1); }

}  // namespace

void* AllocateLarge(size_t bytes, bool populate) {
    // Over-allocate by one huge page to align, then give back the ends.
    const size_t size = RoundUp(bytes);
    void* raw = ::mmap(nullptr, size + kHugePageBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    auto start = reinterpret_cast<uintptr_t>(raw);
    uintptr_t aligned = (start + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
    if (aligned > start) ::munmap(raw, aligned - start);
    const uintptr_t end = start + size + kHugePageBytes;
    if (end > aligned + size)
        ::munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
    ::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
    if (populate) ::madvise(reinterpret_cast<void*>(aligned), size, MADV_POPULATE_WRITE);
    return reinterpret_cast<void*>(aligned);
}

void PopulateLarge(void* memory, size_t bytes) {
    // Kernels before 5.14 do not know MADV_POPULATE_WRITE: the pages then fault in when written.
    ::madvise(memory, bytes, MADV_POPULATE_WRITE);
}

void FreeLarge(void* memory, size_t bytes) {
    if (memory != nullptr) ::munmap(memory, RoundUp(bytes));
}

}  // namespace bursar
