#pragma once

// An independent, deliberately simple implementation of the ledger's semantics, written from
// docs/ledger/result-codes.md alone (not from state_machine.cc). The randomized differential test
// (model_test.cc) applies the same batches to it and to StateMachine and compares every result
// and record. Simplicity over speed: ordered maps, and a linked chain copies the whole state
// before it starts and restores the copy when it fails.

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <vector>

#include "base/u128.h"
#include "ledger/result_codes.h"
#include "ledger/types.h"

namespace bursar::ledger {

class ReferenceModel {
  public:
    // Starts a batch at `timestamp` (above every timestamp used so far) and expires every pending
    // transfer with expires_at <= timestamp.
    void BeginBatch(uint64_t timestamp);
    // Each appends the non-ok results of its events, with indexes into `events`, to `results`.
    void CreateAccounts(std::span<const Account> events, std::vector<EventResult>* results);
    void CreateTransfers(std::span<const Transfer> events, std::vector<EventResult>* results);
    void EndBatch();

    const Account* FindAccount(u128 id) const;
    const Transfer* FindTransfer(u128 id) const;
    PendingStatus GetPendingStatus(u128 transfer_id) const;

    uint64_t account_count() const { return state_.accounts.size(); }
    uint64_t transfer_count() const { return state_.transfers.size(); }
    uint64_t failed_id_count() const { return state_.failed_ids.size(); }

  private:
    struct State {
        std::map<u128, Account> accounts;
        std::map<u128, Transfer> transfers;
        std::map<u128, PendingStatus> statuses;  // only transfers created with `pending`
        std::set<u128> failed_ids;
    };

    // Applies the events of one request chain by chain: `create(event, timestamp)` returns an
    // event's result; after a chain is settled (restored if it failed) `settled(event, result)`
    // sees every event's final result.
    template <typename Event, typename Create, typename Settled>
    void ApplyRequest(std::span<const Event> events, Create create, Settled settled,
                      std::vector<EventResult>* results);

    CreateAccountResult CreateAccount(const Account& event, uint64_t timestamp);
    CreateTransferResult CreateTransfer(const Transfer& event, uint64_t timestamp);
    CreateTransferResult PostOrVoid(const Transfer& event, uint64_t timestamp);
    static CreateTransferResult TransferExists(const Transfer& event, const Transfer& stored);

    State state_;
    bool in_batch_ = false;
    uint64_t last_timestamp_ = 0;  // the greatest timestamp used so far
    uint64_t next_timestamp_ = 0;  // the timestamp of the batch's next event
};

}  // namespace bursar::ledger
