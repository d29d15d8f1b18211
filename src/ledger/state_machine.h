#pragma once

// The ledger's deterministic state machine (ARCHITECTURE.md §2): accounts, transfers, pending
// transfers and their expiry, failed ids. No clock, no I/O, no threads: the same sequence of
// batches always gives the same state, which StateHash() summarizes. Semantics and result codes:
// docs/ledger/result-codes.md.
//
// Use: BeginBatch(timestamp); any number of CreateAccounts / CreateTransfers; EndBatch(). Lookups
// may be called at any time from the thread that owns the state machine.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "ledger/currency.h"
#include "ledger/id_index.h"
#include "ledger/result_codes.h"
#include "ledger/segmented_array.h"
#include "ledger/types.h"

namespace bursar::ledger {

inline constexpr uint32_t kBatchEventsMax = 8189;

struct StateMachineOptions {
    // Capacity hints: indexes are sized for this many objects up front so that no rehash pauses
    // the engine before they are reached. They grow beyond.
    uint64_t accounts_expected = 1024;
    uint64_t transfers_expected = 1 << 16;
};

struct CurrencyTotals {
    u128 debits_pending = 0;
    u128 debits_posted = 0;
    u128 credits_pending = 0;
    u128 credits_posted = 0;
};

// Byte sink and source for snapshots; each returns false on failure.
using WriteFn = std::function<bool(const void* data, size_t size)>;
using ReadFn = std::function<bool(void* data, size_t size)>;

class StateMachine;

// The state at a batch boundary, frozen so that another thread can hash or save it while the
// state machine goes on: accounts, pending statuses and failed ids are copied (a few MiB), and
// the transfer records, which never change once written, are shared. It borrows the state
// machine's transfer segments: the state machine must outlive it.
class FrozenState {
  public:
    Hash256 StateHash() const;
    bool Save(const WriteFn& write) const;
    // The bytes Save() writes (a snapshot section's length, known before it is written).
    uint64_t SaveBytes() const;
    uint64_t transfer_count() const { return transfer_count_; }

  private:
    friend class StateMachine;
    void SortFailedIds() const;

    uint64_t last_timestamp_ = 0;
    std::vector<Account> accounts_;
    std::vector<const Transfer*> transfer_segments_;
    uint64_t transfer_count_ = 0;
    std::vector<PendingStatus> statuses_;
    mutable std::vector<std::pair<u128, uint32_t>> failed_;  // sorted by id on first use
    mutable bool failed_sorted_ = false;
};

class StateMachine {
    friend class StateMachineAccess;

  public:
    explicit StateMachine(const StateMachineOptions& options = {});
    StateMachine(const StateMachine&) = delete;
    StateMachine& operator=(const StateMachine&) = delete;

    // Starts a batch at `timestamp` (> last_timestamp()) and expires due pending transfers.
    void BeginBatch(uint64_t timestamp);
    // Each appends the non-ok results of its events, with indexes into `events`, to `results`.
    void CreateAccounts(std::span<const Account> events, std::vector<EventResult>* results);
    void CreateTransfers(std::span<const Transfer> events, std::vector<EventResult>* results);
    // Ends the batch; asserts the per-currency balance invariant.
    void EndBatch();
    // Takes the next event timestamp of the open batch, for a domain command's own records.
    uint64_t TakeTimestamp();

    // The first event of a batch at `timestamp` with `events` events needs no batch timestamp
    // above this.
    uint64_t last_timestamp() const { return last_timestamp_; }
    // True when a pending transfer expires at or before `timestamp` (a tick is worth applying).
    bool HasExpiryDue(uint64_t timestamp) const;

    const Account* FindAccount(u128 id) const;
    const Transfer* FindTransfer(u128 id) const;
    PendingStatus GetPendingStatus(u128 transfer_id) const;

    uint64_t account_count() const { return accounts_.size(); }
    uint64_t transfer_count() const { return transfers_.size(); }
    uint64_t failed_id_count() const { return failed_ids_.size(); }
    const CurrencyTotals& totals(int currency_index) const { return totals_[currency_index]; }

    // Full check, O(accounts): the running per-currency totals equal the sums over all accounts,
    // debits equal credits per currency (pending and posted apart), and every account's limit
    // flag holds. Returns a description of the first violation.
    Status CheckInvariants() const;
    // SHA-256 over the whole state in a fixed order.
    Hash256 StateHash() const { return Freeze()->StateHash(); }
    // Between batches only. Costs a copy of the accounts and one byte per transfer.
    std::unique_ptr<FrozenState> Freeze() const;
    // The same into an existing frozen state, whose buffers are reused (no new pages to fault in).
    void FreezeInto(FrozenState* frozen) const;
    // Bytes of memory held by the state (records and indexes), for the documented budget.
    uint64_t MemoryBytes() const;

    bool Save(const WriteFn& write) const { return Freeze()->Save(write); }
    static Result<std::unique_ptr<StateMachine>> Load(const ReadFn& read,
                                                      const StateMachineOptions& options = {});

  private:
    struct ExpiryEntry {
        uint64_t expires_at;
        uint64_t transfer_timestamp;
        uint32_t transfer_index;
    };
    struct ExpiryLater {
        bool operator()(const ExpiryEntry& a, const ExpiryEntry& b) const {
            if (a.expires_at != b.expires_at) return a.expires_at > b.expires_at;
            return a.transfer_timestamp > b.transfer_timestamp;
        }
    };
    // Undo log of a linked chain: what to restore when the chain fails.
    struct Undo {
        enum class Kind : uint8_t { kAccountCreated, kTransferCreated, kBalances, kStatus } kind;
        uint32_t index;
        PendingStatus status;
        u128 balances[4];
    };

    CreateAccountResult CreateAccount(const Account& event, uint64_t timestamp);
    CreateTransferResult CreateTransfer(const Transfer& event, uint64_t timestamp);
    CreateTransferResult PostOrVoid(const Transfer& event, uint64_t timestamp);
    CreateTransferResult TransferExists(const Transfer& event, const Transfer& stored) const;
    void InsertTransfer(const Transfer& event, uint64_t timestamp, u128 amount,
                        PendingStatus status);
    void SaveBalances(uint32_t account_index);
    void SetStatus(uint32_t transfer_index, PendingStatus status);
    void AddTotals(uint32_t currency, int field, u128 amount, bool subtract);
    void RollBack(size_t undo_mark);
    uint32_t AccountIndex(u128 id) const;
    void ExpireDue(uint64_t timestamp);
    void RebuildIndexes();

    SegmentedArray<Account> accounts_;
    SegmentedArray<Transfer> transfers_;
    SegmentedArray<PendingStatus> statuses_;  // one per transfer
    IdIndex account_index_;
    IdIndex transfer_index_;
    IdIndex failed_ids_;                    // id -> CreateTransferResult
    std::vector<ExpiryEntry> expiry_heap_;  // ExpiryLater order; entries resolved since are skipped
    CurrencyTotals totals_[kCurrenciesMax];
    std::vector<Undo> undo_;
    bool in_chain_ = false;
    bool in_batch_ = false;
    uint64_t last_timestamp_ = 0;
    uint64_t batch_next_timestamp_ = 0;
};

}  // namespace bursar::ledger
