#include "snapshot/snapshot.h"

#include <gtest/gtest.h>

#include "base/sim_file_system.h"

namespace bursar::snapshot {
namespace {

using ledger::Account;
using ledger::Transfer;

std::unique_ptr<payments::Platform> MakeState(int transfers) {
    auto platform = std::make_unique<payments::Platform>();
    ledger::StateMachine* state = &platform->ledger();
    std::vector<ledger::EventResult> results;
    state->BeginBatch(1000);
    std::vector<Account> accounts(2);
    for (int i = 0; i < 2; ++i) {
        accounts[i] = Account{};
        accounts[i].id = i + 1;
        accounts[i].currency = 392;
        accounts[i].kind = 1;
    }
    state->CreateAccounts(accounts, &results);
    std::vector<Transfer> batch;
    for (int i = 0; i < transfers; ++i) {
        Transfer t{};
        t.id = 100 + i;
        t.debit_account_id = 1;
        t.credit_account_id = 2;
        t.amount = 10 + i;
        t.currency = 392;
        t.code = 1;
        batch.push_back(t);
    }
    state->CreateTransfers(batch, &results);
    state->EndBatch();
    EXPECT_TRUE(results.empty());
    return platform;
}

TEST(Snapshot, WriteLoadKeepsTheNewestTwo) {
    SimFileSystem fs(1);
    ASSERT_TRUE(fs.CreateDir("snap").ok());
    EXPECT_FALSE(LoadNewest(fs, "snap", {}, nullptr)->has_value());
    for (uint64_t seq = 1; seq <= 4; ++seq) {
        auto state = MakeState(static_cast<int>(seq * 10));
        SnapshotInfo info{kFormatVersion, seq, Hash256{static_cast<uint8_t>(seq)},
                          state->StateHash()};
        ASSERT_TRUE(Write(fs, "snap", info, *state->Freeze()).ok());
    }
    EXPECT_EQ(fs.ListDir("snap")->size(), kSnapshotsKept);
    auto loaded = LoadNewest(fs, "snap", {}, nullptr);
    ASSERT_TRUE(loaded && loaded->has_value());
    EXPECT_EQ((*loaded)->info.seq, 4u);
    EXPECT_EQ((*loaded)->info.record_hash[0], 4);
    EXPECT_EQ((*loaded)->state->ledger().transfer_count(), 40u);
    EXPECT_EQ((*loaded)->state->StateHash(), MakeState(40)->StateHash());
}

TEST(Snapshot, DamagedSnapshotFallsBackToTheOlderOne) {
    SimFileSystem fs(2);
    ASSERT_TRUE(fs.CreateDir("snap").ok());
    for (uint64_t seq = 1; seq <= 2; ++seq) {
        auto state = MakeState(static_cast<int>(seq * 10));
        ASSERT_TRUE(
            Write(fs, "snap", {kFormatVersion, seq, {}, state->StateHash()}, *state->Freeze())
                .ok());
    }
    fs.CorruptByte("snap/" + SnapshotName(2), 500);
    std::vector<std::string> skipped;
    auto loaded =
        LoadNewest(fs, "snap", {}, [&](const std::string& why) { skipped.push_back(why); });
    ASSERT_TRUE(loaded && loaded->has_value());
    EXPECT_EQ((*loaded)->info.seq, 1u);
    EXPECT_EQ(skipped.size(), 1u);
}

TEST(Snapshot, PowerCutBeforeTheDirectorySyncLeavesNoHalfSnapshot) {
    SimFileSystem fs(3);
    ASSERT_TRUE(fs.CreateDir("snap").ok());
    auto state = MakeState(5);
    fs.FailRenames(true);
    EXPECT_FALSE(Write(fs, "snap", {7, {}, state->StateHash()}, *state->Freeze()).ok());
    fs.PowerCut();
    auto loaded = LoadNewest(fs, "snap", {}, nullptr);
    ASSERT_TRUE(loaded);
    EXPECT_FALSE(loaded->has_value());
}

}  // namespace
}  // namespace bursar::snapshot
