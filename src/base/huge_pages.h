#pragma once

// Large, long-lived tables (id indexes, record segments) are mapped with transparent huge pages
// where the kernel allows it (`madvise` mode): a random probe into a 400 MiB index then misses
// the TLB far less often. Memory comes zeroed from the kernel.

#include <cstddef>

namespace bursar {

// Returns zeroed memory aligned to 2 MiB, or nullptr when the mapping fails. `populate` faults
// the pages in now rather than at first touch: for tables allocated at start (an index), so that
// the first requests do not pay for it (up to a second for a 400 MiB index, in `bursar bench`).
void* AllocateLarge(size_t bytes, bool populate);
// Faults in `bytes` from `memory` (inside a region from AllocateLarge) now, so that later writes
// there do not: a table is faulted in piece by piece ahead of its use.
void PopulateLarge(void* memory, size_t bytes);
void FreeLarge(void* memory, size_t bytes);

}  // namespace bursar
