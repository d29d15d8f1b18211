#include "base/write_pacer.h"

#include <gtest/gtest.h>

namespace bursar {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kMs = 1'000'000;

TEST(WritePacerTest, SyncsEverySoManyBytes) {
    WritePacer pacer(1'000 * kMiB, 4 * kMiB, 0);
    EXPECT_FALSE(pacer.Wrote(kMiB, 0).sync);
    EXPECT_FALSE(pacer.Wrote(2 * kMiB, 0).sync);
    EXPECT_TRUE(pacer.Wrote(kMiB, 0).sync);  // 4 MiB
    EXPECT_FALSE(pacer.Wrote(3 * kMiB, 0).sync);
    EXPECT_TRUE(pacer.Wrote(5 * kMiB, 0).sync);
}

TEST(WritePacerTest, WaitsWhenAheadOfItsRate) {
    WritePacer pacer(64 * kMiB, kMiB, 5'000 * kMs);  // 1 MiB takes 15.625 ms
    // Written at once: wait until the rate allows it.
    EXPECT_EQ(pacer.Wrote(kMiB, 5'000 * kMs).wait_ns, 15'625'000u);
    // Slower than the rate: no wait.
    EXPECT_EQ(pacer.Wrote(kMiB, 5'040 * kMs).wait_ns, 0u);
    // 3 MiB are due at 46.875 ms after the start.
    EXPECT_EQ(pacer.Wrote(kMiB, 5'040 * kMs).wait_ns, 6'875'000u);
}

TEST(WritePacerTest, LargeAmountsDoNotOverflow) {
    WritePacer pacer(64 * kMiB, kMiB, 0);
    const uint64_t terabyte = kMiB * kMiB;
    // 2^40 bytes at 2^26 bytes a second: 16 384 s.
    EXPECT_EQ(pacer.Wrote(terabyte, 0).wait_ns, 16'384ull * 1'000'000'000);
}

}  // namespace
}  // namespace bursar
