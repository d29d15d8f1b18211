#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "base/clock.h"
#include "ledger/currency.h"
#include "projection/projector.h"

namespace bursar::projection {
namespace {

constexpr uint32_t kJpy = 392;
constexpr uint32_t kUsd = 840;

std::string TempDir(const std::string& name) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("bursar-" + name + "-" + std::to_string(::getpid())))
                                .string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// Runs SQL on the read model's file outside of ReadModel (an earlier schema, a look inside);
// returns the first column of the first row, or -1 when there is none.
int64_t ExecSql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    int64_t first = -1;
    char* message = nullptr;
    auto callback = [](void* result, int, char** values, char**) {
        if (*static_cast<int64_t*>(result) == -1 && values[0] != nullptr) {
            *static_cast<int64_t*>(result) = std::strtoll(values[0], nullptr, 10);
        }
        return 0;
    };
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), callback, &first, &message), SQLITE_OK)
        << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
    return first;
}

// Schema version 1, as its read model created it.
constexpr const char* kSchemaVersion1 = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE transactions (
    txn_id INTEGER PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL,
    amount_minor INTEGER NOT NULL, fee_minor INTEGER NOT NULL, currency TEXT NOT NULL,
    user_id INTEGER NOT NULL, merchant_id INTEGER NOT NULL, to_user_id INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX transactions_user ON transactions (user_id, txn_id);
CREATE INDEX transactions_to_user ON transactions (to_user_id, txn_id);
CREATE INDEX transactions_merchant ON transactions (merchant_id, txn_id);
CREATE TABLE postings (
    txn_id INTEGER NOT NULL, leg INTEGER NOT NULL, account TEXT NOT NULL,
    direction TEXT NOT NULL, amount_minor INTEGER NOT NULL, PRIMARY KEY (txn_id, leg));
)sql";

// Schema version 2, as its read model created it.
constexpr const char* kSchemaVersion2 = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE transactions (
    txn_id INTEGER PRIMARY KEY, type INTEGER NOT NULL, amount_minor INTEGER NOT NULL,
    fee_minor INTEGER NOT NULL, currency INTEGER NOT NULL, user_id INTEGER NOT NULL,
    merchant_id INTEGER NOT NULL, to_user_id INTEGER NOT NULL, created_at_ns INTEGER NOT NULL);
CREATE INDEX transactions_user ON transactions (user_id);
CREATE INDEX transactions_to_user ON transactions (to_user_id) WHERE to_user_id != 0;
CREATE INDEX transactions_merchant ON transactions (merchant_id) WHERE merchant_id != 0;
)sql";

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

    payments::Outcome Run(payments::Command command) {
        auto result = engine::RunCommand(*engine_, std::move(command));
        EXPECT_TRUE(result) << result.error().ToString();
        return result ? std::move(*result)
                      : payments::Refused(payments::ResultCode::kUnknownCommand);
    }

    // Registers a user with a session and tops up `amount`.
    payments::Principal Funded(const std::string& email, uint64_t amount) {
        payments::Command reg;
        reg.type = payments::CommandType::kRegisterUser;
        reg.email = email;
        EXPECT_TRUE(Run(reg).ok());
        const uint64_t user = ++users_;
        payments::Command login;
        login.type = payments::CommandType::kCreateSession;
        login.user_id = user;
        login.secret_hash = Sha256::Of(email.data(), email.size());
        login.expires_at = SystemClock::Instance().RealtimeNs() + 3'600'000'000'000ull;
        EXPECT_TRUE(Run(login).ok());
        payments::Principal principal{payments::PrincipalKind::kSession, login.secret_hash};
        payments::Command topup;
        topup.type = payments::CommandType::kTopup;
        topup.principal = principal;
        topup.user_id = user;
        topup.amount = amount;
        topup.currency = kJpy;
        EXPECT_TRUE(Run(topup).ok());
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
        ASSERT_TRUE(Run(p2p).ok());
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

TEST_F(ProjectionTest, AnEarlierSchemaIsProjectedAgainFromTheJournal) {
    payments::Principal alice = Funded("a@example.com", 1000);
    Funded("b@example.com", 50);
    payments::Command p2p;
    p2p.type = payments::CommandType::kTransfer;
    p2p.principal = alice;
    p2p.user_id = 1;
    p2p.to_user_id = 2;
    p2p.amount = 30;
    p2p.currency = kJpy;
    ASSERT_TRUE(Run(p2p).ok());
    const std::vector<TransactionRow> before = List({.size = 100});
    ASSERT_EQ(before.size(), 3u);
    projector_.reset();
    engine_.reset();
    // A version 1 file that claims the whole journal, with a row the journal does not have.
    const std::string path = ReadModelPath(dir_);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    ExecSql(path, std::string(kSchemaVersion1) +
                      "INSERT INTO meta VALUES ('schema_version', 1), ('journal_seq', 1000000);"
                      "INSERT INTO transactions VALUES "
                      "(99, 'PAY', 'succeeded', 5, 0, 'JPY', 1, 1, 0, 0, 1);");
    OpenEngine();
    const std::vector<TransactionRow> after = List({.size = 100});
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) {
        EXPECT_EQ(after[i].txn_id, before[i].txn_id);
        EXPECT_EQ(after[i].type, before[i].type);
        EXPECT_EQ(after[i].amount_minor, before[i].amount_minor);
        EXPECT_EQ(after[i].postings.size(), before[i].postings.size());
    }
    EXPECT_EQ(List({.user_id = 2, .size = 100}).size(), 2u);  // b: top-up, transfer received
    // The version 1 tables are gone.
    EXPECT_EQ(ExecSql(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'postings'"), 0);
    EXPECT_EQ(ExecSql(path, "PRAGMA user_version"), 3);
}

// Schema version 2 (no payment_id) is emptied and projected again the same way.
TEST_F(ProjectionTest, SchemaVersionTwoIsProjectedAgainFromTheJournal) {
    Funded("a@example.com", 1000);
    const std::vector<TransactionRow> before = List({.size = 100});
    ASSERT_EQ(before.size(), 1u);
    projector_.reset();
    engine_.reset();
    const std::string path = ReadModelPath(dir_);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    ExecSql(path, std::string(kSchemaVersion2) +
                      "INSERT INTO meta VALUES ('journal_seq', 1000000);"
                      "INSERT INTO transactions VALUES (99, 2, 5, 0, 392, 1, 1, 0, 0);"
                      "PRAGMA user_version=2;");
    OpenEngine();
    const std::vector<TransactionRow> after = List({.size = 100});
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].txn_id, before[0].txn_id);
    EXPECT_EQ(after[0].amount_minor, before[0].amount_minor);
    EXPECT_EQ(ExecSql(path, "PRAGMA user_version"), 3);
    EXPECT_EQ(ExecSql(path,
                      "SELECT count(*) FROM pragma_table_info('transactions') "
                      "WHERE name = 'payment_id'"),
              1);
}

// The read model without the engine: records applied directly, lists checked against the
// transactions they came from.
class ReadModelTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = TempDir("read-model");
        auto model = ReadModel::Open(ReadModelPath(dir_));
        ASSERT_TRUE(model) << model.error().ToString();
        model_ = std::move(*model);
    }
    void TearDown() override {
        model_.reset();
        std::filesystem::remove_all(dir_);
    }

    // One record per `record_size` transactions, from record `first_seq`; applied in one Apply.
    Status Apply(const std::vector<payments::Txn>& txns, uint64_t first_seq,
                 uint64_t record_size = 1) {
        std::vector<events::Event> events;
        for (size_t i = 0; i < txns.size(); ++i) {
            events.push_back(events::Event{.seq = first_seq + i / record_size, .txn = txns[i]});
        }
        return model_->Apply(events, events.empty() ? first_seq : events.back().seq);
    }

    std::vector<TransactionRow> List(ListFilter filter, bool* more = nullptr) {
        bool ignored = false;
        auto rows = model_->List(filter, more ? more : &ignored);
        EXPECT_TRUE(rows) << rows.error().ToString();
        return rows ? *rows : std::vector<TransactionRow>{};
    }

    std::string dir_;
    std::unique_ptr<ReadModel> model_;
};

payments::Txn Topup(uint64_t id, uint64_t user, uint64_t amount) {
    return {.id = id,
            .type = payments::TxnType::kTopup,
            .user_id = user,
            .amount = amount,
            .currency = kJpy,
            .created_at = id * 1000};
}

payments::Txn Pay(uint64_t id, uint64_t user, uint64_t merchant, uint64_t amount, uint64_t fee) {
    return {.id = id,
            .type = payments::TxnType::kPay,
            .user_id = user,
            .merchant_id = merchant,
            .amount = amount,
            .fee = fee,
            .currency = kJpy,
            .created_at = id * 1000};
}

payments::Txn Transfer(uint64_t id, uint64_t user, uint64_t to_user, uint64_t amount) {
    return {.id = id,
            .type = payments::TxnType::kTransfer,
            .user_id = user,
            .to_user_id = to_user,
            .amount = amount,
            .currency = kUsd,
            .created_at = id * 1000};
}

std::vector<std::string> Postings(const TransactionRow& row) {
    std::vector<std::string> postings;
    for (const Posting& p : row.postings) {
        postings.push_back(p.account + " " + p.direction + " " + std::to_string(p.amount_minor));
    }
    return postings;
}

// What schema version 1 stored and returned for each kind of transaction.
TEST_F(ReadModelTest, ReturnsTheFieldsAndPostingsOfEachKind) {
    ASSERT_TRUE(Apply({Topup(1, 1, 1000), Pay(2, 1, 3, 500, 15), Pay(3, 1, 3, 20, 0),
                       Transfer(4, 1, 2, 70)},
                      1)
                    .ok());
    const std::vector<TransactionRow> rows = List({});
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].type, "TRANSFER");
    EXPECT_EQ(rows[0].status, "succeeded");
    EXPECT_EQ(rows[0].currency, "USD");
    EXPECT_EQ(rows[0].user_id, 1u);
    EXPECT_EQ(rows[0].merchant_id, 0u);
    EXPECT_EQ(rows[0].to_user_id, 2u);
    EXPECT_EQ(rows[0].created_at_ns, 4000u);
    EXPECT_EQ(Postings(rows[0]), (std::vector<std::string>{"usr_1/wallet/USD debit 70",
                                                           "usr_2/wallet/USD credit 70"}));
    EXPECT_EQ(rows[1].type, "PAY");
    EXPECT_EQ(rows[1].fee_minor, 0u);
    EXPECT_EQ(Postings(rows[1]),
              (std::vector<std::string>{"usr_1/wallet/JPY debit 20", "mch_3/JPY credit 20"}));
    EXPECT_EQ(rows[2].amount_minor, 500u);
    EXPECT_EQ(rows[2].fee_minor, 15u);
    EXPECT_EQ(rows[2].merchant_id, 3u);
    EXPECT_EQ(rows[2].to_user_id, 0u);
    EXPECT_EQ(Postings(rows[2]),
              (std::vector<std::string>{"usr_1/wallet/JPY debit 500", "mch_3/JPY credit 485",
                                        "platform/fees/JPY credit 15"}));
    EXPECT_EQ(rows[3].type, "TOPUP");
    EXPECT_EQ(rows[3].currency, "JPY");
    EXPECT_EQ(Postings(rows[3]), (std::vector<std::string>{"platform/psp_clearing/JPY debit 1000",
                                                           "usr_1/wallet/JPY credit 1000"}));
}

// Every filter and page of random transactions against the same list computed from them, with
// the fields and postings that schema version 1 stored (PostingsOf at the time of writing).
TEST_F(ReadModelTest, ListsMatchTheTransactionsForEveryFilterAndPage) {
    constexpr uint64_t kTxns = 600;
    constexpr uint64_t kUsers = 12;
    constexpr uint64_t kMerchants = 4;
    constexpr uint32_t kUnknownCurrency = 7;  // listed by its number
    std::mt19937_64 random(7);
    std::vector<payments::Txn> txns;
    for (uint64_t id = 1; id <= kTxns; ++id) {
        const uint64_t user = 1 + random() % kUsers;
        const uint64_t amount = 1 + random() % 1000;
        payments::Txn txn;
        switch (random() % 4) {
            case 0:
                txn = Topup(id, user, amount);
                break;
            case 1:
                txn = Transfer(id, user, 1 + random() % kUsers, amount);
                break;  // or to self
            default:
                txn = Pay(id, user, 1 + random() % kMerchants, amount, amount % 3 * amount / 50);
        }
        if (random() % 10 == 0) txn.currency = kUnknownCurrency;
        txns.push_back(txn);
    }
    txns.back().amount = static_cast<u128>(INT64_MAX);
    // Records of 1 to 70 transactions, several records per Apply: both INSERT statements.
    uint64_t seq = 0;
    for (size_t first = 0; first < txns.size();) {
        const size_t count = std::min<size_t>(1 + random() % 150, txns.size() - first);
        const uint64_t record_size = 1 + random() % 70;
        ASSERT_TRUE(
            Apply({txns.begin() + first, txns.begin() + first + count}, seq + 1, record_size).ok());
        seq += (count + record_size - 1) / record_size;
        first += count;
    }
    EXPECT_EQ(*model_->Position(), seq);

    auto check = [&](ListFilter filter) {
        std::vector<payments::Txn> expected;
        for (auto txn = txns.rbegin(); txn != txns.rend(); ++txn) {
            if (filter.before_txn_id && txn->id >= *filter.before_txn_id) continue;
            if (filter.user_id && txn->user_id != *filter.user_id &&
                txn->to_user_id != *filter.user_id) {
                continue;
            }
            if (filter.merchant_id && txn->merchant_id != *filter.merchant_id) continue;
            expected.push_back(*txn);
        }
        size_t listed = 0;
        bool more = true;
        while (more) {
            const std::vector<TransactionRow> rows = List(filter, &more);
            ASSERT_LE(rows.size(), filter.size);
            for (const TransactionRow& row : rows) {
                ASSERT_LT(listed, expected.size());
                const payments::Txn& txn = expected[listed++];
                EXPECT_EQ(row.txn_id, txn.id);
                EXPECT_EQ(row.type, payments::TxnTypeName(txn.type));
                EXPECT_EQ(row.status, "succeeded");
                EXPECT_EQ(row.amount_minor, static_cast<uint64_t>(txn.amount));
                EXPECT_EQ(row.fee_minor, static_cast<uint64_t>(txn.fee));
                const ledger::CurrencyInfo* currency = ledger::FindCurrency(txn.currency);
                EXPECT_EQ(row.currency,
                          currency ? std::string(currency->code) : std::to_string(txn.currency));
                EXPECT_EQ(row.user_id, txn.user_id);
                EXPECT_EQ(row.merchant_id, txn.merchant_id);
                EXPECT_EQ(row.to_user_id, txn.to_user_id);
                EXPECT_EQ(row.created_at_ns, txn.created_at);
                const std::vector<Posting> postings = PostingsOf(txn);
                ASSERT_EQ(row.postings.size(), postings.size());
                for (size_t i = 0; i < postings.size(); ++i) {
                    EXPECT_EQ(row.postings[i].account, postings[i].account);
                    EXPECT_EQ(row.postings[i].direction, postings[i].direction);
                    EXPECT_EQ(row.postings[i].amount_minor, postings[i].amount_minor);
                }
            }
            if (more) filter.before_txn_id = rows.back().txn_id;
        }
        EXPECT_EQ(listed, expected.size());
    };
    for (uint32_t size : {7u, kListSizeMax}) {
        check({.size = size});
        for (uint64_t user = 1; user <= kUsers + 1; ++user) {
            check({.user_id = user, .size = size});
            check({.user_id = user, .merchant_id = 1 + user % kMerchants, .size = size});
        }
        for (uint64_t merchant = 1; merchant <= kMerchants + 1; ++merchant) {
            check({.merchant_id = merchant, .size = size});
        }
    }
    // A page that starts inside a user's history.
    check({.user_id = 3, .size = 5, .before_txn_id = kTxns / 2});
}

TEST_F(ReadModelTest, ApplyingRecordsAgainChangesNothing) {
    ASSERT_TRUE(Apply({Topup(1, 1, 10), Topup(2, 2, 20)}, 1).ok());  // records 1 and 2
    // A retry from record 1 after a commit whose success was not seen, with record 3.
    ASSERT_TRUE(Apply({Topup(2, 2, 20), Topup(3, 3, 30)}, 2).ok());
    EXPECT_EQ(*model_->Position(), 3u);
    EXPECT_EQ(List({}).size(), 3u);
    ASSERT_TRUE(Apply({Topup(1, 1, 10)}, 1).ok());  // behind the position: nothing
    EXPECT_EQ(*model_->Position(), 3u);
    EXPECT_EQ(List({}).size(), 3u);
}

// A txn id that is already there is an error, not an overwrite, and the whole Apply rolls back:
// in a statement of many rows and in one of one.
TEST_F(ReadModelTest, ATxnIdTwiceIsAnErrorAndAppliesNothing) {
    ASSERT_TRUE(Apply({Topup(5, 1, 10)}, 1).ok());
    for (size_t count : {size_t{40}, size_t{3}}) {
        std::vector<payments::Txn> txns = {Topup(5, 2, 99)};
        for (uint64_t id = 100; txns.size() < count; ++id) txns.push_back(Topup(id, 2, 99));
        Status status = Apply(txns, 2);
        EXPECT_FALSE(status.ok());
        EXPECT_NE(status.ToString().find("UNIQUE"), std::string::npos) << status.ToString();
        EXPECT_EQ(*model_->Position(), 1u);
        const std::vector<TransactionRow> rows = List({});
        ASSERT_EQ(rows.size(), 1u);
        EXPECT_EQ(rows[0].user_id, 1u);
    }
    // The model still takes the next records.
    ASSERT_TRUE(Apply({Topup(6, 2, 10)}, 2).ok());
    EXPECT_EQ(List({}).size(), 2u);
}

}  // namespace
}  // namespace bursar::projection
