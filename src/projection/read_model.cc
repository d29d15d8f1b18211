#include "projection/read_model.h"

#include "ledger/currency.h"

namespace bursar::projection {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;
constexpr int kCacheKiB = 64 * 1024;  // SQLite page cache per connection

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    txn_id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    fee_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    merchant_id INTEGER NOT NULL,
    to_user_id INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL,
    seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS transactions_user ON transactions (user_id, txn_id);
CREATE INDEX IF NOT EXISTS transactions_to_user ON transactions (to_user_id, txn_id);
CREATE INDEX IF NOT EXISTS transactions_merchant ON transactions (merchant_id, txn_id);
CREATE TABLE IF NOT EXISTS postings (
    txn_id INTEGER NOT NULL,
    leg INTEGER NOT NULL,
    account TEXT NOT NULL,
    direction TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (txn_id, leg));
)sql";

class Statement {
  public:
    Statement(sqlite3* db, const char* sql) {
        ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK;
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    bool ok() const { return ok_; }
    sqlite3_stmt* get() { return stmt_; }
    void Int(int index, uint64_t value) {
        sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
    }
    void Text(int index, const std::string& value) {
        sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                          SQLITE_TRANSIENT);
    }

  private:
    sqlite3_stmt* stmt_ = nullptr;
    bool ok_ = false;
};

std::string CurrencyCode(uint32_t currency) {
    const ledger::CurrencyInfo* info = ledger::FindCurrency(currency);
    return info ? std::string(info->code) : std::to_string(currency);
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
    }
    return {};
}

Result<std::unique_ptr<ReadModel>> ReadModel::Open(const std::string& path) {
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
    // WAL: readers do not block the projector. NORMAL sync: a crash may lose the last projected
    // transactions, and their journal position with them, so they are projected again.
    // The page cache (kCacheKiB) holds the indexes' hot pages, which random users and merchants
    // touch in every transaction.
    Status status =
        model->Exec(("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-" +
                     std::to_string(kCacheKiB) + ";")
                        .c_str());
    if (status.ok()) status = model->Exec(kSchema);
    if (status.ok()) {
        status = model->Exec(("INSERT OR IGNORE INTO meta VALUES ('schema_version', " +
                              std::to_string(kSchemaVersion) + "), ('journal_seq', 0);")
                                 .c_str());
    }
    if (!status.ok()) return bursar::Error(status);
    return model;
}

ReadModel::~ReadModel() { sqlite3_close(db_); }

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
    Statement select(db_, "SELECT value FROM meta WHERE key = 'journal_seq'");
    if (!select.ok() || sqlite3_step(select.get()) != SQLITE_ROW)
        return bursar::Error(Error("position"));
    return static_cast<uint64_t>(sqlite3_column_int64(select.get(), 0));
}

Status ReadModel::Apply(const std::vector<payments::Txn>& txns, uint64_t seq) {
    BURSAR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Statement insert(db_, "INSERT OR REPLACE INTO transactions VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    Statement posting(db_, "INSERT OR REPLACE INTO postings VALUES (?,?,?,?,?)");
    Statement position(db_, "UPDATE meta SET value = ? WHERE key = 'journal_seq'");
    if (!insert.ok() || !posting.ok() || !position.ok()) {
        Status status = Error("prepare");
        (void)Exec("ROLLBACK");
        return status;
    }
    for (const payments::Txn& txn : txns) {
        insert.Int(1, txn.id);
        insert.Text(2, payments::TxnTypeName(txn.type));
        insert.Text(3, "succeeded");
        insert.Int(4, static_cast<uint64_t>(txn.amount));
        insert.Int(5, static_cast<uint64_t>(txn.fee));
        insert.Text(6, CurrencyCode(txn.currency));
        insert.Int(7, txn.user_id);
        insert.Int(8, txn.merchant_id);
        insert.Int(9, txn.to_user_id);
        insert.Int(10, txn.created_at);
        insert.Int(11, seq);
        if (sqlite3_step(insert.get()) != SQLITE_DONE) {
            Status status = Error("insert");
            (void)Exec("ROLLBACK");
            return status;
        }
        sqlite3_reset(insert.get());
        uint64_t leg = 0;
        for (const Posting& p : PostingsOf(txn)) {
            posting.Int(1, txn.id);
            posting.Int(2, leg++);
            posting.Text(3, p.account);
            posting.Text(4, p.direction);
            posting.Int(5, p.amount_minor);
            if (sqlite3_step(posting.get()) != SQLITE_DONE) {
                Status status = Error("insert posting");
                (void)Exec("ROLLBACK");
                return status;
            }
            sqlite3_reset(posting.get());
        }
    }
    position.Int(1, seq);
    if (sqlite3_step(position.get()) != SQLITE_DONE) {
        Status status = Error("position");
        (void)Exec("ROLLBACK");
        return status;
    }
    return Exec("COMMIT");
}

Result<std::vector<TransactionRow>> ReadModel::List(const ListFilter& filter, bool* more) {
    std::string sql =
        "SELECT txn_id, type, status, amount_minor, fee_minor, currency, user_id, merchant_id, "
        "to_user_id, created_at_ns FROM transactions WHERE txn_id < ?1";
    if (filter.user_id) sql += " AND (user_id = ?2 OR to_user_id = ?2)";
    if (filter.merchant_id) sql += " AND merchant_id = ?3";
    sql += " ORDER BY txn_id DESC LIMIT ?4";
    Statement select(db_, sql.c_str());
    if (!select.ok()) return bursar::Error(Error("list"));
    select.Int(1, filter.before_txn_id.value_or(static_cast<uint64_t>(INT64_MAX)));
    if (filter.user_id) select.Int(2, *filter.user_id);
    if (filter.merchant_id) select.Int(3, *filter.merchant_id);
    select.Int(4, uint64_t{filter.size} + 1);
    std::vector<TransactionRow> rows;
    int step = 0;
    while ((step = sqlite3_step(select.get())) == SQLITE_ROW) {
        auto text = [&](int column) {
            return std::string(
                reinterpret_cast<const char*>(sqlite3_column_text(select.get(), column)));
        };
        auto number = [&](int column) {
            return static_cast<uint64_t>(sqlite3_column_int64(select.get(), column));
        };
        rows.push_back(TransactionRow{number(0),
                                      text(1),
                                      text(2),
                                      number(3),
                                      number(4),
                                      text(5),
                                      number(6),
                                      number(7),
                                      number(8),
                                      number(9),
                                      {}});
    }
    if (step != SQLITE_DONE) return bursar::Error(Error("list"));
    *more = rows.size() > filter.size;
    if (*more) rows.pop_back();
    Statement postings(
        db_, "SELECT account, direction, amount_minor FROM postings WHERE txn_id = ? ORDER BY leg");
    if (!postings.ok()) return bursar::Error(Error("postings"));
    for (TransactionRow& row : rows) {
        postings.Int(1, row.txn_id);
        while (sqlite3_step(postings.get()) == SQLITE_ROW) {
            row.postings.push_back(
                Posting{reinterpret_cast<const char*>(sqlite3_column_text(postings.get(), 0)),
                        reinterpret_cast<const char*>(sqlite3_column_text(postings.get(), 1)),
                        static_cast<uint64_t>(sqlite3_column_int64(postings.get(), 2))});
        }
        sqlite3_reset(postings.get());
    }
    return rows;
}

}  // namespace bursar::projection
