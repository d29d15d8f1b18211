#pragma once

// A request to the engine: one operation over up to kBatchEventsMax events. The caller owns the
// Request until `done` has been called; `done` runs exactly once, on an engine thread, after the
// batch holding the request is durable (or has failed), and must not block. `done` may delete the
// Request (the engine no longer touches it once `done` runs).

#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "base/u128.h"
#include "ledger/state_machine.h"
#include "ledger/types.h"
#include "payments/command.h"
#include "payments/platform.h"

namespace bursar::engine {

enum class Operation : uint8_t {
    kCreateAccounts = 1,
    kCreateTransfers = 2,
    kLookupAccounts = 3,
    kLookupTransfers = 4,
    // Runs `query` on the engine thread against the state, in order with the other requests.
    kQuery = 5,
    // A domain command (payments::Command), journaled with its result.
    kCommand = 6,
};

inline bool IsWrite(Operation operation) {
    return operation == Operation::kCreateAccounts || operation == Operation::kCreateTransfers ||
           operation == Operation::kCommand;
}

struct Request {
    Operation operation = Operation::kCreateTransfers;
    std::vector<ledger::Account> accounts;    // create_accounts input; lookup_accounts output
    std::vector<ledger::Transfer> transfers;  // create_transfers input; lookup_transfers output
    std::vector<u128> ids;                    // lookup input
    std::function<void(const payments::Platform&)> query;
    payments::Command command;  // kCommand input

    // Filled by the engine before `done`.
    std::vector<ledger::EventResult> results;  // non-ok results of the events
    payments::Outcome outcome;                 // kCommand output
    uint64_t seq = 0;  // journal position of the batch (0 when nothing was written)
    Status status;     // not ok: the request was not applied durably (engine stopped or failed)

    std::function<void(Request&)> done;

    size_t event_count() const {
        switch (operation) {
            case Operation::kCreateAccounts:
                return accounts.size();
            case Operation::kCreateTransfers:
                return transfers.size();
            case Operation::kLookupAccounts:
            case Operation::kLookupTransfers:
                return ids.size();
            case Operation::kQuery:
            case Operation::kCommand:
                return 1;
        }
        return 0;
    }
};

}  // namespace bursar::engine
