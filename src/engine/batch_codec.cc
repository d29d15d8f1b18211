#include "engine/batch_codec.h"

#include <cstring>

#include "base/assert.h"
#include "ledger/state_machine.h"

namespace bursar::engine {

BatchEncoder::BatchEncoder(std::string* record) : record_(record), header_offset_(record->size()) {
    BatchHeader header{};
    record_->append(reinterpret_cast<const char*>(&header), sizeof(header));
}

void BatchEncoder::AddCommand(const payments::Command& command, const payments::Outcome& outcome) {
    std::string command_bytes, result_bytes;
    payments::EncodeCommand(command, &command_bytes);
    payments::EncodeOutcome(outcome, &result_bytes);
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

Result<bool> BatchReader::Next(OperationView* operation) {
    auto corrupt = [](const char* what) {
        return Error(StatusCode::kCorruption, std::string("batch payload: ") + what);
    };
    if (offset_ == 0) {
        if (payload_.size() < sizeof(BatchHeader)) return corrupt("short header");
        BatchHeader batch{};
        std::memcpy(&batch, payload_.data(), sizeof(batch));
        operations_left_ = batch.operation_count;
        offset_ = sizeof(batch);
    }
    if (operations_left_ == 0) {
        if (offset_ != payload_.size()) return corrupt("trailing bytes");
        return false;
    }
    size_t offset = offset_;  // offset_ moves on once the whole operation is in bounds
    if (payload_.size() - offset < sizeof(OperationHeader)) return corrupt("short operation");
    OperationHeader header{};
    std::memcpy(&header, payload_.data() + offset, sizeof(header));
    offset += sizeof(header);
    *operation = OperationView{static_cast<Operation>(header.operation), {}, {}, {}, {}};
    if (!IsWrite(operation->operation)) return corrupt("unknown operation");
    if (operation->operation == Operation::kCommand) {
        // For a command the counts are the byte lengths of the command and of its result.
        constexpr uint32_t kCommandBytesMax = 1 << 20;
        if (header.event_count > kCommandBytesMax || header.result_count > kCommandBytesMax ||
            payload_.size() - offset < size_t{header.event_count} + header.result_count) {
            return corrupt("command out of bounds");
        }
        operation->command = payload_.substr(offset, header.event_count);
        offset += header.event_count;
        operation->result = payload_.substr(offset, header.result_count);
        offset += header.result_count;
    } else {
        if (header.event_count > ledger::kBatchEventsMax ||
            header.result_count > header.event_count) {
            return corrupt("counts out of bounds");
        }
        const size_t events_bytes = size_t{header.event_count} * 128;
        const size_t results_bytes = size_t{header.result_count} * sizeof(ledger::EventResult);
        if (payload_.size() - offset < events_bytes + results_bytes) return corrupt("short events");
        operation->events = payload_.substr(offset, events_bytes);
        offset += events_bytes;
        operation->results = payload_.substr(offset, results_bytes);
        offset += results_bytes;
    }
    offset_ = offset;
    --operations_left_;
    return true;
}

namespace {

// Records of a fixed size, copied out of the payload (which need not be aligned for them).
template <typename Record>
std::vector<Record> CopyRecords(std::string_view bytes) {
    std::vector<Record> records(bytes.size() / sizeof(Record));
    // No records: nothing to copy (and data() of an empty vector may be null).
    if (!records.empty()) std::memcpy(records.data(), bytes.data(), bytes.size());
    return records;
}

}  // namespace

Result<std::vector<DecodedOperation>> DecodeBatch(std::string_view payload) {
    BatchReader reader(payload);
    std::vector<DecodedOperation> operations;
    OperationView view;
    while (true) {
        Result<bool> more = reader.Next(&view);
        if (!more) return Error(more.error());
        if (!*more) return operations;
        DecodedOperation decoded{view.operation, {}, {}, {}, {}, {}};
        if (view.operation == Operation::kCommand) {
            decoded.command.assign(view.command);
            decoded.result.assign(view.result);
        } else {
            if (view.operation == Operation::kCreateAccounts) {
                decoded.accounts = CopyRecords<ledger::Account>(view.events);
            } else {
                decoded.transfers = CopyRecords<ledger::Transfer>(view.events);
            }
            decoded.results = CopyRecords<ledger::EventResult>(view.results);
        }
        operations.push_back(std::move(decoded));
    }
}

}  // namespace bursar::engine
