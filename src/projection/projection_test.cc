#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "base/clock.h"
#include "projection/projector.h"

namespace bursar::projection {
namespace {

constexpr uint32_t kJpy = 392;

class ProjectionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() /
                ("bursar-projection-" + std::to_string(::getpid())))
                   .string();
        std::filesystem::remove_all(dir_);
        OpenEngine();
    }
    void TearDown() override {
        projector_.reset();
        engine_.reset();
        std::filesystem::remove_all(dir_);
    }

    void OpenEngine() {
        engine::EngineOptions options;
        options.data_dir = dir_;
        auto engine = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
        ASSERT_TRUE(engine) << engine.error().ToString();
        engine_ = std::move(*engine);
        engine_->Start();
        projector_ = std::make_unique<Projector>(PosixFileSystem(), *engine_, dir_, nullptr);
        ASSERT_TRUE(projector_->Start().ok());
    }

    payments::CommandResult Run(payments::Command command) {
        auto result = engine::RunCommand(*engine_, std::move(command));
        EXPECT_TRUE(result) << result.error().ToString();
        return result ? std::move(*result) : payments::CommandResult{};
    }

    // Registers a user with a session and tops up `amount`.
    payments::Principal Funded(const std::string& email, uint64_t amount) {
        payments::Command reg;
        reg.type = payments::CommandType::kRegisterUser;
        reg.email = email;
        EXPECT_EQ(Run(reg).status, 201);
        const uint64_t user = ++users_;
        payments::Command login;
        login.type = payments::CommandType::kCreateSession;
        login.user_id = user;
        login.secret_hash = Sha256::Of(email.data(), email.size());
        login.expires_at = SystemClock::Instance().RealtimeNs() + 3'600'000'000'000ull;
        EXPECT_EQ(Run(login).status, 200);
        payments::Principal principal{payments::PrincipalKind::kSession, login.secret_hash};
        payments::Command topup;
        topup.type = payments::CommandType::kTopup;
        topup.principal = principal;
        topup.user_id = user;
        topup.amount = amount;
        topup.currency = kJpy;
        EXPECT_EQ(Run(topup).status, 200);
        return principal;
    }

    std::vector<TransactionRow> List(ListFilter filter) {
        EXPECT_TRUE(projector_->WaitFor(engine_->committed_seq(), 5000));
        auto model = ReadModel::Open(ReadModelPath(dir_));
        EXPECT_TRUE(model);
        bool more = false;
        auto rows = (*model)->List(filter, &more);
        EXPECT_TRUE(rows);
        return *rows;
    }

    std::string dir_;
    uint64_t users_ = 0;
    std::unique_ptr<engine::Engine> engine_;
    std::unique_ptr<Projector> projector_;
};

TEST_F(ProjectionTest, ProjectsMovementsWithPostingsAndPages) {
    payments::Principal alice = Funded("a@example.com", 1000);
    Funded("b@example.com", 50);
    for (int i = 0; i < 5; ++i) {
        payments::Command p2p;
        p2p.type = payments::CommandType::kTransfer;
        p2p.principal = alice;
        p2p.user_id = 1;
        p2p.to_user_id = 2;
        p2p.amount = 10 + i;
        p2p.currency = kJpy;
        ASSERT_EQ(Run(p2p).status, 200);
    }
    auto rows = List({.user_id = 1, .size = 3});
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_GT(rows[0].txn_id, rows[1].txn_id);  // newest first
    EXPECT_EQ(rows[0].type, "TRANSFER");
    EXPECT_EQ(rows[0].amount_minor, 14u);
    ASSERT_EQ(rows[0].postings.size(), 2u);
    EXPECT_EQ(rows[0].postings[0].account, "usr_1/wallet/JPY");
    EXPECT_EQ(rows[0].postings[0].direction, "debit");
    EXPECT_EQ(rows[0].postings[1].account, "usr_2/wallet/JPY");
    // The next page starts after the cursor and ends with the top-up.
    auto next = List({.user_id = 1, .size = 10, .before_txn_id = rows.back().txn_id});
    ASSERT_EQ(next.size(), 3u);
    EXPECT_EQ(next.back().type, "TOPUP");
    // Bob sees his top-up and the five transfers he received.
    EXPECT_EQ(List({.user_id = 2, .size = 100}).size(), 6u);
}

TEST_F(ProjectionTest, RestartsWhereItStoppedAndRebuildsTheSame) {
    Funded("a@example.com", 1000);
    EXPECT_EQ(List({.size = 100}).size(), 1u);
    projector_.reset();
    engine_.reset();
    OpenEngine();
    Funded("b@example.com", 20);
    auto rows = List({.size = 100});
    ASSERT_EQ(rows.size(), 2u);  // not projected twice
    projector_.reset();
    engine_.reset();
    uint64_t records = 0;
    ASSERT_TRUE(Projector::Rebuild(PosixFileSystem(), dir_, &records).ok());
    EXPECT_GT(records, 0u);
    auto model = ReadModel::Open(ReadModelPath(dir_));
    bool more = false;
    auto rebuilt = (*model)->List({.size = 100}, &more);
    ASSERT_TRUE(rebuilt);
    ASSERT_EQ(rebuilt->size(), 2u);
    EXPECT_EQ((*rebuilt)[0].txn_id, rows[0].txn_id);
    EXPECT_EQ((*rebuilt)[1].amount_minor, rows[1].amount_minor);
    OpenEngine();
}

}  // namespace
}  // namespace bursar::projection
