#include "engine/replay.h"

#include <cstring>

#include "engine/batch_codec.h"

namespace bursar::engine {

Status ReplayRecord(payments::Platform& platform, const journal::RecordView& record) {
    ledger::StateMachine& state = platform.ledger();
    auto where = [&](const std::string& what) {
        return Status(StatusCode::kCorruption, *record.segment + " at byte offset " +
                                                   std::to_string(record.offset) + " (sequence " +
                                                   std::to_string(record.seq) + "): " + what);
    };
    auto operations = DecodeBatch(record.payload);
    if (!operations) return where(operations.error().message());
    if (record.timestamp <= state.last_timestamp()) return where("timestamp goes backwards");
    platform.BeginBatch(record.timestamp);
    std::vector<ledger::EventResult> results;
    for (const DecodedOperation& operation : *operations) {
        results.clear();
        if (operation.operation == Operation::kCommand) {
            auto command = payments::DecodeCommand(operation.command);
            if (!command) {
                platform.EndBatch();
                return where(command.error().message());
            }
            std::string replayed;
            payments::EncodeResult(platform.Apply(*command), &replayed);
            if (replayed != operation.result) {
                platform.EndBatch();
                return where("replay gives another command result than recorded");
            }
            continue;
        }
        if (operation.operation == Operation::kCreateAccounts) {
            state.CreateAccounts(operation.accounts, &results);
        } else {
            state.CreateTransfers(operation.transfers, &results);
        }
        if (results.size() != operation.results.size() ||
            (!results.empty() && std::memcmp(results.data(), operation.results.data(),
                                             results.size() * sizeof(results[0])) != 0)) {
            platform.EndBatch();
            return where("replay gives other results than recorded");
        }
    }
    platform.EndBatch();
    return Status::Ok();
}

}  // namespace bursar::engine
