// `bursar journal dump DIR [--events]`: one line per record, and one per event with --events.

#include <cstdio>

#include "app/commands.h"
#include "app/flags.h"
#include "engine/batch_codec.h"
#include "journal/reader.h"
#include "ledger/result_codes.h"

namespace bursar::app {
namespace {

const char* OperationName(engine::Operation operation) {
    switch (operation) {
        case engine::Operation::kCreateAccounts:
            return "create_accounts";
        case engine::Operation::kCreateTransfers:
            return "create_transfers";
        default:
            return "command";
    }
}

}  // namespace

int JournalCommand(const Args& args) {
    const std::vector<FlagSpec> specs = {
        {"events", "false", "print every event of every record", true},
    };
    auto flags = Flags::Parse(args, specs);
    if (!flags || flags->positional().size() != 2 || flags->positional()[0] != "dump") {
        LogLine("usage: bursar journal dump DIR [--events]");
        return 2;
    }
    const bool events = flags->Switch("events");
    journal::ScanOptions options;
    options.from_first_segment = true;
    auto scanned = journal::Scan(
        PosixFileSystem(), JoinPath(flags->positional()[1], "journal"), options,
        [&](const journal::RecordView& record) -> Status {
            auto operations = engine::DecodeBatch(record.payload);
            if (!operations) return operations.error();
            std::printf("seq=%llu timestamp=%llu bytes=%zu hash=%s file=%s offset=%llu\n",
                        static_cast<unsigned long long>(record.seq),
                        static_cast<unsigned long long>(record.timestamp), record.payload.size(),
                        HashToHex(record.hash).substr(0, 16).c_str(), record.segment->c_str(),
                        static_cast<unsigned long long>(record.offset));
            for (const auto& operation : *operations) {
                if (operation.operation == engine::Operation::kCommand) {
                    auto command = payments::DecodeCommand(operation.command);
                    auto result = payments::DecodeResult(operation.result);
                    if (!command || !result) return Status(StatusCode::kCorruption, "bad command");
                    std::printf(
                        "  command type=%u status=%u%s%s\n", static_cast<unsigned>(command->type),
                        result->status, result->replayed ? " replayed" : "",
                        result->txn ? (" txn=" + payments::FormatTxnId(result->txn->id)).c_str()
                                    : "");
                    if (events) std::printf("    response %s\n", result->body.c_str());
                    continue;
                }
                const size_t count = operation.operation == engine::Operation::kCreateAccounts
                                         ? operation.accounts.size()
                                         : operation.transfers.size();
                std::printf("  %s events=%zu failed=%zu\n", OperationName(operation.operation),
                            count, operation.results.size());
                if (!events) continue;
                for (const auto& a : operation.accounts) {
                    std::printf("    account id=%s currency=%u kind=%u flags=%u\n",
                                U128ToString(a.id).c_str(), a.currency, a.kind, a.flags);
                }
                for (const auto& t : operation.transfers) {
                    std::printf(
                        "    transfer id=%s debit=%s credit=%s amount=%s flags=%u pending_id=%s\n",
                        U128ToString(t.id).c_str(), U128ToString(t.debit_account_id).c_str(),
                        U128ToString(t.credit_account_id).c_str(), U128ToString(t.amount).c_str(),
                        t.flags, U128ToString(t.pending_id).c_str());
                }
                for (const auto& r : operation.results) {
                    const char* name =
                        operation.operation == engine::Operation::kCreateAccounts
                            ? ledger::CreateAccountResultName(
                                  static_cast<ledger::CreateAccountResult>(r.result))
                            : ledger::CreateTransferResultName(
                                  static_cast<ledger::CreateTransferResult>(r.result));
                    std::printf("    result index=%u %s\n", r.index, name);
                }
            }
            return Status::Ok();
        });
    if (!scanned) {
        std::fprintf(stderr, "bursar: %s\n", scanned.error().ToString().c_str());
        return 1;
    }
    if (scanned->torn_bytes > 0) {
        std::printf("torn tail: %llu bytes (%s)\n",
                    static_cast<unsigned long long>(scanned->torn_bytes),
                    scanned->torn_description.c_str());
    }
    return 0;
}

}  // namespace bursar::app
