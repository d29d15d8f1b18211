#include "projection/read_model.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "ledger/currency.h"

namespace bursar::projection {
namespace {

// In SQLite's user_version. 3: a refund's row names the payment it refunds (payment_id).
// (2: a row holds the transaction's own fields only, the postings derived when read; partial
// indexes for recipients and merchants. 1: type, currency and status as text, a postings table,
// the version in `meta` and user_version 0, like a new file.) A file of an earlier version is
// emptied and projected again from the journal.
constexpr uint64_t kSchemaVersion = 3;
constexpr int kBusyTimeoutMs = 5000;
constexpr int kCacheKiB = 64 * 1024;  // SQLite page cache per connection
// The WAL is copied into the database file when it holds this many pages (4 KiB each; SQLite's
// default). A checkpoint writes and syncs them at once, and the journal's fsync waits behind
// that: at 10 000 pages (40 MiB) journal fsyncs took up to 110-130 ms under HTTP load, at 1 000
// up to 16-50 ms (docs/benchmarks.md), for 0.6 more write calls a payment.
constexpr int kCheckpointPages = 1'000;
// One INSERT statement writes this many rows (the rest of an Apply one by one): SQLite's cost
// per statement (cursors opened and closed) is then shared.
constexpr size_t kRowsPerInsert = 32;
// Every row is a committed money movement (events::EventsOf).
constexpr const char* kStatusSucceeded = "succeeded";

// The tables of every earlier schema.
constexpr const char* kDropEarlierSchemas = R"sql(
DROP TABLE IF EXISTS postings;
DROP TABLE IF EXISTS transactions;
DROP TABLE IF EXISTS meta;
)sql";

// An index entry ends with the rowid (txn_id), so one user's or merchant's entries are in txn id
// order. A payment has entries in transactions_user and transactions_merchant, a top-up in
// transactions_user, a transfer in transactions_user and transactions_to_user; lists name the
// partial indexes' conditions so that they can use them.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE transactions (
    txn_id INTEGER PRIMARY KEY,
    type INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    fee_minor INTEGER NOT NULL,
    currency INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    merchant_id INTEGER NOT NULL,
    to_user_id INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL,
    payment_id INTEGER NOT NULL);
CREATE INDEX transactions_user ON transactions (user_id);
CREATE INDEX transactions_to_user ON transactions (to_user_id) WHERE to_user_id != 0;
CREATE INDEX transactions_merchant ON transactions (merchant_id) WHERE merchant_id != 0;
INSERT INTO meta VALUES ('journal_seq', 0);
)sql";

// The columns in the order the writer binds and the lists read them.
constexpr const char* kColumns =
    "txn_id, type, amount_minor, fee_minor, currency, user_id, merchant_id, to_user_id, "
    "created_at_ns, payment_id";
constexpr int kColumnCount = 10;
constexpr const char* kRowParameters = "(?,?,?,?,?,?,?,?,?,?)";

// OR ROLLBACK: a row that fails (a txn id already there) ends the SQLite transaction, as Apply
// would. Unlike the default (undo the statement only), it needs no statement journal, which for a
// statement of many rows spilled to a temporary file: 3.5 write calls per payment.
std::string InsertSql(size_t rows) {
    std::string sql =
        std::string("INSERT OR ROLLBACK INTO transactions (") + kColumns + ") VALUES ";
    for (size_t row = 0; row < rows; ++row) {
        if (row > 0) sql += ',';
        sql += kRowParameters;
    }
    return sql;
}

}  // namespace

class Statement {
  public:
    Statement(sqlite3* db, const char* sql) {
        ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK;
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    bool ok() const { return ok_; }
    sqlite3_stmt* get() { return stmt_; }
    void Int(int index, uint64_t value) {
        sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
    }
    // Binds the columns of the `row`th row of an INSERT.
    void BindRow(size_t row, const payments::Txn& txn) {
        const int first = static_cast<int>(row) * kColumnCount;
        Int(first + 1, txn.id);
        Int(first + 2, static_cast<uint64_t>(txn.type));
        Int(first + 3, static_cast<uint64_t>(txn.amount));
        Int(first + 4, static_cast<uint64_t>(txn.fee));
        Int(first + 5, txn.currency);
        Int(first + 6, txn.user_id);
        Int(first + 7, txn.merchant_id);
        Int(first + 8, txn.to_user_id);
        Int(first + 9, txn.created_at);
        Int(first + 10, txn.payment_id);
    }
    // Runs a statement that returns no rows, and resets it for the next run.
    bool Run() {
        const int step = sqlite3_step(stmt_);
        sqlite3_reset(stmt_);
        return step == SQLITE_DONE;
    }

  private:
    sqlite3_stmt* stmt_ = nullptr;
    bool ok_ = false;
};

namespace {

std::string CurrencyCode(uint32_t currency) {
    const ledger::CurrencyInfo* info = ledger::FindCurrency(currency);
    return info ? std::string(info->code) : std::to_string(currency);
}

// The transaction of a result row whose first columns are kColumns.
payments::Txn TxnOfColumns(sqlite3_stmt* row) {
    auto number = [&](int column) {
        return static_cast<uint64_t>(sqlite3_column_int64(row, column));
    };
    return payments::Txn{.id = number(0),
                         .type = static_cast<payments::TxnType>(number(1)),
                         .user_id = number(5),
                         .merchant_id = number(6),
                         .to_user_id = number(7),
                         .amount = number(2),
                         .fee = number(3),
                         .currency = static_cast<uint32_t>(number(4)),
                         .created_at = number(8),
                         .payment_id = number(9)};
}

// A list's row: the transaction with what is derived from it.
TransactionRow RowOf(const payments::Txn& txn) {
    return TransactionRow{txn.id,
                          payments::TxnTypeName(txn.type),
                          kStatusSucceeded,
                          static_cast<uint64_t>(txn.amount),
                          static_cast<uint64_t>(txn.fee),
                          CurrencyCode(txn.currency),
                          txn.user_id,
                          txn.merchant_id,
                          txn.to_user_id,
                          txn.created_at,
                          PostingsOf(txn),
                          txn.payment_id};
}

}  // namespace

std::vector<Posting> PostingsOf(const payments::Txn& txn) {
    const std::string code = CurrencyCode(txn.currency);
    const std::string wallet = payments::FormatUserId(txn.user_id) + "/wallet/" + code;
    const auto amount = static_cast<uint64_t>(txn.amount);
    const auto fee = static_cast<uint64_t>(txn.fee);
    switch (txn.type) {
        case payments::TxnType::kTopup:
            return {{"platform/psp_clearing/" + code, "debit", amount}, {wallet, "credit", amount}};
        case payments::TxnType::kPay: {
            std::vector<Posting> postings = {
                {wallet, "debit", amount},
                {payments::FormatMerchantId(txn.merchant_id) + "/" + code, "credit", amount - fee}};
            if (fee > 0) postings.push_back({"platform/fees/" + code, "credit", fee});
            return postings;
        }
        case payments::TxnType::kTransfer:
            return {{wallet, "debit", amount},
                    {payments::FormatUserId(txn.to_user_id) + "/wallet/" + code, "credit", amount}};
        case payments::TxnType::kRefund: {
            std::vector<Posting> postings;
            if (amount > fee) {
                postings.push_back({payments::FormatMerchantId(txn.merchant_id) + "/" + code,
                                    "debit", amount - fee});
            }
            if (fee > 0) postings.push_back({"platform/fees/" + code, "debit", fee});
            postings.push_back({wallet, "credit", amount});
            return postings;
        }
    }
    return {};
}

Result<std::unique_ptr<ReadModel>> ReadModel::Open(const std::string& path) {
    // Created 0600 here, not by SQLite (0644): its -wal and -shm files take the same mode.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string message = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return bursar::Error(StatusCode::kIoError, "cannot open " + path + ": " + message);
    }
    std::unique_ptr<ReadModel> model(new ReadModel(db));
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    // WAL: readers do not block the projector. NORMAL sync: the WAL is synced at checkpoints
    // only, so a power cut may lose the transactions since the last one, and their journal
    // position with them, so they are projected again.
    // The page cache (kCacheKiB) holds the indexes' hot pages, which random users and merchants
    // touch in every transaction.
    Status status =
        model->Exec(("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-" +
                     std::to_string(kCacheKiB) +
                     "; PRAGMA wal_autocheckpoint=" + std::to_string(kCheckpointPages) + ";")
                        .c_str());
    if (status.ok()) status = model->EnsureSchema();
    if (!status.ok()) return bursar::Error(status);
    return model;
}

// A new file gets the schema. A file of another schema version is emptied and gets the schema,
// with journal position 0, in one SQLite transaction: the projector then projects the whole
// journal again, as `bursar projection rebuild` would.
Status ReadModel::EnsureSchema() {
    auto version = Number("PRAGMA user_version");
    if (!version) return version.error();
    if (*version == kSchemaVersion) return Status::Ok();
    BURSAR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    version = Number("PRAGMA user_version");  // another connection may have created it meanwhile
    Status status = version ? Status::Ok() : version.error();
    if (status.ok() && *version != kSchemaVersion) {
        status = Exec(kDropEarlierSchemas);
        if (status.ok()) status = Exec(kSchema);
        if (status.ok()) {
            status = Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
        }
    }
    if (!status.ok()) {
        (void)Exec("ROLLBACK");
        return status;
    }
    BURSAR_RETURN_IF_ERROR(Exec("COMMIT"));
    // The pages of dropped tables go back to the file system.
    auto free_pages = Number("PRAGMA freelist_count");
    if (!free_pages) return free_pages.error();
    return *free_pages > 0 ? Exec("VACUUM") : Status::Ok();
}

Result<uint64_t> ReadModel::Number(const char* sql) {
    Statement select(db_, sql);
    if (!select.ok() || sqlite3_step(select.get()) != SQLITE_ROW) {
        return bursar::Error(Error(sql));
    }
    return static_cast<uint64_t>(sqlite3_column_int64(select.get(), 0));
}

ReadModel::ReadModel(sqlite3* db) : db_(db) {}

ReadModel::~ReadModel() {
    // Finalized before the connection closes.
    insert_rows_.reset();
    insert_row_.reset();
    update_position_.reset();
    sqlite3_close(db_);
}

Status ReadModel::Error(const std::string& what) {
    return Status(StatusCode::kIoError, "read model: " + what + ": " + sqlite3_errmsg(db_));
}

Status ReadModel::Exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message ? message : "unknown";
        sqlite3_free(message);
        return Status(StatusCode::kIoError, "read model: " + text);
    }
    return Status::Ok();
}

Result<uint64_t> ReadModel::Position() {
    return Number("SELECT value FROM meta WHERE key = 'journal_seq'");
}

Status ReadModel::Apply(const std::vector<events::Event>& events, uint64_t seq) {
    BURSAR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status status = Insert(events, seq);
    if (!status.ok()) {
        (void)Exec("ROLLBACK");
        return status;
    }
    return Exec("COMMIT");
}

// Inside Apply's transaction. The position read here is the one committed with the rows, so a
// record is inserted once even when Apply is called again for it (after a COMMIT that succeeded
// but was reported as failed); a txn id seen twice is then a bug, and an error (InsertSql), not an
// overwrite.
Status ReadModel::Insert(const std::vector<events::Event>& events, uint64_t seq) {
    auto position = Position();
    if (!position) return position.error();
    if (seq <= *position) return Status::Ok();
    if (!insert_rows_) BURSAR_RETURN_IF_ERROR(PrepareWriter());
    auto next = std::find_if(events.begin(), events.end(),
                             [&](const events::Event& event) { return event.seq > *position; });
    for (; static_cast<size_t>(events.end() - next) >= kRowsPerInsert; next += kRowsPerInsert) {
        for (size_t row = 0; row < kRowsPerInsert; ++row) insert_rows_->BindRow(row, next[row].txn);
        if (!insert_rows_->Run()) return Error("insert");
    }
    for (; next != events.end(); ++next) {
        insert_row_->BindRow(0, next->txn);
        if (!insert_row_->Run()) return Error("insert " + payments::FormatTxnId(next->txn.id));
    }
    update_position_->Int(1, seq);
    if (!update_position_->Run()) return Error("position");
    return Status::Ok();
}

Status ReadModel::PrepareWriter() {
    auto rows = std::make_unique<Statement>(db_, InsertSql(kRowsPerInsert).c_str());
    if (!rows->ok()) return Error("prepare");
    auto row = std::make_unique<Statement>(db_, InsertSql(1).c_str());
    if (!row->ok()) return Error("prepare");
    auto position =
        std::make_unique<Statement>(db_, "UPDATE meta SET value = ? WHERE key = 'journal_seq'");
    if (!position->ok()) return Error("prepare");
    insert_rows_ = std::move(rows);
    insert_row_ = std::move(row);
    update_position_ = std::move(position);
    return Status::Ok();
}

namespace {

// A user's wallet movements: a top-up, a refund and a transfer received add to the wallet, a
// payment and a transfer sent take from it. ?1 is the user. Amounts are at most 10^18 each, so sums
// hold in SQLite's 64-bit integers up to about nine such amounts; a wallet past 2^63 minor units is
// beyond what this query answers (the ledger itself holds 128 bits).
constexpr const char* kMovements = R"sql(
    SELECT txn_id, type, amount_minor, fee_minor, currency, user_id, merchant_id, to_user_id,
           created_at_ns, payment_id,
           CASE WHEN user_id = ?1 AND type IN (1, 4) THEN amount_minor
                WHEN user_id = ?1 THEN -amount_minor
                ELSE amount_minor END AS change
    FROM transactions
    WHERE (user_id = ?1 OR (to_user_id = ?1 AND to_user_id != 0)))sql";

// A merchant's account movements: a payment's (or capture's) net adds to it, a refund's net (its
// amount less the fee the platform returned) takes from it. ?1 is the merchant.
constexpr const char* kMerchantMovements = R"sql(
    SELECT txn_id, type, amount_minor, fee_minor, currency, user_id, merchant_id, to_user_id,
           created_at_ns, payment_id,
           CASE WHEN type = 2 THEN amount_minor - fee_minor
                ELSE -(amount_minor - fee_minor) END AS change
    FROM transactions
    WHERE merchant_id = ?1 AND merchant_id != 0 AND type IN (2, 4))sql";

}  // namespace

Result<std::vector<HistoryRow>> ReadModel::History(const HistoryFilter& filter, bool* more) {
    const std::string sql = std::string("WITH moves AS (") +
                            (filter.merchant_id != 0 ? kMerchantMovements : kMovements) +
                            " AND currency = ?2), running AS (SELECT *, SUM(change) OVER "
                            "(ORDER BY txn_id ROWS UNBOUNDED PRECEDING) AS balance FROM moves) "
                            "SELECT * FROM running WHERE txn_id < ?3 ORDER BY txn_id DESC "
                            "LIMIT ?4";
    Statement query(db_, sql.c_str());
    if (!query.ok()) return bursar::Error(Error("history"));
    query.Int(1, filter.merchant_id != 0 ? filter.merchant_id : filter.user_id);
    query.Int(2, filter.currency);
    query.Int(3, filter.before_txn_id.value_or(static_cast<uint64_t>(INT64_MAX)));
    query.Int(4, uint64_t{filter.size} + 1);
    std::vector<HistoryRow> rows;
    int step = 0;
    while ((step = sqlite3_step(query.get())) == SQLITE_ROW) {
        rows.push_back(HistoryRow{RowOf(TxnOfColumns(query.get())),
                                  sqlite3_column_int64(query.get(), 10),
                                  sqlite3_column_int64(query.get(), 11)});
    }
    if (step != SQLITE_DONE) return bursar::Error(Error("history"));
    *more = rows.size() > filter.size;
    if (*more) rows.resize(filter.size);
    return rows;
}

Result<std::vector<std::pair<int64_t, u128>>> ReadModel::MerchantDailyVolumes(uint64_t merchant_id,
                                                                              uint32_t currency,
                                                                              uint64_t from_ns) {
    // merchant_id != 0: the partial index's condition, named so that SQLite uses it. Type 2: PAY.
    Statement query(db_,
                    "SELECT created_at_ns / 86400000000000, SUM(amount_minor) FROM transactions "
                    "WHERE merchant_id = ?1 AND merchant_id != 0 AND type = 2 AND currency = ?2 "
                    "AND created_at_ns >= ?3 GROUP BY 1 ORDER BY 1");
    if (!query.ok()) return bursar::Error(Error("daily volumes"));
    query.Int(1, merchant_id);
    query.Int(2, currency);
    query.Int(3, from_ns);
    std::vector<std::pair<int64_t, u128>> days;
    int step = 0;
    while ((step = sqlite3_step(query.get())) == SQLITE_ROW) {
        days.emplace_back(sqlite3_column_int64(query.get(), 0),
                          static_cast<u128>(sqlite3_column_int64(query.get(), 1)));
    }
    if (step != SQLITE_DONE) return bursar::Error(Error("daily volumes"));
    return days;
}

Result<std::vector<std::pair<uint32_t, int64_t>>> ReadModel::BalancesAt(uint64_t user_id,
                                                                        uint64_t at_ns) {
    const std::string sql = std::string("SELECT currency, SUM(change) FROM (") + kMovements +
                            " AND created_at_ns <= ?2) GROUP BY currency ORDER BY currency";
    Statement query(db_, sql.c_str());
    if (!query.ok()) return bursar::Error(Error("balances at"));
    query.Int(1, user_id);
    query.Int(2, at_ns);
    std::vector<std::pair<uint32_t, int64_t>> balances;
    int step = 0;
    while ((step = sqlite3_step(query.get())) == SQLITE_ROW) {
        balances.emplace_back(static_cast<uint32_t>(sqlite3_column_int64(query.get(), 0)),
                              sqlite3_column_int64(query.get(), 1));
    }
    if (step != SQLITE_DONE) return bursar::Error(Error("balances at"));
    return balances;
}

Result<std::vector<TransactionRow>> ReadModel::List(const ListFilter& filter, bool* more) {
    const std::string select = std::string("SELECT ") + kColumns + " FROM transactions WHERE ";
    // The `!= 0` terms are the partial indexes' conditions, named so that SQLite uses them; ids
    // start at 1, so they change no answer.
    const std::string merchant =
        filter.merchant_id ? " AND merchant_id = ?3 AND merchant_id != 0" : "";
    std::string sql;
    if (filter.user_id) {
        // Payer, or recipient but not payer: two index ranges in txn id order, merged, so a page
        // reads about `size` rows however many the user has.
        sql = select + "user_id = ?2 AND txn_id < ?1" + merchant + " UNION ALL " + select +
              "to_user_id = ?2 AND to_user_id != 0 AND user_id != ?2 AND txn_id < ?1" + merchant;
    } else {
        sql = select + "txn_id < ?1" + merchant;
    }
    sql += " ORDER BY txn_id DESC LIMIT ?4";
    Statement query(db_, sql.c_str());
    if (!query.ok()) return bursar::Error(Error("list"));
    query.Int(1, filter.before_txn_id.value_or(static_cast<uint64_t>(INT64_MAX)));
    if (filter.user_id) query.Int(2, *filter.user_id);
    if (filter.merchant_id) query.Int(3, *filter.merchant_id);
    query.Int(4, uint64_t{filter.size} + 1);
    std::vector<TransactionRow> rows;
    int step = 0;
    while ((step = sqlite3_step(query.get())) == SQLITE_ROW) {
        rows.push_back(RowOf(TxnOfColumns(query.get())));
    }
    if (step != SQLITE_DONE) return bursar::Error(Error("list"));
    *more = rows.size() > filter.size;
    if (*more) rows.pop_back();
    return rows;
}

}  // namespace bursar::projection
