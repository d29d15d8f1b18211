#include "engine/batch_codec.h"

#include <cstring>

#include "base/assert.h"
#include "ledger/state_machine.h"

namespace bursar::engine {

BatchEncoder::BatchEncoder(std::string* record) : record_(record), header_offset_(record->size()) {
    BatchHeader header{};
    record_->append(reinterpret_cast<const char*>(&header), sizeof(header));
}

void BatchEncoder::AddCommand(const payments::Command& command,
                              const payments::CommandResult& result) {
    std::string command_bytes, result_bytes;
    payments::EncodeCommand(command, &command_bytes);
    payments::EncodeResult(result, &result_bytes);
    OperationHeader header{};
    header.operation = static_cast<uint8_t>(Operation::kCommand);
    header.event_count = static_cast<uint32_t>(command_bytes.size());
    header.result_count = static_cast<uint32_t>(result_bytes.size());
    record_->append(reinterpret_cast<const char*>(&header), sizeof(header));
    record_->append(command_bytes);
    record_->append(result_bytes);
    ++operation_count_;
    std::memcpy(record_->data() + header_offset_, &operation_count_, sizeof(operation_count_));
}

void BatchEncoder::Add(Operation operation, const void* events, uint32_t event_count,
                       const std::vector<ledger::EventResult>& results) {
    BURSAR_ASSERT(operation == Operation::kCreateAccounts ||
                  operation == Operation::kCreateTransfers);
    OperationHeader header{};
    header.operation = static_cast<uint8_t>(operation);
    header.event_count = event_count;
    header.result_count = static_cast<uint32_t>(results.size());
    record_->append(reinterpret_cast<const char*>(&header), sizeof(header));
    if (event_count > 0) {
        record_->append(static_cast<const char*>(events), size_t{event_count} * 128);
    }
    if (!results.empty()) {
        record_->append(reinterpret_cast<const char*>(results.data()),
                        results.size() * sizeof(ledger::EventResult));
    }
    ++operation_count_;
    std::memcpy(record_->data() + header_offset_, &operation_count_, sizeof(operation_count_));
}

Result<std::vector<DecodedOperation>> DecodeBatch(std::string_view payload) {
    auto corrupt = [](const std::string& what) {
        return Error(StatusCode::kCorruption, "batch payload: " + what);
    };
    if (payload.size() < sizeof(BatchHeader)) return corrupt("short header");
    BatchHeader batch{};
    std::memcpy(&batch, payload.data(), sizeof(batch));
    size_t offset = sizeof(batch);
    std::vector<DecodedOperation> operations;
    for (uint32_t i = 0; i < batch.operation_count; ++i) {
        if (payload.size() - offset < sizeof(OperationHeader)) return corrupt("short operation");
        OperationHeader header{};
        std::memcpy(&header, payload.data() + offset, sizeof(header));
        offset += sizeof(header);
        auto operation = static_cast<Operation>(header.operation);
        if (!IsWrite(operation)) return corrupt("unknown operation");
        if (operation == Operation::kCommand) {
            // For a command the counts are the byte lengths of the command and of its result.
            constexpr uint32_t kCommandBytesMax = 1 << 20;
            if (header.event_count > kCommandBytesMax || header.result_count > kCommandBytesMax ||
                payload.size() - offset < size_t{header.event_count} + header.result_count) {
                return corrupt("command out of bounds");
            }
            DecodedOperation decoded{operation, {}, {}, {}, {}, {}};
            decoded.command.assign(payload.data() + offset, header.event_count);
            offset += header.event_count;
            decoded.result.assign(payload.data() + offset, header.result_count);
            offset += header.result_count;
            operations.push_back(std::move(decoded));
            continue;
        }
        if (header.event_count > ledger::kBatchEventsMax ||
            header.result_count > header.event_count) {
            return corrupt("counts out of bounds");
        }
        const size_t events_bytes = size_t{header.event_count} * 128;
        const size_t results_bytes = size_t{header.result_count} * sizeof(ledger::EventResult);
        if (payload.size() - offset < events_bytes + results_bytes) return corrupt("short events");
        DecodedOperation decoded{operation, {}, {}, {}, {}, {}};
        if (events_bytes == 0) {
            // No events: nothing to copy (and data() of an empty vector may be null).
        } else if (operation == Operation::kCreateAccounts) {
            decoded.accounts.resize(header.event_count);
            std::memcpy(decoded.accounts.data(), payload.data() + offset, events_bytes);
        } else {
            decoded.transfers.resize(header.event_count);
            std::memcpy(decoded.transfers.data(), payload.data() + offset, events_bytes);
        }
        offset += events_bytes;
        decoded.results.resize(header.result_count);
        if (results_bytes > 0) {
            std::memcpy(decoded.results.data(), payload.data() + offset, results_bytes);
        }
        offset += results_bytes;
        operations.push_back(std::move(decoded));
    }
    if (offset != payload.size()) return corrupt("trailing bytes");
    return operations;
}

}  // namespace bursar::engine
