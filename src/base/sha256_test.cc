#include "base/sha256.h"

#include <gtest/gtest.h>

namespace bursar {
namespace {

TEST(Sha256, KnownValues) {
    EXPECT_EQ(HashToHex(Sha256::Of("", 0)),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(HashToHex(Sha256::Of("abc", 3)),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsWhole) {
    Sha256 sha;
    sha.Update("a", 1);
    sha.Update("bc", 2);
    EXPECT_EQ(sha.Finish(), Sha256::Of("abc", 3));
}

}  // namespace
}  // namespace bursar
