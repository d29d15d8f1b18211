#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace bursar::config {
namespace {

TEST(Config, DefaultsFileThenEnvironment) {
    const std::string path = ::testing::TempDir() + "/bursar.conf";
    std::ofstream(path) << "# comment\nlisten = 127.0.0.1:9000\nio_threads=4\n";
    std::string listen = "BURSAR_LISTEN=127.0.0.1:9100";
    std::string other = "HOME=/root";
    std::string test = "BURSAR_TEST_ANYTHING=1";
    char* environment[] = {listen.data(), other.data(), test.data(), nullptr};
    auto config = Config::Load(path, environment);
    ASSERT_TRUE(config) << config.error().ToString();
    EXPECT_EQ(config->Get("listen"), "127.0.0.1:9100");  // the environment wins
    EXPECT_EQ(config->Number("io_threads"), 4u);
    EXPECT_EQ(config->Get("default_currency"), "JPY");
}

TEST(Config, UnknownKeysAndBadValuesAreRejected) {
    const std::string path = ::testing::TempDir() + "/bad.conf";
    std::ofstream(path) << "lisen = 1\n";
    auto config = Config::Load(path, nullptr);
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().message().find("unknown key 'lisen'"), std::string::npos);
    std::string unknown = "BURSAR_LISTN=x";
    char* environment[] = {unknown.data(), nullptr};
    EXPECT_FALSE(Config::Load("", environment));
    for (std::string bad :
         {"BURSAR_IO_THREADS=0", "BURSAR_IO_THREADS=abc", "BURSAR_LISTEN=nope",
          "BURSAR_DEFAULT_CURRENCY=XXX", "BURSAR_RECOVERY_MODE=maybe", "BURSAR_UTC_OFFSET=9",
          "BURSAR_UTC_OFFSET=+15:00", "BURSAR_JOURNAL_PREALLOCATE=yes"}) {
        char* env[] = {bad.data(), nullptr};
        EXPECT_FALSE(Config::Load("", env)) << bad;
    }
}

TEST(Config, UtcOffset) {
    EXPECT_EQ(ParseUtcOffset("+09:00"), 540);
    EXPECT_EQ(ParseUtcOffset("-03:30"), -210);
    EXPECT_EQ(ParseUtcOffset("+00:00"), 0);
    EXPECT_FALSE(ParseUtcOffset("09:00"));
    EXPECT_FALSE(ParseUtcOffset("+09:60"));
}

}  // namespace
}  // namespace bursar::config
