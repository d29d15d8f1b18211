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
