// The id index's pauses while it grows: inserts 8 Mi ids into an index sized for 64 Ki (as the
// transfer index of `bursar serve` starts), timing every insert. Prints the total time, the
// longest single insert and how many took over 1 ms. A benchmark: it reports numbers.
//
//   build/release/bench/bursar_id_index_growth

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "ledger/id_index.h"

int main() {
    using Clock = std::chrono::steady_clock;
    constexpr uint64_t kIds = 8u << 20;
    constexpr uint64_t kSlowNs = 1'000'000;
    bursar::ledger::IdIndex index(1 << 16);
    uint64_t longest_ns = 0;
    uint64_t longest_at = 0;
    uint64_t slow = 0;
    const auto start = Clock::now();
    for (uint64_t i = 1; i <= kIds; ++i) {
        const auto before = Clock::now();
        index.Insert(bursar::MakeU128(i * 0x9e3779b97f4a7c15ull, i), static_cast<uint32_t>(i));
        const auto ns = static_cast<uint64_t>((Clock::now() - before).count());
        if (ns > longest_ns) {
            longest_ns = ns;
            longest_at = i;
        }
        slow += ns > kSlowNs ? 1 : 0;
    }
    const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("inserts: %llu in %.3f s (%.0f ns each)\n", static_cast<unsigned long long>(kIds),
                total_s, total_s * 1e9 / kIds);
    std::printf("longest insert: %.3f ms (insert %llu); inserts over 1 ms: %llu\n",
                static_cast<double>(longest_ns) / 1e6, static_cast<unsigned long long>(longest_at),
                static_cast<unsigned long long>(slow));
    std::printf("index: %llu MiB\n", static_cast<unsigned long long>(index.MemoryBytes() >> 20));
    return 0;
}
