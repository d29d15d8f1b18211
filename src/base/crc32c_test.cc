#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace bursar::crc32c {
namespace {

TEST(Crc32c, KnownValues) {
    // RFC 3720 B.4 test vectors.
    char zeros[32] = {};
    EXPECT_EQ(Value(zeros, sizeof(zeros)), 0x8a9136aau);
    char ones[32];
    std::memset(ones, 0xff, sizeof(ones));
    EXPECT_EQ(Value(ones, sizeof(ones)), 0x62a8ab43u);
    EXPECT_EQ(Value("123456789", 9), 0xe3069283u);
}

TEST(Crc32c, ExtendEqualsWhole) {
    std::string text = "hello, double-entry world, with an odd length!";
    uint32_t whole = Value(text.data(), text.size());
    for (size_t split = 0; split <= text.size(); ++split) {
        uint32_t part = Extend(Value(text.data(), split), text.data() + split, text.size() - split);
        EXPECT_EQ(part, whole) << split;
    }
}

TEST(Crc32c, MaskRoundTripsAndDiffers) {
    uint32_t crc = Value("foo", 3);
    EXPECT_NE(Mask(crc), crc);
    EXPECT_NE(Mask(Mask(crc)), crc);
    EXPECT_EQ(Unmask(Mask(crc)), crc);
    EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
}

}  // namespace
}  // namespace bursar::crc32c
