#include "engine/replay.h"

#include <cstring>

#include "engine/batch_codec.h"

namespace bursar::engine {

Status ReplayRecord(ledger::StateMachine& state, const journal::RecordView& record) {
    auto where = [&](const std::string& what) {
        return Status(StatusCode::kCorruption, *record.segment + " at byte offset " +
                                                   std::to_string(record.offset) + " (sequence " +
                                                   std::to_string(record.seq) + "): " + what);
    };
    auto operations = DecodeBatch(record.payload);
    if (!operations) return where(operations.error().message());
    if (record.timestamp <= state.last_timestamp()) return where("timestamp goes backwards");
    state.BeginBatch(record.timestamp);
    std::vector<ledger::EventResult> results;
    for (const DecodedOperation& operation : *operations) {
        results.clear();
        if (operation.operation == Operation::kCreateAccounts) {
            state.CreateAccounts(operation.accounts, &results);
        } else {
            state.CreateTransfers(operation.transfers, &results);
        }
        if (results.size() != operation.results.size() ||
            (!results.empty() && std::memcmp(results.data(), operation.results.data(),
                                             results.size() * sizeof(results[0])) != 0)) {
            state.EndBatch();
            return where("replay gives other results than recorded");
        }
    }
    state.EndBatch();
    return Status::Ok();
}

}  // namespace bursar::engine
