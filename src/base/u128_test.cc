#include "base/u128.h"

#include <gtest/gtest.h>

namespace bursar {
namespace {

TEST(U128, DecimalRoundTrip) {
    EXPECT_EQ(U128ToString(0), "0");
    EXPECT_EQ(U128ToString(kU128Max), "340282366920938463463374607431768211455");
    EXPECT_EQ(U128FromString("340282366920938463463374607431768211455"), kU128Max);
    EXPECT_EQ(U128FromString("12345"), static_cast<u128>(12345));
}

TEST(U128, RejectsBadText) {
    EXPECT_FALSE(U128FromString(""));
    EXPECT_FALSE(U128FromString("-1"));
    EXPECT_FALSE(U128FromString("1.5"));
    EXPECT_FALSE(U128FromString("340282366920938463463374607431768211456"));  // 2^128
    EXPECT_FALSE(U128FromString("9999999999999999999999999999999999999999"));
}

TEST(U128, CheckedArithmetic) {
    u128 out = 0;
    EXPECT_TRUE(CheckedAdd(kU128Max - 1, 1, &out));
    EXPECT_EQ(out, kU128Max);
    EXPECT_FALSE(CheckedAdd(kU128Max, 1, &out));
    EXPECT_FALSE(CheckedSub(0, 1, &out));
    EXPECT_TRUE(CheckedSub(5, 5, &out));
    EXPECT_EQ(out, static_cast<u128>(0));
}

TEST(U128, Hex) { EXPECT_EQ(U128ToHex(MakeU128(1, 255)), "000000000000000100000000000000ff"); }

}  // namespace
}  // namespace bursar
