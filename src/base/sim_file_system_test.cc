#include "base/sim_file_system.h"

#include <gtest/gtest.h>

namespace bursar {
namespace {

TEST(SimFileSystem, SyncedBytesSurvivePowerCut) {
    SimFileSystem fs(1);
    ASSERT_TRUE(fs.CreateDir("d").ok());
    auto file = fs.OpenAppendable("d/f");
    ASSERT_TRUE(file);
    ASSERT_TRUE((*file)->Append("durable", 7).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE(fs.SyncDir("d").ok());
    ASSERT_TRUE((*file)->Append("-volatile-tail", 14).ok());
    fs.PowerCut();
    auto data = fs.ReadFile("d/f");
    ASSERT_TRUE(data);
    ASSERT_GE(data->size(), 7u);
    EXPECT_EQ(data->substr(0, 7), "durable");
    EXPECT_LE(data->size(), 21u);
    // A handle from before the cut is dead.
    EXPECT_FALSE((*file)->Append("x", 1).ok());
}

TEST(SimFileSystem, UnsyncedDirectoryEntryIsLost) {
    SimFileSystem fs(2);
    ASSERT_TRUE(fs.CreateDir("d").ok());
    auto file = fs.OpenAppendable("d/new");
    ASSERT_TRUE(file);
    ASSERT_TRUE((*file)->Append("x", 1).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    fs.PowerCut();
    EXPECT_FALSE(fs.Exists("d/new"));
}

TEST(SimFileSystem, RenameIsDurableOnlyAfterSyncDir) {
    SimFileSystem fs(3);
    ASSERT_TRUE(fs.CreateDir("d").ok());
    auto file = fs.OpenAppendable("d/a.tmp");
    ASSERT_TRUE((*file)->Append("snap", 4).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE(fs.SyncDir("d").ok());
    ASSERT_TRUE(fs.Rename("d/a.tmp", "d/a").ok());
    fs.PowerCut();
    EXPECT_TRUE(fs.Exists("d/a.tmp"));
    EXPECT_FALSE(fs.Exists("d/a"));
    ASSERT_TRUE(fs.Rename("d/a.tmp", "d/a").ok());
    ASSERT_TRUE(fs.SyncDir("d").ok());
    fs.PowerCut();
    EXPECT_TRUE(fs.Exists("d/a"));
    EXPECT_EQ(*fs.ReadFile("d/a"), "snap");
}

// Space written ahead and overwritten later (a preallocated journal segment): synced overwrites
// stay; unsynced ones keep at most a prefix, and the rest returns to what was synced before.
TEST(SimFileSystem, OverwritesSurvivePowerCutOnlyWhenSynced) {
    for (uint64_t seed = 0; seed < 50; ++seed) {
        SimFileSystem fs(seed);
        ASSERT_TRUE(fs.CreateDir("d").ok());
        auto ahead = fs.OpenAppendable("d/f");
        ASSERT_TRUE((*ahead)->Append(std::string(64, '\0').data(), 64).ok());
        ASSERT_TRUE((*ahead)->Sync().ok());
        ASSERT_TRUE(fs.SyncDir("d").ok());
        auto file = fs.OpenAt("d/f", 8);
        ASSERT_TRUE(file);
        ASSERT_TRUE((*file)->Append("synced", 6).ok());
        EXPECT_EQ((*file)->Size(), 14u);
        ASSERT_TRUE((*file)->Sync().ok());
        ASSERT_TRUE((*file)->Append("volatile", 8).ok());
        EXPECT_EQ(fs.ReadFile("d/f")->size(), 64u);  // inside the space written ahead
        fs.PowerCut();
        const std::string data = *fs.ReadFile("d/f");
        ASSERT_EQ(data.size(), 64u);
        EXPECT_EQ(data.substr(0, 8), std::string(8, '\0'));
        EXPECT_EQ(data.substr(8, 6), "synced");
        // A prefix of "volatile" (its last kept bytes possibly torn), then the zeros again.
        size_t kept = 0;
        while (kept < 8 && data[14 + kept] != '\0') kept++;
        EXPECT_EQ(data.substr(14 + kept), std::string(64 - 14 - kept, '\0'));
    }
}

TEST(SimFileSystem, OpenAtWritesPastTheEnd) {
    SimFileSystem fs(5);
    ASSERT_TRUE(fs.CreateDir("d").ok());
    EXPECT_FALSE(fs.OpenAt("d/missing", 0));
    auto file = fs.OpenAppendable("d/f");
    ASSERT_TRUE((*file)->Append("abc", 3).ok());
    auto at = fs.OpenAt("d/f", 2);
    ASSERT_TRUE((*at)->Append("XYZ", 3).ok());
    EXPECT_EQ(*fs.ReadFile("d/f"), "abXYZ");
    EXPECT_EQ((*at)->Size(), 5u);
}

TEST(SimFileSystem, InjectedFaults) {
    SimFileSystem fs(4);
    ASSERT_TRUE(fs.CreateDir("d").ok());
    auto file = fs.OpenAppendable("d/f");
    fs.FailSyncAfter(1);
    EXPECT_TRUE((*file)->Sync().ok());
    EXPECT_FALSE((*file)->Sync().ok());
    EXPECT_TRUE((*file)->Sync().ok());
    fs.FailAppendAfter(0);
    EXPECT_FALSE((*file)->Append("x", 1).ok());
    fs.FailRenames(true);
    EXPECT_FALSE(fs.Rename("d/f", "d/g").ok());
}

}  // namespace
}  // namespace bursar
