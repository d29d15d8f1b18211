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

namespace {

// A command and its outcome; with `details`, the outcome's output. A v1 record's answer is
// printed without the secrets that version journaled (session tokens, API keys).
void PrintCommand(const payments::Command& command, std::string_view result, bool details) {
    const std::string key =
        command.idempotency_key.empty() ? "" : " key=" + command.idempotency_key;
    if (command.version == 1) {
        auto v1 = payments::DecodeV1Result(result);
        if (!v1) {
            std::printf("  command v1 %s: malformed result\n", payments::CommandName(command.type));
            return;
        }
        std::printf("  command v1 %s%s status=%u%s%s\n", payments::CommandName(command.type),
                    key.c_str(), v1->status, v1->replayed ? " replayed" : "",
                    v1->txn ? (" txn=" + payments::FormatTxnId(v1->txn->id)).c_str() : "");
        if (details) std::printf("    answer %s\n", payments::WithoutSecrets(v1->body).c_str());
        return;
    }
    auto outcome = payments::DecodeOutcome(result);
    if (!outcome) {
        std::printf("  command %s: malformed outcome\n", payments::CommandName(command.type));
        return;
    }
    std::printf("  command %s%s %s%s%s\n", payments::CommandName(command.type), key.c_str(),
                std::string(payments::ResultName(outcome->code)).c_str(),
                outcome->replayed ? " replayed" : "",
                outcome->txn ? (" txn=" + payments::FormatTxnId(outcome->txn->id)).c_str() : "");
    if (!details) return;
    std::printf("    object=%llu time=%llu balance=%s email=%s%s\n",
                static_cast<unsigned long long>(outcome->object_id),
                static_cast<unsigned long long>(outcome->time),
                U128ToString(outcome->balance).c_str(), outcome->email.c_str(),
                outcome->legacy ? (" v1 answer " + outcome->legacy->body).c_str() : "");
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
                    if (!command) return Status(StatusCode::kCorruption, "bad command");
                    PrintCommand(*command, operation.result, events);
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
