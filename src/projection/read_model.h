#pragma once

// The read model (ARCHITECTURE.md §5): what list queries need, in SQLite (WAL mode), written only
// by the projector from committed journal records. The journal position is stored in the same
// SQLite transaction as the rows it produced, so projection is exactly once and restarts where it
// stopped. The file can be deleted at any time: it is rebuilt from the journal.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
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
};

struct ListFilter {
    std::optional<uint64_t> user_id;  // payer or recipient
    std::optional<uint64_t> merchant_id;
    uint32_t size = kListSizeDefault;
    std::optional<uint64_t> before_txn_id;  // the cursor: rows with a smaller txn id
};

// The postings of a transaction, derived from it (the ledger's legs of payments::Platform).
std::vector<Posting> PostingsOf(const payments::Txn& txn);

// One connection. Not thread-safe: one per thread.
class ReadModel {
  public:
    static Result<std::unique_ptr<ReadModel>> Open(const std::string& path);
    ~ReadModel();
    ReadModel(const ReadModel&) = delete;
    ReadModel& operator=(const ReadModel&) = delete;

    // The journal position the model reflects.
    Result<uint64_t> Position();
    // Applies the transactions of journal records up to `seq` in one SQLite transaction.
    Status Apply(const std::vector<payments::Txn>& txns, uint64_t seq);
    // Newest first; `next` is set when more rows follow.
    Result<std::vector<TransactionRow>> List(const ListFilter& filter, bool* more);

  private:
    explicit ReadModel(sqlite3* db) : db_(db) {}
    Status Exec(const char* sql);
    Status Error(const std::string& what);
    sqlite3* db_;
};

}  // namespace bursar::projection
