#pragma once

// The read model (ARCHITECTURE.md §5): what list queries need, in SQLite (WAL mode), written only
// by the projector from committed journal records. The journal position is stored in the same
// SQLite transaction as the rows it produced, so projection is exactly once and restarts where it
// stopped. The file can be deleted at any time: it is rebuilt from the journal.
//
// A row holds a transaction's own fields (payments::Txn) and nothing derived from them: the type's
// name, the currency's code, the status and the postings are computed when a list reads the row,
// by the same functions that would have computed them when it was written. Writing a payment is
// then one row in the table and one entry in each of two indexes.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "events/event.h"
#include "payments/platform.h"

namespace bursar::projection {

inline constexpr uint32_t kListSizeDefault = 20;
inline constexpr uint32_t kListSizeMax = 100;

struct Posting {
    std::string account;    // e.g. usr_1/wallet/JPY, mch_2/JPY, platform/fees/JPY
    std::string direction;  // debit | credit
    uint64_t amount_minor;
};

struct TransactionRow {
    uint64_t txn_id;
    std::string type;
    std::string status;
    uint64_t amount_minor;
    uint64_t fee_minor;
    std::string currency;
    uint64_t user_id;
    uint64_t merchant_id;  // 0: none
    uint64_t to_user_id;   // 0: none
    uint64_t created_at_ns;
    std::vector<Posting> postings;
    uint64_t payment_id = 0;  // a refund's payment; 0: none
};

// Ids start at 1 (0 in a row means none).
struct ListFilter {
    std::optional<uint64_t> user_id;  // payer or recipient
    std::optional<uint64_t> merchant_id;
    uint32_t size = kListSizeDefault;
    std::optional<uint64_t> before_txn_id;  // the cursor: rows with a smaller txn id
};

// A wallet's movement (SPEC.md L6): the transaction, what it changed the wallet by, and the
// wallet's balance after it.
struct HistoryRow {
    TransactionRow row;
    int64_t change_minor;
    int64_t balance_after_minor;
};

struct HistoryFilter {
    uint64_t user_id = 0;      // a wallet's history, or
    uint64_t merchant_id = 0;  // a merchant's (when not 0)
    uint32_t currency = 0;
    uint32_t size = kListSizeDefault;
    std::optional<uint64_t> before_txn_id;  // the cursor
};

// The postings of a transaction, derived from it (the ledger's legs of payments::Platform).
std::vector<Posting> PostingsOf(const payments::Txn& txn);

class Statement;  // a prepared SQLite statement (read_model.cc)

// One connection. Not thread-safe: one per thread.
class ReadModel {
  public:
    static Result<std::unique_ptr<ReadModel>> Open(const std::string& path);
    ~ReadModel();
    ReadModel(const ReadModel&) = delete;
    ReadModel& operator=(const ReadModel&) = delete;

    // The journal position the model reflects.
    Result<uint64_t> Position();
    // Applies the events of journal records up to `seq` (in journal order, as a follower gives
    // them) in one SQLite transaction, skipping those of records the model already holds:
    // applying the same records again changes nothing.
    Status Apply(const std::vector<events::Event>& events, uint64_t seq);
    // Newest first; `next` is set when more rows follow.
    Result<std::vector<TransactionRow>> List(const ListFilter& filter, bool* more);
    // A wallet's movements in one currency, newest first, each with the balance after it (a
    // running sum over the wallet's whole history in that currency, computed by the query).
    Result<std::vector<HistoryRow>> History(const HistoryFilter& filter, bool* more);
    // A merchant's payment volume per UTC day (days since the epoch) in one currency, for payments
    // at or after `from_ns`.
    Result<std::vector<std::pair<int64_t, u128>>> MerchantDailyVolumes(uint64_t merchant_id,
                                                                       uint32_t currency,
                                                                       uint64_t from_ns);
    // A user's wallet balances at `at_ns` (every movement at or before it), by currency id; a
    // currency the wallet had no movement in by then is absent.
    Result<std::vector<std::pair<uint32_t, int64_t>>> BalancesAt(uint64_t user_id, uint64_t at_ns);

  private:
    explicit ReadModel(sqlite3* db);
    Status EnsureSchema();
    // The first column of the first row.
    Result<uint64_t> Number(const char* sql);
    Status Insert(const std::vector<events::Event>& events, uint64_t seq);
    Status PrepareWriter();
    Status Exec(const char* sql);
    Status Error(const std::string& what);
    sqlite3* db_;
    // The writer's statements, prepared by the first Apply and kept: one SQLite transaction
    // inserts thousands of rows (a readers' connection never prepares them).
    std::unique_ptr<Statement> insert_rows_;  // kRowsPerInsert rows
    std::unique_ptr<Statement> insert_row_;
    std::unique_ptr<Statement> update_position_;
};

}  // namespace bursar::projection
