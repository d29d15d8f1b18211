#include "payments/platform.h"

#include <gtest/gtest.h>

#include <cstring>

#include "payments/error_codes.h"

namespace bursar::payments {
namespace {

constexpr uint32_t kJpy = 392;
constexpr uint64_t kStart = 1'700'000'000ull * 1'000'000'000ull;

Hash256 HashOf(std::string_view text) { return Sha256::Of(text.data(), text.size()); }

class PlatformTest : public ::testing::Test {
  protected:
    void TearDown() override {
        Status status = platform_.ledger().CheckInvariants();
        EXPECT_TRUE(status.ok()) << status.ToString();
    }

    CommandResult Run(Command command) {
        platform_.BeginBatch(std::max(now_, platform_.ledger().last_timestamp() + 1));
        CommandResult result = platform_.Apply(command);
        platform_.EndBatch();
        return result;
    }

    uint64_t Register(const std::string& email) {
        Command c;
        c.type = CommandType::kRegisterUser;
        c.email = email;
        c.name = "Name";
        c.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$x$y";
        CommandResult r = Run(c);
        EXPECT_EQ(r.status, 201) << r.body;
        return platform_.user_count();
    }

    Principal Login(uint64_t user_id, const std::string& token) {
        Command c;
        c.type = CommandType::kCreateSession;
        c.user_id = user_id;
        c.secret = token;
        c.secret_hash = HashOf(token);
        c.expires_at = now_ + 3600ull * 1'000'000'000;
        EXPECT_EQ(Run(c).status, 200);
        return Principal{PrincipalKind::kSession, HashOf(token)};
    }

    uint64_t Merchant(Tier tier, const std::string& key) {
        Command c;
        c.type = CommandType::kCreateMerchant;
        c.principal.kind = PrincipalKind::kAdmin;
        c.name = "Shop";
        c.tier = tier;
        c.secret = key;
        c.secret_hash = HashOf(key);
        EXPECT_EQ(Run(c).status, 201);
        return platform_.merchant_count();
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

    Platform platform_;
    uint64_t now_ = kStart;
};

TEST_F(PlatformTest, TopupPayAndFeeOfTheTier) {
    const uint64_t alice = Register("alice@example.com");
    const Principal session = Login(alice, "token-a");
    const uint64_t shop = Merchant(Tier::kStarter, "key-1");
    CommandResult topup = Run(Money(CommandType::kTopup, session, alice, 10'000));
    ASSERT_EQ(topup.status, 200) << topup.body;
    EXPECT_NE(topup.body.find("\"balance_minor\":10000"), std::string::npos) << topup.body;

    Command pay = Money(CommandType::kPay, session, alice, 1'000);
    pay.merchant_id = shop;
    CommandResult paid = Run(pay);
    ASSERT_EQ(paid.status, 200) << paid.body;
    ASSERT_TRUE(paid.txn);
    // Starter: 0.8 % of 1000 = 8.
    EXPECT_EQ(paid.txn->fee, static_cast<u128>(8));
    const auto* merchant = platform_.ledger().FindAccount(MerchantAccountId(shop, kJpy));
    EXPECT_EQ(merchant->credits_posted, static_cast<u128>(992));
    EXPECT_EQ(platform_.ledger().FindAccount(FeeAccountId(kJpy))->credits_posted,
              static_cast<u128>(8));
    const auto* wallet = platform_.ledger().FindAccount(WalletAccountId(alice, kJpy));
    EXPECT_EQ(wallet->credits_posted - wallet->debits_posted, static_cast<u128>(9'000));
    // The payment reads back from the ledger.
    Response read = platform_.GetPayment(session, paid.txn->id, now_);
    EXPECT_EQ(read.status, 200);
    EXPECT_NE(read.body.find("\"fee_minor\":8"), std::string::npos) << read.body;
    EXPECT_NE(read.body.find("\"net_minor\":992"), std::string::npos) << read.body;
}

TEST_F(PlatformTest, FeeRoundsHalfUp) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    const uint64_t premium = Merchant(Tier::kPremium, "k");
    ASSERT_EQ(Run(Money(CommandType::kTopup, session, alice, 100'000)).status, 200);
    // Premium 0.3 %: 150 * 0.003 = 0.45 -> 0; 167 * 0.003 = 0.501 -> 1; 500 -> 1.5 -> 2.
    for (auto [amount, fee] : std::vector<std::pair<int, int>>{{150, 0}, {167, 1}, {500, 2}}) {
        Command pay = Money(CommandType::kPay, session, alice, amount);
        pay.merchant_id = premium;
        CommandResult r = Run(pay);
        ASSERT_TRUE(r.txn) << r.body;
        EXPECT_EQ(r.txn->fee, static_cast<u128>(fee)) << amount;
    }
}

TEST_F(PlatformTest, InsufficientFundsMovesNothing) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    const uint64_t shop = Merchant(Tier::kBusiness, "k");
    Command pay = Money(CommandType::kPay, session, alice, 100);
    pay.merchant_id = shop;
    EXPECT_EQ(Run(pay).status, 402);  // no wallet yet
    ASSERT_EQ(Run(Money(CommandType::kTopup, session, alice, 50)).status, 200);
    CommandResult r = Run(pay);
    EXPECT_EQ(r.status, 402);
    EXPECT_NE(r.body.find("INSUFFICIENT_FUNDS"), std::string::npos);
    const auto* wallet = platform_.ledger().FindAccount(WalletAccountId(alice, kJpy));
    EXPECT_EQ(wallet->debits_posted, static_cast<u128>(0));
}

TEST_F(PlatformTest, AuthorizationBetweenUsers) {
    const uint64_t alice = Register("a@example.com");
    const uint64_t bob = Register("b@example.com");
    const Principal alice_session = Login(alice, "ta");
    const Principal bob_session = Login(bob, "tb");
    ASSERT_EQ(Run(Money(CommandType::kTopup, alice_session, alice, 500)).status, 200);
    // Bob may not spend Alice's money, nor read her wallet.
    Command steal = Money(CommandType::kTransfer, bob_session, alice, 100);
    steal.to_user_id = bob;
    EXPECT_EQ(Run(steal).status, 403);
    EXPECT_EQ(platform_.GetWallet(bob_session, alice, now_).status, 403);
    // A bad token is unauthenticated.
    Principal forged{PrincipalKind::kSession, HashOf("nope")};
    EXPECT_EQ(Run(Money(CommandType::kTopup, forged, alice, 1)).status, 401);
    // Alice can pay Bob.
    Command p2p = Money(CommandType::kTransfer, alice_session, alice, 100);
    p2p.to_user_id = bob;
    EXPECT_EQ(Run(p2p).status, 200);
    EXPECT_NE(platform_.GetWallet(bob_session, bob, now_).body.find("\"balance_minor\":100"),
              std::string::npos);
    // Only the admin creates merchants.
    Command merchant;
    merchant.type = CommandType::kCreateMerchant;
    merchant.principal = alice_session;
    merchant.name = "x";
    EXPECT_EQ(Run(merchant).status, 403);
}

TEST_F(PlatformTest, PaymentsOfOthersAreNotFound) {
    const uint64_t alice = Register("a@example.com");
    const uint64_t bob = Register("b@example.com");
    const Principal alice_session = Login(alice, "ta");
    const Principal bob_session = Login(bob, "tb");
    const uint64_t shop = Merchant(Tier::kStarter, "k1");
    const uint64_t other = Merchant(Tier::kStarter, "k2");
    ASSERT_EQ(Run(Money(CommandType::kTopup, alice_session, alice, 500)).status, 200);
    Command pay = Money(CommandType::kPay, alice_session, alice, 100);
    pay.merchant_id = shop;
    CommandResult paid = Run(pay);
    ASSERT_TRUE(paid.txn);
    EXPECT_EQ(platform_.GetPayment(bob_session, paid.txn->id, now_).status, 404);
    EXPECT_EQ(
        platform_.GetPayment({PrincipalKind::kApiKey, HashOf("k2")}, paid.txn->id, now_).status,
        404);
    EXPECT_EQ(
        platform_.GetPayment({PrincipalKind::kApiKey, HashOf("k1")}, paid.txn->id, now_).status,
        200);
    EXPECT_EQ(platform_.GetPayment({PrincipalKind::kAdmin, {}}, paid.txn->id, now_).status, 200);
    (void)other;
}

TEST_F(PlatformTest, IdempotencyKeyReplaysMismatchesAndExpires) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    Command topup = Money(CommandType::kTopup, session, alice, 100);
    topup.idempotency_key = "key-1";
    topup.request_fingerprint = HashOf("POST /topup 100");
    CommandResult first = Run(topup);
    ASSERT_EQ(first.status, 200);
    EXPECT_FALSE(first.replayed);
    CommandResult again = Run(topup);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.body, first.body);
    EXPECT_FALSE(again.txn);  // no money moved
    Command different = topup;
    different.amount = 200;
    different.request_fingerprint = HashOf("POST /topup 200");
    CommandResult mismatch = Run(different);
    EXPECT_EQ(mismatch.status, 400);
    EXPECT_NE(mismatch.body.find("IDEMPOTENCY_KEY_MISMATCH"), std::string::npos);
    const auto* wallet = platform_.ledger().FindAccount(WalletAccountId(alice, kJpy));
    EXPECT_EQ(wallet->credits_posted, static_cast<u128>(100));
    // After the retention, the key is forgotten (the session is renewed to stay valid).
    now_ += kIdempotencyRetentionNs + 1;
    const Principal renewed = Login(alice, "t2");
    topup.principal = renewed;
    // A key is scoped by caller: same user, new session, same scope.
    EXPECT_FALSE(Run(topup).replayed);
    EXPECT_EQ(platform_.ledger().FindAccount(WalletAccountId(alice, kJpy))->credits_posted,
              static_cast<u128>(200));
}

TEST_F(PlatformTest, ValidationFailuresAreNotStored) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    Command bad = Money(CommandType::kTransfer, session, alice, 5);
    bad.to_user_id = alice;  // to oneself: INVALID_REQUEST
    bad.idempotency_key = "k";
    bad.request_fingerprint = HashOf("a");
    EXPECT_EQ(Run(bad).status, 400);
    EXPECT_EQ(platform_.idempotency_record_count(), 0u);
}

TEST_F(PlatformTest, DuplicateEmailIsRefused) {
    Register("a@example.com");
    Command c;
    c.type = CommandType::kRegisterUser;
    c.email = "a@example.com";
    CommandResult r = Run(c);
    EXPECT_EQ(r.status, 409);
    EXPECT_NE(r.body.find("EMAIL_ALREADY_REGISTERED"), std::string::npos);
}

TEST_F(PlatformTest, ExpiredAndRevokedSessionsAreRefused) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    Command logout;
    logout.type = CommandType::kRevokeSession;
    logout.principal = session;
    EXPECT_EQ(Run(logout).status, 200);
    EXPECT_EQ(Run(Money(CommandType::kTopup, session, alice, 1)).status, 401);
    const Principal second = Login(alice, "t2");
    now_ += 3601ull * 1'000'000'000;
    EXPECT_EQ(Run(Money(CommandType::kTopup, second, alice, 1)).status, 401);
}

TEST_F(PlatformTest, SaveLoadKeepsEverything) {
    const uint64_t alice = Register("a@example.com");
    const Principal session = Login(alice, "t");
    Command topup = Money(CommandType::kTopup, session, alice, 100);
    topup.idempotency_key = "k";
    ASSERT_EQ(Run(topup).status, 200);
    Merchant(Tier::kEnterprise, "key");
    std::string bytes;
    ASSERT_TRUE(platform_.Freeze()->Save([&](const void* p, size_t n) {
        bytes.append(static_cast<const char*>(p), n);
        return true;
    }));
    size_t offset = 0;
    auto loaded = Platform::Load(
        [&](void* p, size_t n) {
            if (offset + n > bytes.size()) return false;
            std::memcpy(p, bytes.data() + offset, n);
            offset += n;
            return true;
        },
        {});
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    EXPECT_EQ((*loaded)->StateHash(), platform_.StateHash());
    EXPECT_EQ((*loaded)->Authenticate(session, now_)->id, alice);
    EXPECT_EQ((*loaded)->idempotency_record_count(), 1u);
}

TEST(CommandCodec, RoundTripAndRejectsGarbage) {
    Command c;
    c.type = CommandType::kPay;
    c.principal = {PrincipalKind::kApiKey, HashOf("x")};
    c.idempotency_key = "abc";
    c.amount = 12345;
    c.email = "e";
    std::string bytes;
    EncodeCommand(c, &bytes);
    auto decoded = DecodeCommand(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->amount, c.amount);
    EXPECT_EQ(decoded->idempotency_key, "abc");
    EXPECT_FALSE(DecodeCommand(bytes.substr(0, bytes.size() - 1)));
    EXPECT_FALSE(DecodeCommand(bytes + "x"));
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
