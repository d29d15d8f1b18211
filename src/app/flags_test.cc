#include "app/flags.h"

#include <gtest/gtest.h>

namespace bursar::app {
namespace {

const std::vector<FlagSpec> kSpecs = {
    {"count", "10", "a number"},
    {"name", "x", "a text"},
    {"fast", "false", "a switch", true},
};

TEST(Flags, DefaultsAndForms) {
    auto flags = Flags::Parse({"--count=5", "--name", "y", "--fast", "DIR"}, kSpecs);
    ASSERT_TRUE(flags);
    EXPECT_EQ(*flags->Number("count", 1, 100), 5u);
    EXPECT_EQ(flags->Get("name"), "y");
    EXPECT_TRUE(flags->Switch("fast"));
    EXPECT_EQ(flags->positional(), std::vector<std::string>{"DIR"});
    auto defaults = Flags::Parse({}, kSpecs);
    EXPECT_EQ(*defaults->Number("count", 1, 100), 10u);
    EXPECT_FALSE(defaults->Switch("fast"));
}

TEST(Flags, ErrorsNameTheFlag) {
    auto unknown = Flags::Parse({"--nope=1"}, kSpecs);
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message().find("--nope"), std::string::npos);
    EXPECT_FALSE(Flags::Parse({"--name"}, kSpecs));
    EXPECT_FALSE(Flags::Parse({"--fast=maybe"}, kSpecs));
    auto flags = Flags::Parse({"--count=-3"}, kSpecs);
    ASSERT_TRUE(flags);
    EXPECT_FALSE(flags->Number("count", 1, 100));
    flags = Flags::Parse({"--count=1000"}, kSpecs);
    EXPECT_FALSE(flags->Number("count", 1, 100));
}

}  // namespace
}  // namespace bursar::app
