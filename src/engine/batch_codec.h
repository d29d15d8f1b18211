#pragma once

// The payload of a journal batch record (docs/formats/journal.md, "Batch payload"): the batch's
// write operations with their events and their non-ok results. Replay applies the events again
// and checks that the results are the same, so a replay that diverges is caught.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/request.h"
#include "ledger/types.h"
#include "payments/command.h"
#include "payments/platform.h"

namespace bursar::engine {

struct BatchHeader {
    uint32_t operation_count;
    uint32_t reserved;
    uint64_t reserved2;
};
static_assert(sizeof(BatchHeader) == 16);

struct OperationHeader {
    uint8_t operation;
    uint8_t reserved[3];
    uint32_t event_count;
    uint32_t result_count;
    uint32_t reserved2;
};
static_assert(sizeof(OperationHeader) == 16);

// Appends to a record buffer that begins with room for the journal's record header.
class BatchEncoder {
  public:
    explicit BatchEncoder(std::string* record);
    void Add(Operation operation, const void* events, uint32_t event_count,
             const std::vector<ledger::EventResult>& results);
    // A domain command and its outcome, each encoded (payments::EncodeCommand / EncodeOutcome).
    void AddCommand(const payments::Command& command, const payments::Outcome& outcome);
    uint32_t operation_count() const { return operation_count_; }

  private:
    std::string* record_;
    size_t header_offset_;
    uint32_t operation_count_ = 0;
};

// One operation of a batch payload, as views of the payload's bytes (valid while they are).
struct OperationView {
    Operation operation;
    std::string_view events;   // kCreateAccounts / kCreateTransfers: 128 bytes per event
    std::string_view results;  // kCreateAccounts / kCreateTransfers: their ledger::EventResults
    std::string_view command;  // kCommand: the encoded command (its first byte: its version)
    std::string_view result;   // kCommand: the encoded outcome (v1 command: v1 result)
};

// Reads the operations of a batch payload in order without copying them (the event stream's
// followers read every record). The bounds are checked as it reads: a malformed payload is
// kCorruption from the Next() that reaches the fault, so the operations before it have been read
// (trailing bytes: from the Next() after the last operation). Stop at the first error.
class BatchReader {
  public:
    explicit BatchReader(std::string_view payload) : payload_(payload) {}
    // True with the next operation in `*operation`, or false after the last one.
    Result<bool> Next(OperationView* operation);

  private:
    std::string_view payload_;
    size_t offset_ = 0;  // 0: the batch header is still to be read
    uint32_t operations_left_ = 0;
};

// The operations of a batch payload, copied (replay and `bursar journal dump`).
struct DecodedOperation {
    Operation operation;
    std::vector<ledger::Account> accounts;
    std::vector<ledger::Transfer> transfers;
    std::vector<ledger::EventResult> results;
    std::string command;  // kCommand: the encoded command
    std::string result;   // kCommand: the encoded result
};

Result<std::vector<DecodedOperation>> DecodeBatch(std::string_view payload);

}  // namespace bursar::engine
