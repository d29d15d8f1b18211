#include "ledger/state_machine.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace bursar::ledger {
namespace {

using TR = CreateTransferResult;
using AR = CreateAccountResult;
namespace tf = transfer_flags;
namespace af = account_flags;

constexpr uint32_t kJpy = 392;
constexpr uint32_t kUsd = 840;
constexpr uint64_t kStart = 1'700'000'000ull * kNanosecondsPerSecond;

Account MakeAccount(u128 id, uint16_t flags = 0, uint32_t currency = kJpy) {
    Account a{};
    a.id = id;
    a.currency = currency;
    a.kind = static_cast<uint16_t>(AccountKind::kUserWallet);
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

Transfer Resolve(u128 id, u128 pending_id, uint16_t flag, u128 amount = 0) {
    Transfer t{};
    t.id = id;
    t.pending_id = pending_id;
    t.flags = flag;
    t.amount = amount;
    return t;
}

class StateMachineTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // 1, 2: plain accounts; 3: no negative balance; 4: no credit beyond debits; 9: USD.
        EXPECT_EQ(
            Accounts({MakeAccount(1), MakeAccount(2),
                      MakeAccount(3, af::kDebitsMustNotExceedCredits),
                      MakeAccount(4, af::kCreditsMustNotExceedDebits), MakeAccount(9, 0, kUsd)}),
            std::vector<uint32_t>(5, 0));
    }

    // Every test that moves money ends with the full invariant check.
    void TearDown() override {
        Status status = machine_.CheckInvariants();
        EXPECT_TRUE(status.ok()) << status.ToString();
    }

    // Applies one batch; returns the result of every event (0 = ok).
    std::vector<uint32_t> Accounts(const std::vector<Account>& events) {
        std::vector<EventResult> sparse;
        machine_.BeginBatch(NextTimestamp());
        machine_.CreateAccounts(events, &sparse);
        machine_.EndBatch();
        return Dense(sparse, events.size());
    }

    std::vector<uint32_t> Transfers(const std::vector<Transfer>& events, uint64_t at = 0) {
        std::vector<EventResult> sparse;
        machine_.BeginBatch(at != 0 ? at : NextTimestamp());
        machine_.CreateTransfers(events, &sparse);
        machine_.EndBatch();
        return Dense(sparse, events.size());
    }

    TR One(const Transfer& event, uint64_t at = 0) {
        return static_cast<TR>(Transfers({event}, at)[0]);
    }

    uint64_t NextTimestamp() { return std::max(kStart, machine_.last_timestamp() + 1); }

    static std::vector<uint32_t> Dense(const std::vector<EventResult>& sparse, size_t count) {
        std::vector<uint32_t> dense(count, 0);
        for (const EventResult& r : sparse) dense.at(r.index) = r.result;
        return dense;
    }

    const Account& Get(u128 id) {
        const Account* a = machine_.FindAccount(id);
        EXPECT_NE(a, nullptr);
        return *a;
    }

    StateMachine machine_;
};

std::vector<uint32_t> Codes(std::initializer_list<TR> results) {
    std::vector<uint32_t> codes;
    for (TR r : results) codes.push_back(static_cast<uint32_t>(r));
    return codes;
}

TEST_F(StateMachineTest, SimpleTransferMovesPostedBalances) {
    ASSERT_EQ(One(MakeTransfer(10, 1, 2, 500)), TR::kOk);
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(500));
    EXPECT_EQ(Get(2).credits_posted, static_cast<u128>(500));
    const Transfer* t = machine_.FindTransfer(10);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->amount, static_cast<u128>(500));
    EXPECT_GT(t->timestamp, kStart - 1);
}

TEST_F(StateMachineTest, AccountResults) {
    Account a = MakeAccount(20);
    a.timestamp = 1;
    Account reserved = MakeAccount(21);
    reserved.reserved = 1;
    Account balance = MakeAccount(22);
    balance.credits_posted = 1;
    Account zero_kind = MakeAccount(23);
    zero_kind.kind = 0;
    std::vector<uint32_t> expected = {uint32_t(AR::kTimestampMustBeZero),
                                      uint32_t(AR::kReservedField),
                                      uint32_t(AR::kReservedFlag),
                                      uint32_t(AR::kIdMustNotBeZero),
                                      uint32_t(AR::kIdMustNotBeIntMax),
                                      uint32_t(AR::kFlagsAreMutuallyExclusive),
                                      uint32_t(AR::kCreditsPostedMustBeZero),
                                      uint32_t(AR::kCurrencyMustNotBeZero),
                                      uint32_t(AR::kCurrencyUnknown),
                                      uint32_t(AR::kKindMustNotBeZero),
                                      uint32_t(AR::kExists),
                                      uint32_t(AR::kExistsWithDifferentFlags),
                                      uint32_t(AR::kExistsWithDifferentCurrency),
                                      uint32_t(AR::kExistsWithDifferentKind)};
    Account different_kind = MakeAccount(1);
    different_kind.kind = 2;
    EXPECT_EQ(Accounts({a, reserved, MakeAccount(24, 1 << 7), MakeAccount(0), MakeAccount(kU128Max),
                        MakeAccount(
                            25, af::kDebitsMustNotExceedCredits | af::kCreditsMustNotExceedDebits),
                        balance, MakeAccount(26, 0, 0), MakeAccount(27, 0, 999), zero_kind,
                        MakeAccount(1), MakeAccount(1, af::kDebitsMustNotExceedCredits),
                        MakeAccount(1, 0, kUsd), different_kind}),
              expected);
    EXPECT_EQ(machine_.account_count(), 5u);
}

TEST_F(StateMachineTest, TransferValidationResults) {
    Transfer stamped = MakeTransfer(30, 1, 2, 1);
    stamped.timestamp = 5;
    Transfer with_pending_id = MakeTransfer(31, 1, 2, 1);
    with_pending_id.pending_id = 7;
    Transfer with_timeout = MakeTransfer(32, 1, 2, 1);
    with_timeout.timeout = 3;
    Transfer no_currency = MakeTransfer(33, 1, 2, 1);
    no_currency.currency = 0;
    Transfer no_code = MakeTransfer(34, 1, 2, 1);
    no_code.code = 0;
    Transfer wrong_currency = MakeTransfer(35, 1, 2, 1);
    wrong_currency.currency = kUsd;
    EXPECT_EQ(
        Transfers({stamped, MakeTransfer(36, 1, 2, 1, 1 << 9), MakeTransfer(0, 1, 2, 1),
                   MakeTransfer(kU128Max, 1, 2, 1),
                   MakeTransfer(37, 1, 2, 1, tf::kPending | tf::kVoidPendingTransfer),
                   MakeTransfer(38, 0, 2, 1), MakeTransfer(39, kU128Max, 2, 1),
                   MakeTransfer(40, 1, 0, 1), MakeTransfer(41, 1, kU128Max, 1),
                   MakeTransfer(42, 1, 1, 1), with_pending_id, with_timeout,
                   MakeTransfer(43, 1, 2, 0), no_currency, no_code, MakeTransfer(44, 77, 2, 1),
                   MakeTransfer(45, 1, 77, 1), MakeTransfer(46, 1, 9, 1), wrong_currency}),
        Codes({TR::kTimestampMustBeZero, TR::kReservedFlag, TR::kIdMustNotBeZero,
               TR::kIdMustNotBeIntMax, TR::kFlagsAreMutuallyExclusive,
               TR::kDebitAccountIdMustNotBeZero, TR::kDebitAccountIdMustNotBeIntMax,
               TR::kCreditAccountIdMustNotBeZero, TR::kCreditAccountIdMustNotBeIntMax,
               TR::kAccountsMustBeDifferent, TR::kPendingIdMustBeZero,
               TR::kTimeoutReservedForPendingTransfer, TR::kAmountMustNotBeZero,
               TR::kCurrencyMustNotBeZero, TR::kCodeMustNotBeZero, TR::kDebitAccountNotFound,
               TR::kCreditAccountNotFound, TR::kAccountsMustHaveTheSameCurrency,
               TR::kTransferMustHaveTheSameCurrencyAsAccounts}));
    EXPECT_EQ(machine_.transfer_count(), 0u);
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(0));
}

TEST_F(StateMachineTest, MutuallyExclusiveFlags) {
    EXPECT_EQ(One(MakeTransfer(50, 1, 2, 1, tf::kPending | tf::kPostPendingTransfer)),
              TR::kFlagsAreMutuallyExclusive);
    EXPECT_EQ(One(MakeTransfer(51, 1, 2, 1, tf::kPostPendingTransfer | tf::kVoidPendingTransfer)),
              TR::kFlagsAreMutuallyExclusive);
    EXPECT_EQ(One(MakeTransfer(52, 1, 2, 1, tf::kPostPendingTransfer | tf::kBalancingDebit)),
              TR::kFlagsAreMutuallyExclusive);
    EXPECT_EQ(One(MakeTransfer(53, 1, 2, 1, tf::kVoidPendingTransfer | tf::kBalancingCredit)),
              TR::kFlagsAreMutuallyExclusive);
    // Balancing with pending is allowed.
    EXPECT_EQ(One(MakeTransfer(54, 1, 2, 1, tf::kPending | tf::kBalancingCredit)), TR::kOk);
}

TEST_F(StateMachineTest, IdempotencyExistsAndDifferences) {
    Transfer t = MakeTransfer(60, 1, 2, 100);
    t.user_data_64 = 5;
    ASSERT_EQ(One(t), TR::kOk);
    EXPECT_EQ(One(t), TR::kExists);
    Transfer d = t;
    d.amount = 101;
    EXPECT_EQ(One(d), TR::kExistsWithDifferentAmount);
    d = t;
    d.user_data_64 = 6;
    EXPECT_EQ(One(d), TR::kExistsWithDifferentUserData64);
    d = t;
    d.flags = tf::kPending;
    EXPECT_EQ(One(d), TR::kExistsWithDifferentFlags);
    d = t;
    d.credit_account_id = 3;
    EXPECT_EQ(One(d), TR::kExistsWithDifferentCreditAccountId);
    d = t;
    d.code = 2;
    EXPECT_EQ(One(d), TR::kExistsWithDifferentCode);
    // The exists check comes before validation of the other fields.
    d = t;
    d.debit_account_id = 0;
    EXPECT_EQ(One(d), TR::kExistsWithDifferentDebitAccountId);
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(100));
    EXPECT_EQ(machine_.transfer_count(), 1u);
}

TEST_F(StateMachineTest, StateDependentFailureStaysFailed) {
    // Account 3 has no credits: the debit exceeds them.
    EXPECT_EQ(One(MakeTransfer(70, 3, 2, 10)), TR::kExceedsCredits);
    ASSERT_EQ(One(MakeTransfer(71, 1, 3, 10)), TR::kOk);  // now 3 has 10 of credits
    EXPECT_EQ(One(MakeTransfer(70, 3, 2, 10)), TR::kIdAlreadyFailed);
    EXPECT_EQ(One(MakeTransfer(70, 1, 2, 1)), TR::kIdAlreadyFailed);
    // A failure that depends only on the event is not recorded.
    EXPECT_EQ(One(MakeTransfer(72, 1, 2, 0)), TR::kAmountMustNotBeZero);
    EXPECT_EQ(One(MakeTransfer(72, 1, 2, 5)), TR::kOk);
    EXPECT_EQ(machine_.failed_id_count(), 1u);
}

TEST_F(StateMachineTest, LimitsCountPendingAmounts) {
    ASSERT_EQ(One(MakeTransfer(80, 1, 3, 100)), TR::kOk);
    ASSERT_EQ(One(MakeTransfer(81, 3, 2, 70, tf::kPending)), TR::kOk);
    EXPECT_EQ(One(MakeTransfer(82, 3, 2, 31)), TR::kExceedsCredits);
    EXPECT_EQ(One(MakeTransfer(83, 3, 2, 30)), TR::kOk);
    EXPECT_EQ(Get(3).debits_pending + Get(3).debits_posted, Get(3).credits_posted);
    // credits_must_not_exceed_debits on account 4.
    EXPECT_EQ(One(MakeTransfer(84, 2, 4, 1)), TR::kExceedsDebits);
    ASSERT_EQ(One(MakeTransfer(85, 4, 2, 40)), TR::kOk);
    EXPECT_EQ(One(MakeTransfer(86, 2, 4, 41)), TR::kExceedsDebits);
    EXPECT_EQ(One(MakeTransfer(87, 2, 4, 40, tf::kPending)), TR::kOk);
    EXPECT_EQ(One(MakeTransfer(88, 2, 4, 1)), TR::kExceedsDebits);
}

TEST_F(StateMachineTest, BalancingTransfersMoveWhatTheLimitAllows) {
    ASSERT_EQ(One(MakeTransfer(90, 1, 3, 100)), TR::kOk);
    ASSERT_EQ(One(MakeTransfer(91, 3, 2, 1000, tf::kBalancingDebit)), TR::kOk);
    EXPECT_EQ(machine_.FindTransfer(91)->amount, static_cast<u128>(100));
    EXPECT_EQ(Get(3).debits_posted, static_cast<u128>(100));
    // Nothing left: the balancing transfer moves zero.
    ASSERT_EQ(One(MakeTransfer(92, 3, 2, 5, tf::kBalancingDebit)), TR::kOk);
    EXPECT_EQ(machine_.FindTransfer(92)->amount, static_cast<u128>(0));
    // Re-submitting with a larger upper bound is the same transfer; a smaller one is not.
    EXPECT_EQ(One(MakeTransfer(91, 3, 2, 2000, tf::kBalancingDebit)), TR::kExists);
    EXPECT_EQ(One(MakeTransfer(91, 3, 2, 99, tf::kBalancingDebit)), TR::kExistsWithDifferentAmount);
    // balancing_credit on the account that may not hold more credits than debits.
    ASSERT_EQ(One(MakeTransfer(93, 4, 1, 25)), TR::kOk);
    ASSERT_EQ(One(MakeTransfer(94, 2, 4, 1000, tf::kBalancingCredit)), TR::kOk);
    EXPECT_EQ(machine_.FindTransfer(94)->amount, static_cast<u128>(25));
}

TEST_F(StateMachineTest, LinkedChainRollsBackAsAWhole) {
    auto results = Transfers({MakeTransfer(100, 1, 2, 10, tf::kLinked),
                              MakeTransfer(101, 2, 1, 3, tf::kLinked),
                              MakeTransfer(102, 3, 2, 1),  // fails: account 3 has no credits
                              MakeTransfer(103, 1, 2, 7)});
    EXPECT_EQ(results, Codes({TR::kLinkedEventFailed, TR::kLinkedEventFailed, TR::kExceedsCredits,
                              TR::kOk}));
    EXPECT_EQ(machine_.FindTransfer(100), nullptr);
    EXPECT_EQ(machine_.FindTransfer(101), nullptr);
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(7));
    EXPECT_EQ(Get(1).credits_posted, static_cast<u128>(0));
    EXPECT_EQ(Get(2).credits_posted, static_cast<u128>(7));
    // The ids of the rolled-back events are free; the failing one is recorded.
    EXPECT_EQ(One(MakeTransfer(100, 1, 2, 1)), TR::kOk);
    EXPECT_EQ(One(MakeTransfer(102, 1, 2, 1)), TR::kIdAlreadyFailed);
}

TEST_F(StateMachineTest, FailedChainSkipsItsLaterEvents) {
    auto results = Transfers({MakeTransfer(110, 3, 2, 10, tf::kLinked),  // fails
                              MakeTransfer(111, 1, 2, 1, tf::kLinked), MakeTransfer(112, 1, 2, 1),
                              MakeTransfer(113, 1, 2, 1)});
    EXPECT_EQ(results, Codes({TR::kExceedsCredits, TR::kLinkedEventFailed, TR::kLinkedEventFailed,
                              TR::kOk}));
    EXPECT_EQ(machine_.FindTransfer(111), nullptr);
    EXPECT_EQ(machine_.FindTransfer(112), nullptr);
}

TEST_F(StateMachineTest, OpenChainFailsWhole) {
    auto results = Transfers({MakeTransfer(120, 1, 2, 10), MakeTransfer(121, 1, 2, 1, tf::kLinked),
                              MakeTransfer(122, 1, 2, 1, tf::kLinked)});
    EXPECT_EQ(results, Codes({TR::kOk, TR::kLinkedEventFailed, TR::kLinkedEventChainOpen}));
    EXPECT_EQ(machine_.FindTransfer(121), nullptr);
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(10));
    // A single linked event is an open chain too.
    EXPECT_EQ(One(MakeTransfer(123, 1, 2, 1, tf::kLinked)), TR::kLinkedEventChainOpen);
}

TEST_F(StateMachineTest, ChainOfAccountsRollsBack) {
    std::vector<uint32_t> expected = {uint32_t(AR::kLinkedEventFailed), uint32_t(AR::kExists)};
    EXPECT_EQ(Accounts({MakeAccount(200, af::kLinked), MakeAccount(1, 0, kUsd)}),
              (std::vector<uint32_t>{uint32_t(AR::kLinkedEventFailed),
                                     uint32_t(AR::kExistsWithDifferentCurrency)}));
    EXPECT_EQ(machine_.FindAccount(200), nullptr);
    EXPECT_EQ(Accounts({MakeAccount(200, af::kLinked), MakeAccount(201)}),
              (std::vector<uint32_t>{0, 0}));
    EXPECT_NE(machine_.FindAccount(200), nullptr);
    (void)expected;
}

TEST_F(StateMachineTest, ChainCanPostItsOwnPending) {
    auto results = Transfers({MakeTransfer(130, 1, 2, 50, tf::kPending | tf::kLinked),
                              Resolve(131, 130, tf::kPostPendingTransfer, 20)});
    EXPECT_EQ(results, Codes({TR::kOk, TR::kOk}));
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(20));
    EXPECT_EQ(Get(1).debits_pending, static_cast<u128>(0));
    EXPECT_EQ(machine_.GetPendingStatus(130), PendingStatus::kPosted);
    // The same chain rolled back restores the pending status and the balances.
    results = Transfers({
        MakeTransfer(132, 1, 2, 50, tf::kPending),
    });
    ASSERT_EQ(results, Codes({TR::kOk}));
    results = Transfers({
        Resolve(133, 132, tf::kVoidPendingTransfer, 0),
    });
    ASSERT_EQ(results, Codes({TR::kOk}));
    ASSERT_EQ(One(MakeTransfer(134, 1, 2, 50, tf::kPending)), TR::kOk);
    results = Transfers(
        {Resolve(135, 134, tf::kPostPendingTransfer | tf::kLinked, 0), MakeTransfer(136, 3, 2, 1)});
    EXPECT_EQ(results, Codes({TR::kLinkedEventFailed, TR::kExceedsCredits}));
    EXPECT_EQ(machine_.GetPendingStatus(134), PendingStatus::kPending);
    EXPECT_EQ(Get(1).debits_pending, static_cast<u128>(50));
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(20));
}

TEST_F(StateMachineTest, PartialPostReleasesTheRest) {
    ASSERT_EQ(One(MakeTransfer(140, 1, 2, 100, tf::kPending)), TR::kOk);
    EXPECT_EQ(Get(1).debits_pending, static_cast<u128>(100));
    EXPECT_EQ(Get(2).credits_pending, static_cast<u128>(100));
    EXPECT_EQ(One(Resolve(141, 140, tf::kPostPendingTransfer, 101)),
              TR::kExceedsPendingTransferAmount);
    ASSERT_EQ(One(Resolve(142, 140, tf::kPostPendingTransfer, 60)), TR::kOk);
    EXPECT_EQ(Get(1).debits_pending, static_cast<u128>(0));
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(60));
    EXPECT_EQ(Get(2).credits_posted, static_cast<u128>(60));
    const Transfer* post = machine_.FindTransfer(142);
    ASSERT_NE(post, nullptr);
    EXPECT_EQ(post->debit_account_id, static_cast<u128>(1));
    EXPECT_EQ(post->amount, static_cast<u128>(60));
    // A pending transfer resolves at most once.
    EXPECT_EQ(One(Resolve(143, 140, tf::kPostPendingTransfer)), TR::kPendingTransferAlreadyPosted);
    EXPECT_EQ(One(Resolve(144, 140, tf::kVoidPendingTransfer)), TR::kPendingTransferAlreadyPosted);
    // Re-submitting the post itself is idempotent.
    EXPECT_EQ(One(Resolve(142, 140, tf::kPostPendingTransfer, 60)), TR::kExists);
}

TEST_F(StateMachineTest, FullPostWithZeroAmount) {
    ASSERT_EQ(One(MakeTransfer(150, 1, 2, 100, tf::kPending)), TR::kOk);
    ASSERT_EQ(One(Resolve(151, 150, tf::kPostPendingTransfer)), TR::kOk);
    EXPECT_EQ(machine_.FindTransfer(151)->amount, static_cast<u128>(100));
    EXPECT_EQ(One(Resolve(151, 150, tf::kPostPendingTransfer)), TR::kExists);
}

TEST_F(StateMachineTest, VoidReleasesEverything) {
    ASSERT_EQ(One(MakeTransfer(160, 1, 2, 100, tf::kPending)), TR::kOk);
    EXPECT_EQ(One(Resolve(161, 160, tf::kVoidPendingTransfer, 50)),
              TR::kPendingTransferHasDifferentAmount);
    ASSERT_EQ(One(Resolve(162, 160, tf::kVoidPendingTransfer, 100)), TR::kOk);
    EXPECT_EQ(Get(1).debits_pending, static_cast<u128>(0));
    EXPECT_EQ(Get(1).debits_posted, static_cast<u128>(0));
    EXPECT_EQ(machine_.GetPendingStatus(160), PendingStatus::kVoided);
    EXPECT_EQ(One(Resolve(163, 160, tf::kVoidPendingTransfer)), TR::kPendingTransferAlreadyVoided);
}

TEST_F(StateMachineTest, PostAndVoidValidation) {
    ASSERT_EQ(One(MakeTransfer(170, 1, 2, 100, tf::kPending)), TR::kOk);
    ASSERT_EQ(One(MakeTransfer(171, 1, 2, 100)), TR::kOk);
    Transfer with_timeout = Resolve(172, 170, tf::kPostPendingTransfer);
    with_timeout.timeout = 1;
    Transfer other_debit = Resolve(173, 170, tf::kPostPendingTransfer);
    other_debit.debit_account_id = 2;
    Transfer other_credit = Resolve(174, 170, tf::kPostPendingTransfer);
    other_credit.credit_account_id = 1;
    Transfer other_currency = Resolve(175, 170, tf::kPostPendingTransfer);
    other_currency.currency = kUsd;
    Transfer other_code = Resolve(176, 170, tf::kPostPendingTransfer);
    other_code.code = 9;
    EXPECT_EQ(
        Transfers({Resolve(177, 0, tf::kPostPendingTransfer),
                   Resolve(178, kU128Max, tf::kPostPendingTransfer),
                   Resolve(179, 179, tf::kPostPendingTransfer), with_timeout,
                   Resolve(180, 999, tf::kVoidPendingTransfer),
                   Resolve(181, 171, tf::kVoidPendingTransfer), other_debit, other_credit,
                   other_currency, other_code}),
        Codes({TR::kPendingIdMustNotBeZero, TR::kPendingIdMustNotBeIntMax,
               TR::kPendingIdMustBeDifferent, TR::kTimeoutReservedForPendingTransfer,
               TR::kPendingTransferNotFound, TR::kPendingTransferNotPending,
               TR::kPendingTransferHasDifferentDebitAccountId,
               TR::kPendingTransferHasDifferentCreditAccountId,
               TR::kPendingTransferHasDifferentCurrency, TR::kPendingTransferHasDifferentCode}));
    EXPECT_EQ(machine_.GetPendingStatus(170), PendingStatus::kPending);
}

TEST_F(StateMachineTest, ExpiryExactlyAtTheTimeout) {
    const uint64_t t0 = NextTimestamp();
    Transfer hold = MakeTransfer(190, 1, 2, 100, tf::kPending);
    hold.timeout = 10;
    ASSERT_EQ(One(hold, t0), TR::kOk);
    const uint64_t expires_at = t0 + 10 * kNanosecondsPerSecond;
    // One nanosecond before the timeout the hold can still be posted: it never expires early.
    Transfer early_void = Resolve(191, 190, tf::kVoidPendingTransfer);
    EXPECT_EQ(machine_.HasExpiryDue(expires_at - 1), false);
    EXPECT_EQ(machine_.HasExpiryDue(expires_at), true);
    // At the timeout it is expired, by the sweep at the start of the batch.
    EXPECT_EQ(One(Resolve(192, 190, tf::kPostPendingTransfer), expires_at),
              TR::kPendingTransferExpired);
    EXPECT_EQ(machine_.GetPendingStatus(190), PendingStatus::kExpired);
    EXPECT_EQ(Get(1).debits_pending, static_cast<u128>(0));
    EXPECT_EQ(Get(2).credits_pending, static_cast<u128>(0));
    EXPECT_EQ(One(early_void), TR::kPendingTransferExpired);
}

TEST_F(StateMachineTest, PostJustBeforeTheTimeoutSucceeds) {
    const uint64_t t0 = NextTimestamp();
    Transfer hold = MakeTransfer(195, 1, 2, 100, tf::kPending);
    hold.timeout = 10;
    ASSERT_EQ(One(hold, t0), TR::kOk);
    EXPECT_EQ(One(Resolve(196, 195, tf::kPostPendingTransfer), t0 + 10 * kNanosecondsPerSecond - 1),
              TR::kOk);
    EXPECT_EQ(machine_.GetPendingStatus(195), PendingStatus::kPosted);
}

TEST_F(StateMachineTest, ExpiryWithinABatchBeforeTheSweep) {
    const uint64_t t0 = NextTimestamp();
    Transfer hold = MakeTransfer(197, 1, 2, 100, tf::kPending);
    hold.timeout = 1;
    ASSERT_EQ(One(hold, t0), TR::kOk);
    // Batch starts 1 ns before expiry: event 0 is at expires_at - 1, event 1 at expires_at.
    const uint64_t expires_at = t0 + kNanosecondsPerSecond;
    auto results = Transfers(
        {MakeTransfer(198, 1, 2, 1), Resolve(199, 197, tf::kPostPendingTransfer)}, expires_at - 1);
    EXPECT_EQ(results, Codes({TR::kOk, TR::kPendingTransferExpired}));
    // Its amount is released by the next batch's sweep.
    EXPECT_EQ(Get(1).debits_pending, static_cast<u128>(100));
    ASSERT_EQ(One(MakeTransfer(200, 1, 2, 1)), TR::kOk);
    EXPECT_EQ(Get(1).debits_pending, static_cast<u128>(0));
    EXPECT_EQ(machine_.GetPendingStatus(197), PendingStatus::kExpired);
}

TEST_F(StateMachineTest, Overflows) {
    const u128 big = kU128Max - 10;
    ASSERT_EQ(One(MakeTransfer(210, 1, 2, big)), TR::kOk);
    EXPECT_EQ(One(MakeTransfer(211, 1, 2, 11)), TR::kOverflowsDebitsPosted);
    EXPECT_EQ(One(MakeTransfer(212, 1, 2, 11, tf::kPending)), TR::kOverflowsDebits);
    EXPECT_EQ(One(MakeTransfer(213, 4, 2, 11)), TR::kOverflowsCreditsPosted);
    EXPECT_EQ(One(MakeTransfer(214, 4, 2, 11, tf::kPending)), TR::kOverflowsCredits);
    ASSERT_EQ(Accounts({MakeAccount(5), MakeAccount(6)}), (std::vector<uint32_t>{0, 0}));
    ASSERT_EQ(One(MakeTransfer(215, 5, 6, big, tf::kPending)), TR::kOk);
    EXPECT_EQ(One(MakeTransfer(216, 5, 6, 11, tf::kPending)), TR::kOverflowsDebitsPending);
    EXPECT_EQ(One(MakeTransfer(217, 2, 6, 11, tf::kPending)), TR::kOverflowsCreditsPending);
    Transfer long_hold = MakeTransfer(218, 2, 6, 1, tf::kPending);
    long_hold.timeout = UINT32_MAX;
    EXPECT_EQ(One(long_hold, UINT64_MAX - 100), TR::kOverflowsTimeout);
    EXPECT_EQ(Get(5).debits_pending, big);
    EXPECT_EQ(Get(1).debits_posted, big);
}

TEST_F(StateMachineTest, OverflowsPendingAndPostOfPending) {
    ASSERT_EQ(One(MakeTransfer(230, 1, 2, kU128Max - 5, tf::kPending)), TR::kOk);
    EXPECT_EQ(One(MakeTransfer(231, 1, 4, 6, tf::kPending)), TR::kOverflowsDebitsPending);
    ASSERT_EQ(One(Resolve(232, 230, tf::kVoidPendingTransfer)), TR::kOk);
}

TEST_F(StateMachineTest, StateHashFollowsState) {
    Hash256 before = machine_.StateHash();
    ASSERT_EQ(One(MakeTransfer(240, 1, 2, 1)), TR::kOk);
    Hash256 after = machine_.StateHash();
    EXPECT_NE(before, after);
    EXPECT_EQ(after, machine_.StateHash());
}

TEST_F(StateMachineTest, SaveLoadRoundTrip) {
    Transfer hold = MakeTransfer(250, 1, 2, 100, tf::kPending);
    hold.timeout = 60;
    ASSERT_EQ(One(hold), TR::kOk);
    ASSERT_EQ(One(MakeTransfer(251, 3, 2, 1)), TR::kExceedsCredits);
    std::string bytes;
    ASSERT_TRUE(machine_.Save([&](const void* p, size_t n) {
        bytes.append(static_cast<const char*>(p), n);
        return true;
    }));
    size_t offset = 0;
    auto loaded = StateMachine::Load([&](void* p, size_t n) {
        if (offset + n > bytes.size()) return false;
        std::memcpy(p, bytes.data() + offset, n);
        offset += n;
        return true;
    });
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    EXPECT_EQ((*loaded)->StateHash(), machine_.StateHash());
    // The loaded machine behaves the same: the failed id and the expiry survive.
    StateMachine& copy = **loaded;
    std::vector<EventResult> results;
    copy.BeginBatch(machine_.last_timestamp() + 61 * kNanosecondsPerSecond);
    copy.CreateTransfers(std::vector<Transfer>{MakeTransfer(251, 1, 2, 1)}, &results);
    copy.EndBatch();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].result, uint32_t(TR::kIdAlreadyFailed));
    EXPECT_EQ(copy.GetPendingStatus(250), PendingStatus::kExpired);
    EXPECT_TRUE(copy.CheckInvariants().ok());
}

}  // namespace
}  // namespace bursar::ledger
