#include "payments/platform.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/binary_codec.h"
#include "payments/charges/charges.h"
#include "payments/entry.h"
#include "payments/error_codes.h"

namespace bursar::payments {
namespace {

constexpr uint32_t kJpy = 392;
constexpr uint64_t kStart = 1'700'000'000ull * 1'000'000'000ull;

Hash256 HashOf(std::string_view text) { return Sha256::Of(text.data(), text.size()); }

class PlatformTest : public ::testing::Test {
  protected:
    void TearDown() override {
        Status status = platform_.CheckInvariants();
        EXPECT_TRUE(status.ok()) << status.ToString();
    }

    Outcome Run(Command command) {
        platform_.BeginBatch(std::max(now_, platform_.ledger().last_timestamp() + 1));
        Outcome outcome = platform_.Apply(command);
        platform_.EndBatch();
        Status status = platform_.CheckInvariants();
        EXPECT_TRUE(status.ok()) << status.ToString();
        return outcome;
    }

    uint64_t Register(const std::string& email) {
        Command c;
        c.type = CommandType::kRegisterUser;
        c.email = email;
        c.name = "Name";
        c.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$x$y";
        Outcome r = Run(c);
        EXPECT_TRUE(r.ok()) << ResultName(r.code);
        EXPECT_EQ(r.object_id, platform_.users().count());
        return r.object_id;
    }

    Principal Login(uint64_t user_id, const std::string& token) {
        Command c;
        c.type = CommandType::kCreateSession;
        c.user_id = user_id;
        c.secret_hash = HashOf(token);
        c.expires_at = now_ + 3600ull * 1'000'000'000;
        EXPECT_TRUE(Run(c).ok());
        return Principal{PrincipalKind::kSession, HashOf(token)};
    }

    uint64_t Merchant(Tier tier, const std::string& key) {
        Command c;
        c.type = CommandType::kCreateMerchant;
        c.principal.kind = PrincipalKind::kAdmin;
        c.name = "Shop";
        c.tier = tier;
        c.secret_hash = HashOf(key);
        Outcome r = Run(c);
        EXPECT_TRUE(r.ok());
        return r.object_id;
    }

    Command Money(CommandType type, Principal principal, uint64_t user_id, u128 amount) {
        Command c;
        c.type = type;
        c.principal = principal;
        c.user_id = user_id;
        c.amount = amount;
        c.currency = kJpy;
        return c;
    }

    u128 Balance(uint64_t user_id) const {
        const ledger::Account* wallet =
            platform_.ledger().FindAccount(WalletAccountId(user_id, kJpy));
        return wallet == nullptr ? 0 : wallet->credits_posted - wallet->debits_posted;
    }

    Platform platform_;
    uint64_t now_ = kStart;
};

TEST_F(PlatformTest, TopupPayAndFeeOfTheTier) {
    const uint64_t alice = Register("alice@example.com");
    const Principal session = Login(alice, "token-a");
    const uint64_t shop = Merchant(Tier::kStarter, "key-1");
    Outcome topup = Run(Money(CommandType::kTopup, session, alice, 10'000));
    ASSERT_TRUE(topup.ok()) << ResultName(topup.code);
    EXPECT_EQ(topup.balance, static_cast<u128>(10'000));

    Command pay = Money(CommandType::kPay, session, alice, 1'000);
    pay.merchant_id = shop;
    Outcome paid = Run(pay);
    ASSERT_TRUE(paid.ok()) << ResultName(paid.code);
    ASSERT_TRUE(paid.txn);
    // Starter: 0.8 % of 1000 = 8.
    EXPECT_EQ(paid.txn->fee, static_cast<u128>(8));
    const auto* merchant = platform_.ledger().FindAccount(MerchantAccountId(shop, kJpy));
    EXPECT_EQ(merchant->credits_posted, static_cast<u128>(992));
    EXPECT_EQ(platform_.ledger().FindAccount(FeeAccountId(kJpy))->credits_posted,
              static_cast<u128>(8));
    EXPECT_EQ(Balance(alice), static_cast<u128>(9'000));
    // The payment reads back from the ledger.
    std::optional<Txn> read = platform_.FindTxn(paid.txn->id);
    ASSERT_TRUE(read);
    read->created_at = paid.txn->created_at;  // the ledger's own timestamp of the first leg
    EXPECT_EQ(*read, *paid.txn);
}

TEST_F(PlatformTest, FeeRoundsHalfUp) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    const uint64_t premium = Merchant(Tier::kPremium, "k");
    ASSERT_TRUE(Run(Money(CommandType::kTopup, session, alice, 100'000)).ok());
    // Premium 0.3 %: 150 * 0.003 = 0.45 -> 0; 167 * 0.003 = 0.501 -> 1; 500 -> 1.5 -> 2.
    for (auto [amount, fee] : std::vector<std::pair<int, int>>{{150, 0}, {167, 1}, {500, 2}}) {
        Command pay = Money(CommandType::kPay, session, alice, amount);
        pay.merchant_id = premium;
        Outcome r = Run(pay);
        ASSERT_TRUE(r.txn) << ResultName(r.code);
        EXPECT_EQ(r.txn->fee, static_cast<u128>(fee)) << amount;
    }
}

TEST_F(PlatformTest, InsufficientFundsMovesNothing) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    const uint64_t shop = Merchant(Tier::kBusiness, "k");
    Command pay = Money(CommandType::kPay, session, alice, 100);
    pay.merchant_id = shop;
    EXPECT_EQ(Run(pay).code, ResultCode::kInsufficientFunds);  // no wallet yet
    ASSERT_TRUE(Run(Money(CommandType::kTopup, session, alice, 50)).ok());
    EXPECT_EQ(Run(pay).code, ResultCode::kInsufficientFunds);
    const auto* wallet = platform_.ledger().FindAccount(WalletAccountId(alice, kJpy));
    EXPECT_EQ(wallet->debits_posted, static_cast<u128>(0));
}

TEST_F(PlatformTest, AuthorizationBetweenUsers) {
    const uint64_t alice = Register("a@example.com");
    const uint64_t bob = Register("b@example.com");
    const Principal alice_session = Login(alice, "ta");
    const Principal bob_session = Login(bob, "tb");
    ASSERT_TRUE(Run(Money(CommandType::kTopup, alice_session, alice, 500)).ok());
    // Bob may not spend Alice's money.
    Command steal = Money(CommandType::kTransfer, bob_session, alice, 100);
    steal.to_user_id = bob;
    EXPECT_EQ(Run(steal).code, ResultCode::kForbidden);
    EXPECT_FALSE(MayActForUser(*platform_.Authenticate(bob_session, now_), alice));
    // A bad token is unauthenticated.
    Principal forged{PrincipalKind::kSession, HashOf("nope")};
    EXPECT_EQ(Run(Money(CommandType::kTopup, forged, alice, 1)).code, ResultCode::kUnauthenticated);
    // Alice can pay Bob.
    Command p2p = Money(CommandType::kTransfer, alice_session, alice, 100);
    p2p.to_user_id = bob;
    EXPECT_TRUE(Run(p2p).ok());
    EXPECT_EQ(Balance(bob), static_cast<u128>(100));
    // Only the admin creates merchants.
    Command merchant;
    merchant.type = CommandType::kCreateMerchant;
    merchant.principal = alice_session;
    merchant.name = "x";
    EXPECT_EQ(Run(merchant).code, ResultCode::kForbidden);
}

TEST_F(PlatformTest, PaymentsOfOthersAreNotVisible) {
    const uint64_t alice = Register("a@example.com");
    const uint64_t bob = Register("b@example.com");
    const Principal alice_session = Login(alice, "ta");
    const Principal bob_session = Login(bob, "tb");
    const uint64_t shop = Merchant(Tier::kStarter, "k1");
    Merchant(Tier::kStarter, "k2");
    ASSERT_TRUE(Run(Money(CommandType::kTopup, alice_session, alice, 500)).ok());
    Command pay = Money(CommandType::kPay, alice_session, alice, 100);
    pay.merchant_id = shop;
    Outcome paid = Run(pay);
    ASSERT_TRUE(paid.txn);
    auto sees = [&](const Principal& principal) {
        return MaySeeTxn(*platform_.Authenticate(principal, now_), *paid.txn);
    };
    EXPECT_FALSE(sees(bob_session));
    EXPECT_FALSE(sees({PrincipalKind::kApiKey, HashOf("k2")}));
    EXPECT_TRUE(sees({PrincipalKind::kApiKey, HashOf("k1")}));
    EXPECT_TRUE(sees({PrincipalKind::kAdmin, {}}));
    EXPECT_TRUE(sees(alice_session));
}

TEST_F(PlatformTest, IdempotencyKeyReplaysMismatchesAndExpires) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    Command topup = Money(CommandType::kTopup, session, alice, 100);
    topup.idempotency_key = "key-1";
    topup.request_fingerprint = HashOf("POST /topup 100");
    Outcome first = Run(topup);
    ASSERT_TRUE(first.ok());
    EXPECT_FALSE(first.replayed);
    Outcome again = Run(topup);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.txn, first.txn);  // the first answer's transaction, moved once
    EXPECT_EQ(again.balance, first.balance);
    Command different = topup;
    different.amount = 200;
    different.request_fingerprint = HashOf("POST /topup 200");
    EXPECT_EQ(Run(different).code, ResultCode::kIdempotencyKeyMismatch);
    EXPECT_EQ(Balance(alice), static_cast<u128>(100));
    // After the retention, the key is forgotten (the session is renewed to stay valid).
    now_ += kIdempotencyRetentionNs + 1;
    const Principal renewed = Login(alice, "t2");
    topup.principal = renewed;
    // A key is scoped by caller: same user, new session, same scope.
    EXPECT_FALSE(Run(topup).replayed);
    EXPECT_EQ(Balance(alice), static_cast<u128>(200));
}

TEST_F(PlatformTest, ValidationFailuresAreNotStored) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    Command bad = Money(CommandType::kTransfer, session, alice, 5);
    bad.to_user_id = alice;  // to oneself
    bad.idempotency_key = "k";
    bad.request_fingerprint = HashOf("a");
    EXPECT_EQ(Run(bad).code, ResultCode::kSameSenderAndRecipient);
    EXPECT_EQ(platform_.idempotency().size(), 0u);
}

TEST_F(PlatformTest, EmailsAreUniqueWithoutRegardToCase) {
    Register("carol@example.com");
    Command c;
    c.type = CommandType::kRegisterUser;
    c.email = "CAROL@Example.com";
    EXPECT_EQ(Run(c).code, ResultCode::kEmailAlreadyRegistered);
    // Login finds the user in any case; the email stays as typed.
    ASSERT_TRUE(platform_.users().FindLogin("Carol@EXAMPLE.com"));
    EXPECT_EQ(platform_.users().FindLogin("Carol@EXAMPLE.com")->user_id, 1u);
    EXPECT_EQ(platform_.users().Find(1)->email, "carol@example.com");
    // A journal-v1 command is applied with v1's rule (exact match), as it was then.
    c.version = 1;
    c.password_hash = "h";
    Outcome v1 = Run(c);
    ASSERT_TRUE(v1.ok());
    EXPECT_EQ(platform_.users().FindLogin("CAROL@Example.com")->user_id, v1.object_id);
    EXPECT_EQ(platform_.users().FindLogin("carol@example.com")->user_id, 1u);
}

TEST_F(PlatformTest, ExpiredAndRevokedSessionsAreRefused) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    Command logout;
    logout.type = CommandType::kRevokeSession;
    logout.principal = session;
    EXPECT_TRUE(Run(logout).ok());
    EXPECT_EQ(Run(Money(CommandType::kTopup, session, alice, 1)).code,
              ResultCode::kUnauthenticated);
    const Principal second = Login(alice, "t2");
    now_ += 3601ull * 1'000'000'000;
    EXPECT_EQ(Run(Money(CommandType::kTopup, second, alice, 1)).code, ResultCode::kUnauthenticated);
}

TEST_F(PlatformTest, DeadlinesFireWithoutCommands) {
    const uint64_t alice = Register("a@example.com");
    Login(alice, "t");
    EXPECT_EQ(platform_.users().session_count(), 1u);
    const uint64_t expires_at = now_ + 3600ull * 1'000'000'000;
    EXPECT_EQ(platform_.EarliestDeadline(), expires_at);
    EXPECT_FALSE(platform_.HasDeadlineDue(expires_at - 1));
    EXPECT_TRUE(platform_.HasDeadlineDue(expires_at));
    // An empty batch at the deadline (the engine's tick) removes the session.
    platform_.BeginBatch(expires_at);
    platform_.EndBatch();
    EXPECT_EQ(platform_.users().session_count(), 0u);
    EXPECT_FALSE(platform_.EarliestDeadline());
}

// A rejected command changes nothing: no id consumed, no account created, for every kind of refusal
// of every command. A twin of the state takes the same batches without the commands (a batch
// moves the ledger's clock, which is in the state hash): the two hashes stay equal.
TEST_F(PlatformTest, RefusedCommandsLeaveNoTrace) {
    const uint64_t alice = Register("a@example.com");
    const uint64_t bob = Register("b@example.com");
    const Principal alice_session = Login(alice, "ta");
    const Principal bob_session = Login(bob, "tb");
    const uint64_t shop = Merchant(Tier::kStarter, "k");
    ASSERT_TRUE(Run(Money(CommandType::kTopup, alice_session, alice, 1000)).ok());
    const Principal forged{PrincipalKind::kSession, HashOf("nope")};
    const Principal admin{PrincipalKind::kAdmin, {}};

    std::vector<std::pair<Command, ResultCode>> refused;
    auto add = [&](Command c, ResultCode code) { refused.emplace_back(std::move(c), code); };
    Command c = Money(CommandType::kTopup, forged, alice, 1);
    add(c, ResultCode::kUnauthenticated);
    c = Money(CommandType::kTopup, Principal{}, alice, 1);
    add(c, ResultCode::kUnauthenticated);
    add(Money(CommandType::kTopup, admin, 99, 1), ResultCode::kUserNotFound);
    add(Money(CommandType::kTopup, bob_session, alice, 1), ResultCode::kForbidden);
    add(Money(CommandType::kTopup, admin, alice, 0), ResultCode::kAmountInvalid);
    c = Money(CommandType::kTopup, admin, alice, 1);
    c.currency = 1;
    add(c, ResultCode::kCurrencyUnknown);
    c = Money(CommandType::kTransfer, alice_session, alice, 10);
    c.to_user_id = 99;
    add(c, ResultCode::kRecipientNotFound);
    c.to_user_id = alice;
    add(c, ResultCode::kSameSenderAndRecipient);
    c = Money(CommandType::kTransfer, bob_session, bob, 10);
    c.to_user_id = alice;
    add(c, ResultCode::kInsufficientFunds);  // bob has no wallet
    c = Money(CommandType::kTransfer, alice_session, alice, 5000);
    c.to_user_id = bob;  // bob's wallet must not be created by the refusal
    add(c, ResultCode::kInsufficientFunds);
    c = Money(CommandType::kPay, alice_session, alice, 10);
    c.merchant_id = 9;
    add(c, ResultCode::kMerchantNotFound);
    c.merchant_id = shop;
    c.amount = 5000;  // the merchant's and fee accounts must not be created
    add(c, ResultCode::kInsufficientFunds);
    c = Command{};
    c.type = CommandType::kRegisterUser;
    c.email = "A@example.com";
    add(c, ResultCode::kEmailAlreadyRegistered);
    c = Command{};
    c.type = CommandType::kUpdateUser;
    c.principal = bob_session;
    c.user_id = alice;
    c.name = "x";
    add(c, ResultCode::kForbidden);
    c.user_id = 99;
    add(c, ResultCode::kUserNotFound);
    c = Command{};
    c.type = CommandType::kCreateSession;
    c.user_id = 99;
    c.secret_hash = HashOf("s");
    c.expires_at = now_ + 1;
    add(c, ResultCode::kLoginUserNotFound);
    c = Command{};
    c.type = CommandType::kRevokeSession;
    c.principal = admin;
    add(c, ResultCode::kNotSignedIn);
    c = Command{};
    c.type = CommandType::kCreateMerchant;
    c.principal = alice_session;
    add(c, ResultCode::kForbidden);
    c.principal = admin;
    c.secret_hash = HashOf("k");  // shop's key
    add(c, ResultCode::kApiKeyTaken);

    std::string saved;
    ASSERT_TRUE(platform_.Freeze()->Save([&](const void* p, size_t n) {
        saved.append(static_cast<const char*>(p), n);
        return true;
    }));
    size_t offset = 0;
    auto twin = Platform::Load(
        [&](void* p, size_t n) {
            if (offset + n > saved.size()) return false;
            std::memcpy(p, saved.data() + offset, n);
            offset += n;
            return true;
        },
        {});
    ASSERT_TRUE(twin) << twin.error().ToString();
    for (const auto& [command, code] : refused) {
        const uint64_t accounts = platform_.ledger().account_count();
        const uint64_t timestamp = platform_.ledger().last_timestamp() + 1;
        Outcome outcome = Run(command);
        (*twin)->BeginBatch(timestamp);
        (*twin)->ledger().TakeTimestamp();
        (*twin)->EndBatch();
        EXPECT_EQ(outcome.code, code)
            << CommandName(command.type) << " " << ResultName(outcome.code);
        EXPECT_FALSE(outcome.txn);
        EXPECT_EQ(platform_.ledger().account_count(), accounts) << CommandName(command.type);
        EXPECT_EQ(platform_.StateHash(), (*twin)->StateHash())
            << CommandName(command.type) << " " << ResultName(code);
    }
    // And the next success takes the next id: none was consumed.
    Outcome topup = Run(Money(CommandType::kTopup, admin, bob, 1));
    ASSERT_TRUE(topup.txn);
    EXPECT_EQ(topup.txn->id, 2u);
}

TEST_F(PlatformTest, BalanceOverflowIsRefusedWithoutTrace) {
    const uint64_t alice = Register("a@example.com");
    // A wallet holding nearly 2^128 (put there through the ledger directly: no command can).
    platform_.BeginBatch(platform_.ledger().last_timestamp() + 1);
    ledger::Account accounts[2]{};
    accounts[0].id = 77;
    accounts[0].currency = kJpy;
    accounts[0].kind = static_cast<uint16_t>(ledger::AccountKind::kPspClearing);
    accounts[1].id = WalletAccountId(alice, kJpy);
    accounts[1].currency = kJpy;
    accounts[1].kind = static_cast<uint16_t>(ledger::AccountKind::kUserWallet);
    accounts[1].flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    std::vector<ledger::EventResult> results;
    platform_.ledger().CreateAccounts(accounts, &results);
    ledger::Transfer fill{};
    fill.id = 78;
    fill.debit_account_id = 77;
    fill.credit_account_id = accounts[1].id;
    fill.amount = kU128Max - 5;
    fill.currency = kJpy;
    fill.code = 1;
    platform_.ledger().CreateTransfers(std::span<const ledger::Transfer>(&fill, 1), &results);
    platform_.EndBatch();
    ASSERT_TRUE(results.empty());

    const uint64_t accounts_before = platform_.ledger().account_count();
    Outcome r = Run(Money(CommandType::kTopup, Principal{PrincipalKind::kAdmin, {}}, alice, 10));
    EXPECT_EQ(r.code, ResultCode::kBalanceOverflow);
    // The clearing account the top-up would have needed was not created, no id was taken.
    EXPECT_EQ(platform_.ledger().account_count(), accounts_before);
    Outcome small = Run(Money(CommandType::kTopup, Principal{PrincipalKind::kAdmin, {}}, alice, 5));
    ASSERT_TRUE(small.txn) << ResultName(small.code);
    EXPECT_EQ(small.txn->id, 1u);
}

TEST_F(PlatformTest, SaveLoadKeepsEverything) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    Command topup = Money(CommandType::kTopup, session, alice, 100);
    topup.idempotency_key = "k";
    ASSERT_TRUE(Run(topup).ok());
    Merchant(Tier::kEnterprise, "key");
    std::string bytes;
    ASSERT_TRUE(platform_.Freeze()->Save([&](const void* p, size_t n) {
        bytes.append(static_cast<const char*>(p), n);
        return true;
    }));
    auto load = [](const std::string& state) {
        size_t offset = 0;
        return Platform::Load(
            [&](void* p, size_t n) {
                if (offset + n > state.size()) return false;
                std::memcpy(p, state.data() + offset, n);
                offset += n;
                return true;
            },
            {});
    };
    auto loaded = load(bytes);
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    EXPECT_EQ((*loaded)->StateHash(), platform_.StateHash());
    EXPECT_EQ((*loaded)->SectionHashes(), platform_.SectionHashes());
    EXPECT_EQ((*loaded)->Authenticate(session, now_)->id, alice);
    EXPECT_EQ((*loaded)->idempotency().size(), 1u);
    EXPECT_EQ((*loaded)->EarliestDeadline(), platform_.EarliestDeadline());

    // An unknown section is corruption, named with its offset.
    std::string unknown = bytes;
    const uint32_t bad_id = 77;
    std::memcpy(unknown.data() + sizeof(uint32_t), &bad_id, sizeof(bad_id));
    auto refused = load(unknown);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("unknown section id 77 (at byte 4"), std::string::npos)
        << refused.error().message();
}

// A state without refunds is saved without their section, as a binary from before refunds saved
// it (five sections, the same state hash); with refunds it has six, and both load.
TEST_F(PlatformTest, RefundsSectionOnlyWhenThereAreRefunds) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    ASSERT_TRUE(Run(Money(CommandType::kTopup, session, alice, 10'000)).ok());
    const uint64_t shop = Merchant(Tier::kBusiness, "key");
    Command pay = Money(CommandType::kPay, session, alice, 1'000);
    pay.merchant_id = shop;
    const Outcome paid = Run(pay);
    ASSERT_TRUE(paid.ok());
    auto save = [&] {
        std::string bytes;
        EXPECT_TRUE(platform_.Freeze()->Save([&](const void* p, size_t n) {
            bytes.append(static_cast<const char*>(p), n);
            return true;
        }));
        return bytes;
    };
    auto load = [](const std::string& state) {
        size_t offset = 0;
        return Platform::Load(
            [&](void* p, size_t n) {
                if (offset + n > state.size()) return false;
                std::memcpy(p, state.data() + offset, n);
                offset += n;
                return true;
            },
            {});
    };
    auto section_count = [](const std::string& bytes) {
        uint32_t count = 0;
        std::memcpy(&count, bytes.data(), sizeof(count));
        return count;
    };
    std::string before = save();
    EXPECT_EQ(section_count(before), 5u);
    EXPECT_EQ(platform_.SectionHashes().size(), 5u);
    ASSERT_TRUE(load(before));

    Command refund;
    refund.type = CommandType::kRefund;
    refund.principal = {PrincipalKind::kApiKey, HashOf("key")};
    refund.txn_id = paid.txn->id;
    refund.amount = 400;
    refund.refund_reason = RefundReason::kDuplicate;
    const Outcome refunded = Run(refund);
    ASSERT_TRUE(refunded.ok()) << ResultName(refunded.code);
    EXPECT_EQ(refunded.txn->type, TxnType::kRefund);
    EXPECT_EQ(refunded.txn->payment_id, paid.txn->id);
    EXPECT_EQ(refunded.txn->fee, 2u);  // floor(6 * 400 / 1000)
    // What the ledger holds of it (created_at is its first leg's timestamp, not the command's).
    auto same = [&](const std::optional<Txn>& found) {
        ASSERT_TRUE(found);
        Txn expected = *refunded.txn;
        expected.created_at = found->created_at;
        EXPECT_EQ(*found, expected);
    };
    same(platform_.FindTxn(refunded.txn->id));
    EXPECT_EQ(Balance(alice), 9'400u);

    std::string after = save();
    EXPECT_EQ(section_count(after), 6u);
    auto loaded = load(after);
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    EXPECT_EQ((*loaded)->StateHash(), platform_.StateHash());
    EXPECT_EQ((*loaded)->SectionHashes().back().id, static_cast<uint32_t>(SectionId::kRefunds));
    const refunds::RefundRecord* record = (*loaded)->refunds().Find(refunded.txn->id);
    ASSERT_NE(record, nullptr);
    EXPECT_EQ(record->reason, RefundReason::kDuplicate);
    EXPECT_EQ((*loaded)->refunds().OfPayment(paid.txn->id)->refunded, 400u);
    same((*loaded)->FindTxn(refunded.txn->id));

    // A state missing one of the first five sections is corrupt, whatever follows.
    std::string missing = before;
    const uint32_t six = 6;
    // The idempotency section (5) is the last of `before`: renumbered 6, section 5 is missing.
    size_t offset = sizeof(uint32_t);
    for (int i = 0; i < 4; ++i) {
        uint64_t length = 0;
        std::memcpy(&length, missing.data() + offset + 8, sizeof(length));
        offset += 16 + length;
    }
    std::memcpy(missing.data() + offset, &six, sizeof(six));
    auto refused = load(missing);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("missing section 5"), std::string::npos)
        << refused.error().message();
}

// A merchant's balance must cover its part of a refund: Entry::MustCover refuses a debit past an
// account's balance with the code given, although the ledger's flags would let it through.
TEST_F(PlatformTest, EntryMustCoverRefusesADebitPastTheBalance) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    ASSERT_TRUE(Run(Money(CommandType::kTopup, session, alice, 1'000)).ok());
    const uint64_t shop = Merchant(Tier::kPremium, "key");
    Command pay = Money(CommandType::kPay, session, alice, 1'000);
    pay.merchant_id = shop;
    ASSERT_TRUE(Run(pay).ok());  // the shop holds 997
    Txn txn;
    txn.type = TxnType::kRefund;
    txn.user_id = alice;
    txn.merchant_id = shop;
    for (const u128 amount : {u128{997}, u128{998}}) {
        Entry entry(platform_.ledger(), txn);
        entry.MustCover(MerchantAccountId(shop, kJpy), ResultCode::kMerchantBalanceTooLow);
        entry.Leg(MerchantAccountId(shop, kJpy), WalletAccountId(alice, kJpy), amount, kCodeRefund,
                  LegKind::kRefundNet, shop);
        EXPECT_EQ(entry.Check(),
                  amount == 997 ? ResultCode::kOk : ResultCode::kMerchantBalanceTooLow)
            << static_cast<uint64_t>(amount);
    }
}

// A pre-authorization is capturable one nanosecond before created_at + expires_in, and released
// by the first batch at that time, before any of its commands.
TEST_F(PlatformTest, HoldExpiresExactlyAtItsDeadline) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    ASSERT_TRUE(Run(Money(CommandType::kTopup, session, alice, 1'000)).ok());
    const uint64_t hotel = Merchant(Tier::kPremium, "key");
    Command authorize = Money(CommandType::kAuthorize, session, alice, 600);
    authorize.merchant_id = hotel;
    authorize.expires_in = 60;
    const Outcome authorized = Run(authorize);
    ASSERT_TRUE(authorized.ok()) << ResultName(authorized.code);
    const Hold hold = *authorized.hold;
    EXPECT_EQ(hold.expires_at, hold.created_at + 60'000'000'000ull);
    auto frozen = [&] {
        return platform_.ledger().FindAccount(WalletAccountId(alice, kJpy))->debits_pending;
    };
    EXPECT_EQ(frozen(), 600u);

    Command capture;
    capture.type = CommandType::kCapture;
    capture.principal = {PrincipalKind::kApiKey, HashOf("key")};
    capture.hold_id = hold.id;
    capture.amount = 100;
    now_ = hold.expires_at - 1;
    EXPECT_FALSE(platform_.HasDeadlineDue(now_));
    const Outcome captured = Run(capture);
    ASSERT_TRUE(captured.ok()) << ResultName(captured.code);
    EXPECT_EQ(captured.txn->created_at, hold.expires_at - 1);
    EXPECT_EQ(captured.hold->status, HoldStatus::kPartiallyCaptured);
    EXPECT_EQ(frozen(), 500u);

    now_ = hold.expires_at;
    EXPECT_TRUE(platform_.HasDeadlineDue(now_));
    const Outcome late = Run(capture);
    EXPECT_EQ(late.code, ResultCode::kHoldExpired);
    const Hold* expired = platform_.holds().Find(hold.id);
    EXPECT_EQ(expired->status, HoldStatus::kExpired);
    EXPECT_EQ(expired->captured, 100u);
    EXPECT_EQ(expired->released, 500u);
    EXPECT_EQ(frozen(), 0u);
    EXPECT_EQ(Balance(alice), 900u);
    EXPECT_FALSE(platform_.EarliestDeadline().has_value() &&
                 *platform_.EarliestDeadline() == hold.expires_at);
}

TEST(RefundFees, ProportionalNeverReturnsMoreThanTheFee) {
    EXPECT_EQ(refunds::FeeReturned(10'000, 60, 3'333), 19u);
    EXPECT_EQ(refunds::FeeReturned(10'000, 60, 6'666), 39u);
    EXPECT_EQ(refunds::FeeReturned(10'000, 60, 10'000), 60u);
    EXPECT_EQ(refunds::FeeReturned(1'000, 8, 1), 0u);
    // Every split of a payment returns, in sum, exactly the fee on the last part.
    for (u128 amount : {u128{1}, u128{7}, u128{999}, u128{10'001}}) {
        for (u128 step : {u128{1}, u128{3}, u128{250}}) {
            const u128 fee = charges::Fee(amount, 80);
            u128 refunded = 0, returned = 0;
            while (refunded < amount) {
                const u128 part = std::min(step, amount - refunded);
                const u128 now = refunds::FeeReturned(amount, fee, refunded + part) - returned;
                EXPECT_LE(now, part);
                returned += now;
                refunded += part;
                EXPECT_LE(returned, fee);
            }
            EXPECT_EQ(returned, fee);
        }
    }
}

// Merchants sections of versions 1 (no tier history) and 2 (no currency) still load: held as
// today's state, and their loaded hash is that of the sections as written (a snapshot's header).
TEST_F(PlatformTest, MerchantsSectionsOfEarlierVersionsStillLoad) {
    Merchant(Tier::kBusiness, "k1");
    Merchant(Tier::kPremium, "k2");
    std::string bytes;
    ASSERT_TRUE(platform_.Freeze()->Save([&](const void* p, size_t n) {
        bytes.append(static_cast<const char*>(p), n);
        return true;
    }));
    for (const uint32_t target : {1u, 2u}) {
        // Rewrite section 4 in the target version's layout: the same merchants, without their
        // (empty) history in version 1, without their currency (0) in both.
        std::string rewritten(bytes.substr(0, sizeof(uint32_t)));
        std::vector<SectionHash> written;
        size_t offset = sizeof(uint32_t);
        while (offset < bytes.size()) {
            uint32_t id = 0, version = 0;
            uint64_t length = 0;
            std::memcpy(&id, bytes.data() + offset, 4);
            std::memcpy(&version, bytes.data() + offset + 4, 4);
            std::memcpy(&length, bytes.data() + offset + 8, 8);
            std::string body = bytes.substr(offset + 16, length);
            offset += 16 + length;
            if (id == static_cast<uint32_t>(SectionId::kMerchants)) {
                ASSERT_EQ(version, merchants::Merchants::kSectionVersion);
                std::string old;
                BinaryReader r(body);
                BinaryWriter w(&old);
                uint64_t count = 0;
                ASSERT_TRUE(r.U64(&count));
                w.U64(count);
                for (uint64_t i = 0; i < count; ++i) {
                    std::string name;
                    uint8_t tier = 0;
                    Hash256 key{};
                    uint64_t created_at = 0;
                    uint32_t changes = 0, currency = 0;
                    ASSERT_TRUE(r.String(&name) && r.U8(&tier) && r.Hash(&key) &&
                                r.U64(&created_at) && r.U32(&changes) && r.U32(&currency));
                    ASSERT_EQ(changes, 0u);
                    ASSERT_EQ(currency, 0u);
                    w.String(name);
                    w.U8(tier);
                    w.Hash(key);
                    w.U64(created_at);
                    if (target == 2) w.U32(changes);
                }
                body = old;
                version = target;
                length = body.size();
            }
            written.push_back({id, version,
                               id == static_cast<uint32_t>(SectionId::kLedger)
                                   ? platform_.ledger().StateHash()
                                   : Sha256::Of(body.data(), body.size())});
            rewritten.append(reinterpret_cast<const char*>(&id), 4);
            rewritten.append(reinterpret_cast<const char*>(&version), 4);
            rewritten.append(reinterpret_cast<const char*>(&length), 8);
            rewritten += body;
        }
        size_t read_offset = 0;
        auto loaded = Platform::Load(
            [&](void* p, size_t n) {
                if (read_offset + n > rewritten.size()) return false;
                std::memcpy(p, rewritten.data() + read_offset, n);
                read_offset += n;
                return true;
            },
            {});
        ASSERT_TRUE(loaded) << loaded.error().ToString();
        EXPECT_EQ((*loaded)->StateHash(), platform_.StateHash()) << target;
        EXPECT_EQ((*loaded)->loaded_hash(), CombineSectionHashes(written)) << target;
        EXPECT_NE((*loaded)->loaded_hash(), platform_.StateHash()) << target;
        EXPECT_EQ((*loaded)->merchants().Find(2)->tier, Tier::kPremium);
    }
}

TEST_F(PlatformTest, SectionHashesNameTheModuleThatDiffers) {
    Register("a@example.com");
    const std::vector<SectionHash> before = platform_.SectionHashes();
    Merchant(Tier::kStarter, "k");
    const std::vector<SectionHash> after = platform_.SectionHashes();
    ASSERT_EQ(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i) {
        // The merchant, and the ledger's clock (every batch moves it).
        const bool changed = before[i].id == static_cast<uint32_t>(SectionId::kMerchants) ||
                             before[i].id == static_cast<uint32_t>(SectionId::kLedger);
        EXPECT_EQ(before[i] != after[i], changed) << SectionName(before[i].id);
    }
}

TEST(CommandCodec, RoundTripAndRejectsGarbage) {
    Command c;
    c.type = CommandType::kPay;
    c.principal = {PrincipalKind::kApiKey, HashOf("x")};
    c.idempotency_key = "abc";
    c.amount = 12345;
    c.user_id = 3;
    c.merchant_id = 4;
    c.currency = kJpy;
    std::string bytes;
    EncodeCommand(c, &bytes);
    auto decoded = DecodeCommand(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->amount, c.amount);
    EXPECT_EQ(decoded->idempotency_key, "abc");
    EXPECT_EQ(decoded->merchant_id, 4u);
    EXPECT_EQ(decoded->version, kCommandVersion);
    for (size_t size = 0; size < bytes.size(); ++size) {
        EXPECT_FALSE(DecodeCommand(bytes.substr(0, size))) << size;
    }
    EXPECT_FALSE(DecodeCommand(bytes + "x"));
    EXPECT_EQ(PeekCommand(bytes)->type, CommandType::kPay);
}

TEST(CommandCodec, RefundRoundTrip) {
    Command c;
    c.type = CommandType::kRefund;
    c.principal = {PrincipalKind::kApiKey, HashOf("x")};
    c.txn_id = 42;
    c.amount = 7;
    c.refund_reason = RefundReason::kRequestedByCustomer;
    std::string bytes;
    EncodeCommand(c, &bytes);
    auto decoded = DecodeCommand(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->txn_id, 42u);
    EXPECT_EQ(decoded->amount, 7u);
    EXPECT_EQ(decoded->refund_reason, RefundReason::kRequestedByCustomer);
    bytes.back() = 4;  // no such reason
    EXPECT_FALSE(DecodeCommand(bytes));
    EXPECT_EQ(FindRefundReason("fraudulent"), RefundReason::kFraudulent);
    EXPECT_FALSE(FindRefundReason(""));

    Outcome o;
    o.txn = Txn{9, TxnType::kRefund, 1, 2, 0, 7, 0, kJpy, 5, 42};
    bytes.clear();
    EncodeOutcome(o, &bytes);
    EXPECT_EQ(*DecodeOutcome(bytes), o);
    EXPECT_EQ(SummarizeOutcome(kCommandVersion, bytes)->txn->payment_id, 42u);
}

TEST(CommandCodec, HoldsNoSecret) {
    Command c;
    c.type = CommandType::kCreateSession;
    c.user_id = 1;
    c.secret_hash = HashOf("ses_secret-token");
    c.expires_at = 5;
    std::string bytes;
    EncodeCommand(c, &bytes);
    EXPECT_EQ(bytes.find("ses_secret-token"), std::string::npos);
    EXPECT_EQ(DecodeCommand(bytes)->secret_hash, c.secret_hash);
}

TEST(OutcomeCodec, RoundTripOfEveryField) {
    Outcome o;
    o.code = ResultCode::kOk;
    o.replayed = true;
    o.object_id = 7;
    o.time = 9;
    o.balance = 11;
    o.email = "e@x";
    o.txn = Txn{3, TxnType::kPay, 1, 2, 0, 100, 1, kJpy, 5};
    o.legacy = LegacyAnswer{201, "{}"};
    std::string bytes;
    EncodeOutcome(o, &bytes);
    auto decoded = DecodeOutcome(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, o);
    for (size_t size = 0; size < bytes.size(); ++size) {
        EXPECT_FALSE(DecodeOutcome(bytes.substr(0, size))) << size;
    }
    auto summary = SummarizeOutcome(kCommandVersion, bytes);
    ASSERT_TRUE(summary);
    EXPECT_TRUE(summary->replayed);
    EXPECT_EQ(summary->txn, o.txn);
    // A refusal is three bytes and a presence byte.
    bytes.clear();
    EncodeOutcome(Refused(ResultCode::kInsufficientFunds), &bytes);
    EXPECT_EQ(bytes.size(), 4u);
    EXPECT_EQ(DecodeOutcome(bytes)->code, ResultCode::kInsufficientFunds);
}

TEST(OutcomeCodec, V1AnswersLoseTheirSecrets) {
    EXPECT_EQ(WithoutSecrets(R"({"token":"ses_abc","user_id":"usr_1","expires_at":5})"),
              R"({"token":null,"user_id":"usr_1","expires_at":5})");
    EXPECT_EQ(
        WithoutSecrets(R"({"merchant_id":"mch_1","name":"S","tier":"starter","api_key":"sk_x"})"),
        R"({"merchant_id":"mch_1","name":"S","tier":"starter","api_key":null})");
    EXPECT_EQ(WithoutSecrets(R"({"txn_id":"txn_1"})"), R"({"txn_id":"txn_1"})");
}

TEST(Ids, FormatAndParse) {
    EXPECT_EQ(FormatUserId(12), "usr_12");
    EXPECT_EQ(ParseUserId("usr_12"), 12u);
    EXPECT_FALSE(ParseUserId("usr_"));
    EXPECT_FALSE(ParseUserId("usr_0"));
    EXPECT_FALSE(ParseUserId("usr_012"));
    EXPECT_FALSE(ParseUserId("mch_1"));
    EXPECT_FALSE(ParseUserId("usr_99999999999999999999999"));
    EXPECT_EQ(ParseTxnId("txn_7"), 7u);
}

}  // namespace
}  // namespace bursar::payments
