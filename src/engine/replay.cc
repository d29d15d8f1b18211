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
            if (command->version == 1) {
                // Journal v1 recorded a rendered answer: the replay must give its status, its
                // txn and whether it was a replay; the wording is not compared.
                auto recorded = payments::DecodeV1Result(operation.result);
                if (!recorded) {
                    platform.EndBatch();
                    return where(recorded.error().message());
                }
                const payments::Outcome outcome = platform.ApplyV1(*command, *recorded);
                if (payments::HttpStatusOf(command->type, outcome) != recorded->status ||
                    outcome.replayed != recorded->replayed ||
                    (!outcome.replayed && outcome.txn != recorded->txn)) {
                    platform.EndBatch();
                    return where("replay of a v1 " +
                                 std::string(payments::CommandName(command->type)) +
                                 " gives another outcome than recorded (status " +
                                 std::to_string(payments::HttpStatusOf(command->type, outcome)) +
                                 ", recorded " + std::to_string(recorded->status) + ")");
                }
                continue;
            }
            std::string replayed;
            const payments::Outcome outcome = platform.Apply(*command);
            payments::EncodeOutcome(outcome, &replayed);
            if (replayed != operation.result) {
                platform.EndBatch();
                auto recorded = payments::DecodeOutcome(operation.result);
                return where("replay of a " + std::string(payments::CommandName(command->type)) +
                             " gives " + std::string(payments::ResultName(outcome.code)) +
                             ", recorded " +
                             (recorded ? std::string(payments::ResultName(recorded->code))
                                       : recorded.error().message()));
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
