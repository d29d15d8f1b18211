#include "engine/engine.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <random>
#include <set>

#include "base/sim_file_system.h"
#include "engine/replay.h"

namespace bursar::engine {
namespace {

using ledger::Account;
using ledger::PendingStatus;
using ledger::Transfer;
namespace tf = ledger::transfer_flags;

constexpr uint64_t kStart = 1'700'000'000ull * 1'000'000'000ull;
constexpr uint32_t kJpy = 392;

Account MakeAccount(u128 id, uint16_t flags = 0) {
    Account a{};
    a.id = id;
    a.currency = kJpy;
    a.kind = 1;
    a.flags = flags;
    return a;
}

Transfer MakeTransfer(u128 id, u128 debit, u128 credit, u128 amount, uint16_t flags = 0) {
    Transfer t{};
    t.id = id;
    t.debit_account_id = debit;
    t.credit_account_id = credit;
    t.amount = amount;
    t.currency = kJpy;
    t.code = 1;
    t.flags = flags;
    return t;
}

// Submits and waits for the reply.
Request Call(Engine& engine, Request request) {
    Status status = SubmitAndWait(engine, request);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return request;
}

Request Accounts(std::vector<Account> accounts) {
    Request r;
    r.operation = Operation::kCreateAccounts;
    r.accounts = std::move(accounts);
    return r;
}

Request Transfers(std::vector<Transfer> transfers) {
    Request r;
    r.operation = Operation::kCreateTransfers;
    r.transfers = std::move(transfers);
    return r;
}

// The state hash of a fresh replay of the whole journal, ignoring snapshots: what `verify` does.
Hash256 ReplayHash(FileSystem& fs, const std::string& dir) {
    payments::Platform state;
    auto scanned =
        journal::Scan(fs, dir + "/journal", journal::ScanOptions{.from_first_segment = true},
                      [&](const journal::RecordView& r) { return ReplayRecord(state, r); });
    EXPECT_TRUE(scanned) << scanned.error().ToString();
    EXPECT_TRUE(state.ledger().CheckInvariants().ok());
    return state.StateHash();
}

class EngineTest : public ::testing::Test {
  protected:
    std::unique_ptr<Engine> Open(EngineOptions options = {}) {
        options.data_dir = "data";
        auto engine = Engine::Open(fs_, clock_, options);
        EXPECT_TRUE(engine) << engine.error().ToString();
        if (!engine) return nullptr;
        (*engine)->Start();
        return std::move(*engine);
    }

    SimFileSystem fs_{7};
    ManualClock clock_{kStart};
};

TEST_F(EngineTest, CommitsAndRecoversTheSameState) {
    auto engine = Open();
    Request created = Call(*engine, Accounts({MakeAccount(1), MakeAccount(2)}));
    EXPECT_TRUE(created.status.ok());
    EXPECT_TRUE(created.results.empty());
    EXPECT_EQ(created.seq, 1u);
    Request moved =
        Call(*engine, Transfers({MakeTransfer(10, 1, 2, 5), MakeTransfer(11, 1, 1, 5)}));
    EXPECT_EQ(moved.seq, 2u);
    ASSERT_EQ(moved.results.size(), 1u);
    EXPECT_EQ(moved.results[0].index, 1u);
    engine->Stop();
    Hash256 before = engine->platform().StateHash();
    engine.reset();

    engine = Open();
    engine->Stop();
    EXPECT_EQ(engine->platform().StateHash(), before);
    EXPECT_EQ(engine->state().FindAccount(2)->credits_posted, static_cast<u128>(5));
    EXPECT_EQ(ReplayHash(fs_, "data"), before);
}

// A snapshot waits for its record interval and until the journal has grown by the previous
// snapshot's size, so a large state is not written out again for every few small batches.
TEST_F(EngineTest, SnapshotsWaitForTheJournalToGrowByTheLastSnapshot) {
    EngineOptions options;
    options.snapshot_interval_records = 1;
    auto engine = Open(options);
    std::vector<Account> accounts;
    for (int a = 1; a <= 2000; ++a) accounts.push_back(MakeAccount(a));
    ASSERT_TRUE(Call(*engine, Accounts(accounts)).status.ok());  // state of 2000 x 128 bytes
    u128 id = 1'000'000;
    // 50 records of one transfer: far less journal than the first snapshot's size.
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(Call(*engine, Transfers({MakeTransfer(id++, 1, 2, 1)})).status.ok());
    }
    engine->Stop();  // waits for a snapshot being written
    EXPECT_EQ(engine->stats().snapshots, 1u);
    engine.reset();

    // Enough journal written after it: a second snapshot.
    engine = Open(options);
    int requests = 0;
    while (engine->stats().snapshots == 0 && requests < 5000) {
        std::vector<Transfer> batch;
        for (int k = 0; k < 32; ++k) batch.push_back(MakeTransfer(id++, 1 + k, 2 + k, 1));
        ASSERT_TRUE(Call(*engine, Transfers(batch)).status.ok());
        requests++;
    }
    EXPECT_EQ(engine->stats().snapshots, 1u);
    // 32 transfers are about 4 KiB of journal: the snapshot of 2000 accounts and the transfers
    // needed at least ~60 such records.
    EXPECT_GT(requests, 50);
    engine->Stop();
}

TEST_F(EngineTest, LookupsSeeEarlierWrites) {
    auto engine = Open();
    Call(*engine, Accounts({MakeAccount(1), MakeAccount(2)}));
    Call(*engine, Transfers({MakeTransfer(10, 1, 2, 5)}));
    Request lookup;
    lookup.operation = Operation::kLookupTransfers;
    lookup.ids = {10, 99};
    lookup = Call(*engine, std::move(lookup));
    ASSERT_EQ(lookup.transfers.size(), 1u);
    EXPECT_EQ(lookup.transfers[0].amount, static_cast<u128>(5));
}

TEST_F(EngineTest, GroupCommitSharesOneFsyncAmongConcurrentRequests) {
    auto engine = Open();
    Call(*engine, Accounts({MakeAccount(1), MakeAccount(2)}));
    const uint64_t syncs_before = fs_.sync_count();
    constexpr int kRequests = 2000;
    std::vector<Request> requests(kRequests);
    std::atomic<int> replied{0};
    std::promise<void> all;
    for (int i = 0; i < kRequests; ++i) {
        requests[i] = Transfers({MakeTransfer(100 + i, 1, 2, 1)});
        requests[i].done = [&](Request& r) {
            EXPECT_TRUE(r.status.ok());
            if (++replied == kRequests) all.set_value();
        };
        ASSERT_TRUE(engine->Submit(&requests[i]).ok());
    }
    all.get_future().wait();
    const uint64_t syncs = fs_.sync_count() - syncs_before;
    EXPECT_LT(syncs, static_cast<uint64_t>(kRequests));
    engine->Stop();
    EXPECT_EQ(engine->state().FindAccount(1)->debits_posted, static_cast<u128>(kRequests));
}

TEST_F(EngineTest, FailedFsyncStopsAllWrites) {
    EngineOptions options;
    options.preallocate_segments = false;  // its syncs would take the injected failure
    auto engine = Open(options);
    Call(*engine, Accounts({MakeAccount(1), MakeAccount(2)}));
    fs_.FailSyncAfter(0);
    Request failed = Call(*engine, Transfers({MakeTransfer(10, 1, 2, 5)}));
    EXPECT_FALSE(failed.status.ok());
    EXPECT_EQ(failed.seq, 0u);
    EXPECT_TRUE(engine->failed());
    // Everything after fails at once, even though the disk would now accept writes.
    Request later = Transfers({MakeTransfer(11, 1, 2, 5)});
    later.done = [](Request&) {};
    EXPECT_EQ(engine->Submit(&later).code(), StatusCode::kStopped);
    engine->Stop();
    engine.reset();
    // After a restart, the unacknowledged transfer may or may not be there, but whole.
    engine = Open(options);
    engine->Stop();
    const Account* debit = engine->state().FindAccount(1);
    EXPECT_TRUE(debit->debits_posted == 0 || debit->debits_posted == 5);
    EXPECT_TRUE(engine->state().CheckInvariants().ok());
}

TEST_F(EngineTest, FullQueueAnswersBusy) {
    EngineOptions options;
    options.queue_requests_max = 2;
    auto engine = Open(options);
    // Hold the engine thread in a query so the queue fills.
    std::promise<void> entered, release;
    std::shared_future<void> release_future = release.get_future().share();
    Request blocker;
    blocker.operation = Operation::kQuery;
    blocker.query = [&](const payments::Platform&) {
        entered.set_value();
        release_future.wait();
    };
    std::promise<void> blocker_done;
    blocker.done = [&](Request&) { blocker_done.set_value(); };
    ASSERT_TRUE(engine->Submit(&blocker).ok());
    entered.get_future().wait();
    std::vector<Request> queued(3);
    std::atomic<int> replies{0};
    for (auto& r : queued) {
        r = Accounts({MakeAccount(1)});
        r.done = [&](Request&) { ++replies; };
    }
    EXPECT_TRUE(engine->Submit(&queued[0]).ok());
    EXPECT_TRUE(engine->Submit(&queued[1]).ok());
    EXPECT_EQ(engine->Submit(&queued[2]).code(), StatusCode::kBusy);
    release.set_value();
    blocker_done.get_future().wait();
    engine->Stop();
    EXPECT_EQ(replies.load(), 2);
}

// At its memory bound the engine refuses writes, journals nothing of them and keeps answering
// reads; with the bound raised (a restart with another setting) writes are taken again.
TEST_F(EngineTest, StateAtItsMemoryBoundRefusesWritesAndKeepsReads) {
    auto engine = Open();
    Call(*engine, Accounts({MakeAccount(1), MakeAccount(2)}));
    engine->Stop();
    const uint64_t bytes = engine->platform().MemoryBytes();
    EXPECT_GT(bytes, 0u);
    engine.reset();

    EngineOptions options;
    options.state_bytes_max = bytes + 1;  // one more write fits: the first transfer's segment
    engine = Open(options);
    Request first = Call(*engine, Transfers({MakeTransfer(10, 1, 2, 5)}));
    EXPECT_TRUE(first.status.ok()) << first.status.ToString();
    const uint64_t committed = engine->committed_seq();
    Request refused = Call(*engine, Transfers({MakeTransfer(11, 1, 2, 7)}));
    EXPECT_EQ(refused.status.code(), StatusCode::kResourceExhausted) << refused.status.ToString();
    EXPECT_EQ(refused.seq, 0u);
    Request account = Call(*engine, Accounts({MakeAccount(3)}));
    EXPECT_EQ(account.status.code(), StatusCode::kResourceExhausted);
    Request lookup;
    lookup.operation = Operation::kLookupTransfers;
    lookup.ids = {10, 11};
    lookup = Call(*engine, std::move(lookup));
    EXPECT_TRUE(lookup.status.ok());
    ASSERT_EQ(lookup.transfers.size(), 1u);
    EXPECT_EQ(engine->committed_seq(), committed);
    EXPECT_EQ(engine->stats().writes_refused, 2u);
    EXPECT_GE(engine->stats().state_bytes, options.state_bytes_max);
    engine->Stop();
    const Hash256 before = engine->platform().StateHash();
    engine.reset();
    EXPECT_EQ(ReplayHash(fs_, "data"), before);  // the refused writes left no trace

    engine = Open();  // no bound
    Request again = Call(*engine, Transfers({MakeTransfer(11, 1, 2, 7)}));
    EXPECT_TRUE(again.status.ok());
    EXPECT_TRUE(again.results.empty());
    engine->Stop();
    EXPECT_EQ(engine->state().FindAccount(2)->credits_posted, static_cast<u128>(12));
    EXPECT_TRUE(engine->state().CheckInvariants().ok());
}

TEST_F(EngineTest, OversizedRequestIsRejected) {
    auto engine = Open();
    Request big = Transfers(std::vector<Transfer>(ledger::kBatchEventsMax + 1));
    EXPECT_EQ(engine->Submit(&big).code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, TickExpiresPendingTransfersWithoutTraffic) {
    EngineOptions options;
    options.tick_interval_ns = 5'000'000;
    auto engine = Open(options);
    Call(*engine, Accounts({MakeAccount(1), MakeAccount(2)}));
    Transfer hold = MakeTransfer(10, 1, 2, 7, tf::kPending);
    hold.timeout = 1;
    Call(*engine, Transfers({hold}));
    clock_.Advance(2'000'000'000);
    PendingStatus status = PendingStatus::kPending;
    for (int i = 0; i < 400 && status != PendingStatus::kExpired; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        Request query;
        query.operation = Operation::kQuery;
        query.query = [&](const payments::Platform& p) {
            status = p.ledger().GetPendingStatus(10);
        };
        Call(*engine, std::move(query));
    }
    EXPECT_EQ(status, PendingStatus::kExpired);
    engine->Stop();
    EXPECT_EQ(engine->state().FindAccount(1)->debits_pending, static_cast<u128>(0));
    engine.reset();
    // The expiry was journaled: a replay reaches the same state.
    engine = Open(options);
    engine->Stop();
    EXPECT_EQ(engine->state().GetPendingStatus(10), PendingStatus::kExpired);
}

TEST_F(EngineTest, FlippedBitMidJournalRefusesToStart) {
    auto engine = Open();
    Call(*engine, Accounts({MakeAccount(1), MakeAccount(2)}));
    for (int i = 0; i < 10; ++i) Call(*engine, Transfers({MakeTransfer(10 + i, 1, 2, 1)}));
    engine->Stop();
    engine.reset();
    const std::string segment = "data/journal/" + journal::SegmentName(1);
    fs_.CorruptByte(segment, journal::kSegmentHeaderSize + journal::kRecordHeaderSize + 40);
    EngineOptions options;
    options.data_dir = "data";
    auto refused = Engine::Open(fs_, clock_, options);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), StatusCode::kCorruption);
    EXPECT_NE(refused.error().message().find(segment + " at byte offset 64"), std::string::npos)
        << refused.error().message();
}

// Clients submit chains of transfers while the power is cut at a random moment; after recovery,
// every acknowledged request is present, no unacknowledged request is partly applied, the
// invariants hold, and a fresh replay of the journal gives the recovered state hash.
TEST_F(EngineTest, PowerCutKeepsEveryAcknowledgedWrite) {
    for (uint64_t round = 0; round < 12; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        SimFileSystem fs(round);
        std::mt19937_64 random(round);
        EngineOptions options;
        options.data_dir = "data";
        options.snapshot_interval_records = 1 + round % 8;
        options.snapshot_waits_for_journal_growth = false;  // snapshots often: cuts land in them
        options.segment_bytes_max = 16 << 10;
        u128 next_id = 1000;
        std::map<u128, std::vector<Transfer>> acknowledged;  // first id -> chain
        std::vector<std::vector<Transfer>> all_chains;
        for (int life = 0; life < 3; ++life) {
            auto opened = Engine::Open(fs, clock_, options);
            ASSERT_TRUE(opened) << opened.error().ToString();
            auto engine = std::move(*opened);
            engine->Start();
            if (life == 0) {
                std::vector<Account> accounts;
                for (int a = 1; a <= 8; ++a) accounts.push_back(MakeAccount(a));
                ASSERT_TRUE(Call(*engine, Accounts(accounts)).status.ok());
            }
            std::mutex mutex;
            const int kRequests = 300;
            std::vector<Request> requests(kRequests);
            std::atomic<int> in_flight{0};
            for (int i = 0; i < kRequests; ++i) {
                std::vector<Transfer> chain;
                const int length = 1 + static_cast<int>(random() % 3);
                for (int k = 0; k < length; ++k) {
                    u128 debit = 1 + random() % 8;
                    u128 credit = 1 + (debit + random() % 7) % 8;
                    chain.push_back(MakeTransfer(next_id++, debit, credit, 1 + random() % 100,
                                                 k + 1 < length ? tf::kLinked : 0));
                }
                all_chains.push_back(chain);
                requests[i] = Transfers(chain);
                ++in_flight;
                requests[i].done = [&, chain](Request& r) {
                    if (r.status.ok()) {
                        EXPECT_TRUE(r.results.empty());
                        std::lock_guard lock(mutex);
                        acknowledged[chain.front().id] = chain;
                    }
                    --in_flight;
                };
                Status status = engine->Submit(&requests[i]);
                if (!status.ok()) {
                    --in_flight;
                    break;
                }
                if (life < 2 && i == static_cast<int>(random() % kRequests)) fs.PowerCut();
            }
            engine->Stop();
            while (in_flight.load() != 0) std::this_thread::yield();
        }
        // Recover once more and check.
        auto opened = Engine::Open(fs, clock_, options);
        ASSERT_TRUE(opened) << opened.error().ToString();
        const ledger::StateMachine& state = (*opened)->state();
        for (const auto& [first, chain] : acknowledged) {
            for (const Transfer& t : chain) {
                const Transfer* found = state.FindTransfer(t.id);
                ASSERT_NE(found, nullptr) << "acknowledged transfer lost";
                EXPECT_EQ(found->amount, t.amount);
                EXPECT_EQ(found->debit_account_id, t.debit_account_id);
            }
        }
        for (const auto& chain : all_chains) {
            size_t present = 0;
            for (const Transfer& t : chain) present += state.FindTransfer(t.id) != nullptr;
            EXPECT_TRUE(present == 0 || present == chain.size()) << "half-applied chain";
        }
        EXPECT_GT(acknowledged.size(), 0u);
        Status invariants = state.CheckInvariants();
        EXPECT_TRUE(invariants.ok()) << invariants.ToString();
        EXPECT_EQ(ReplayHash(fs, "data"), (*opened)->platform().StateHash());
    }
}

}  // namespace
}  // namespace bursar::engine

namespace bursar::engine {
namespace {

Request Command(payments::Command command) {
    Request r;
    r.operation = Operation::kCommand;
    r.command = std::move(command);
    return r;
}

TEST_F(EngineTest, DomainCommandsAreJournaledAndReplayed) {
    auto engine = Open();
    payments::Command reg;
    reg.type = payments::CommandType::kRegisterUser;
    reg.email = "a@example.com";
    reg.name = "A";
    Request registered = Call(*engine, Command(reg));
    ASSERT_TRUE(registered.outcome.ok()) << payments::ResultName(registered.outcome.code);
    EXPECT_GT(registered.seq, 0u);

    payments::Command login;
    login.type = payments::CommandType::kCreateSession;
    login.user_id = 1;
    login.secret_hash = Sha256::Of("token", 5);
    login.expires_at = kStart + 3600ull * 1'000'000'000;
    ASSERT_TRUE(Call(*engine, Command(login)).outcome.ok());

    payments::Command topup;
    topup.type = payments::CommandType::kTopup;
    topup.principal = {payments::PrincipalKind::kSession, login.secret_hash};
    topup.user_id = 1;
    topup.amount = 700;
    topup.currency = kJpy;
    topup.idempotency_key = "once";
    Request first = Call(*engine, Command(topup));
    ASSERT_TRUE(first.outcome.ok()) << payments::ResultName(first.outcome.code);
    ASSERT_TRUE(first.outcome.txn);
    Request again = Call(*engine, Command(topup));
    EXPECT_TRUE(again.outcome.replayed);
    engine->Stop();
    const Hash256 before = engine->platform().StateHash();
    engine.reset();

    // After a restart the key still answers from the stored response, and nothing moves twice.
    engine = Open();
    EXPECT_EQ(engine->platform().StateHash(), before);
    Request after = Call(*engine, Command(topup));
    EXPECT_TRUE(after.outcome.replayed);
    EXPECT_EQ(after.outcome.txn, first.outcome.txn);
    EXPECT_EQ(after.outcome.balance, first.outcome.balance);
    engine->Stop();
    EXPECT_EQ(engine->state().FindAccount(payments::WalletAccountId(1, kJpy))->credits_posted,
              static_cast<u128>(700));
    EXPECT_EQ(ReplayHash(fs_, "data"), engine->platform().StateHash());
}

}  // namespace
}  // namespace bursar::engine
