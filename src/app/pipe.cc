// `bursar pipe DIR`: the engine behind a line protocol on stdin/stdout, for scripts and for the
// crash tests, which need a real process to kill. Requests are pipelined: the reader does not
// wait for replies, and replies come in request order, each after its batch is durable.
//
//   accounts TAG ID...                        -> ack TAG SEQ NFAILED [INDEX:RESULT...]
//   transfers TAG ID,DEBIT,CREDIT,AMOUNT,FLAGS[,PENDING_ID,TIMEOUT]...
//                                             -> ack TAG SEQ NFAILED [INDEX:RESULT...]
//   transfer TAG ID                           -> transfer TAG ID DEBIT CREDIT AMOUNT FLAGS STATUS
//                                                | missing TAG ID
//   account TAG ID                            -> account TAG ID DP DPO CP CPO | missing TAG ID
//   hash TAG                                  -> hash TAG STATE_HASH
//   check TAG                                 -> check TAG ok | check TAG <violation>
// Any request may answer `fail TAG <reason>` (engine stopped, malformed line). End of input stops
// the engine cleanly.

#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "app/commands.h"
#include "app/data_dir.h"
#include "app/flags.h"
#include "base/clock.h"

namespace bursar::app {
namespace {

std::mutex output_mutex;

void Reply(const std::string& line) {
    std::lock_guard lock(output_mutex);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

std::vector<std::string> Split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream stream(text);
    while (std::getline(stream, part, separator)) {
        if (!part.empty() || separator == ',') parts.push_back(part);
    }
    return parts;
}

bool ParseTransfer(const std::string& token, ledger::Transfer* t) {
    auto fields = Split(token, ',');
    if (fields.size() != 5 && fields.size() != 7) return false;
    std::vector<u128> numbers;
    for (const auto& field : fields) {
        auto number = U128FromString(field);
        if (!number) return false;
        numbers.push_back(*number);
    }
    *t = ledger::Transfer{};
    t->id = numbers[0];
    t->debit_account_id = numbers[1];
    t->credit_account_id = numbers[2];
    t->amount = numbers[3];
    if (numbers[4] > UINT16_MAX) return false;
    t->flags = static_cast<uint16_t>(numbers[4]);
    t->currency = 392;
    t->code = 1;
    if (fields.size() == 7) {
        if (numbers[6] > UINT32_MAX) return false;
        t->pending_id = numbers[5];
        t->timeout = static_cast<uint32_t>(numbers[6]);
    }
    if (t->flags & (ledger::transfer_flags::kPostPendingTransfer |
                    ledger::transfer_flags::kVoidPendingTransfer)) {
        t->currency = 0;
        t->code = 0;
    }
    return true;
}

std::string AckLine(const std::string& tag, const engine::Request& r) {
    if (!r.status.ok()) return "fail " + tag + " " + r.status.ToString();
    std::string line =
        "ack " + tag + " " + std::to_string(r.seq) + " " + std::to_string(r.results.size());
    for (const auto& result : r.results) {
        line += " " + std::to_string(result.index) + ":" + std::to_string(result.result);
    }
    return line;
}

// Submits, retrying while the queue is full (the reader is the only producer).
bool Submit(engine::Engine& engine, engine::Request* request, const std::string& tag) {
    while (true) {
        Status status = engine.Submit(request);
        if (status.ok()) return true;
        if (status.code() != StatusCode::kBusy) {
            Reply("fail " + tag + " " + status.ToString());
            return false;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

void HandleLine(engine::Engine& engine, const std::string& line) {
    auto words = Split(line, ' ');
    if (words.size() < 2) {
        Reply("fail - malformed line");
        return;
    }
    const std::string verb = words[0];
    const std::string tag = words[1];
    auto request = std::make_unique<engine::Request>();
    if (verb == "accounts" || verb == "transfers") {
        for (size_t i = 2; i < words.size(); ++i) {
            if (verb == "accounts") {
                auto id = U128FromString(words[i]);
                if (!id) return Reply("fail " + tag + " bad account id");
                ledger::Account a{};
                a.id = *id;
                a.currency = 392;
                a.kind = static_cast<uint16_t>(ledger::AccountKind::kUserWallet);
                request->accounts.push_back(a);
            } else {
                ledger::Transfer t{};
                if (!ParseTransfer(words[i], &t)) return Reply("fail " + tag + " bad transfer");
                request->transfers.push_back(t);
            }
        }
        request->operation = verb == "accounts" ? engine::Operation::kCreateAccounts
                                                : engine::Operation::kCreateTransfers;
        request->done = [tag](engine::Request& r) {
            Reply(AckLine(tag, r));
            delete &r;
        };
    } else if (verb == "transfer" || verb == "account") {
        if (words.size() != 3) return Reply("fail " + tag + " needs one id");
        auto id = U128FromString(words[2]);
        if (!id) return Reply("fail " + tag + " bad id");
        request->operation = engine::Operation::kQuery;
        const bool transfer = verb == "transfer";
        auto answer = std::make_shared<std::string>();
        request->query = [transfer, tag, id = *id, answer](const payments::Platform& platform) {
            const ledger::StateMachine& s = platform.ledger();
            if (transfer) {
                const ledger::Transfer* t = s.FindTransfer(id);
                *answer = t == nullptr
                              ? "missing " + tag + " " + U128ToString(id)
                              : "transfer " + tag + " " + U128ToString(id) + " " +
                                    U128ToString(t->debit_account_id) + " " +
                                    U128ToString(t->credit_account_id) + " " +
                                    U128ToString(t->amount) + " " + std::to_string(t->flags) + " " +
                                    ledger::PendingStatusName(s.GetPendingStatus(id));
            } else {
                const ledger::Account* a = s.FindAccount(id);
                *answer = a == nullptr ? "missing " + tag + " " + U128ToString(id)
                                       : "account " + tag + " " + U128ToString(id) + " " +
                                             U128ToString(a->debits_pending) + " " +
                                             U128ToString(a->debits_posted) + " " +
                                             U128ToString(a->credits_pending) + " " +
                                             U128ToString(a->credits_posted);
            }
        };
        request->done = [tag, answer](engine::Request& r) {
            Reply(r.status.ok() ? *answer : "fail " + tag + " " + r.status.ToString());
            delete &r;
        };
    } else if (verb == "hash" || verb == "check") {
        request->operation = engine::Operation::kQuery;
        auto answer = std::make_shared<std::string>();
        const bool hash = verb == "hash";
        request->query = [hash, tag, answer](const payments::Platform& platform) {
            if (hash) {
                *answer = "hash " + tag + " " + HashToHex(platform.StateHash());
            } else {
                Status status = platform.ledger().CheckInvariants();
                *answer = "check " + tag + " " + (status.ok() ? "ok" : status.ToString());
            }
        };
        request->done = [tag, answer](engine::Request& r) {
            Reply(r.status.ok() ? *answer : "fail " + tag + " " + r.status.ToString());
            delete &r;
        };
    } else {
        return Reply("fail " + tag + " unknown verb " + verb);
    }
    if (Submit(engine, request.get(), tag)) request.release();
}

}  // namespace

int PipeCommand(const Args& args) {
    const std::vector<FlagSpec> specs = {
        {"snapshot-interval", "4096", "journal records between snapshots (0: never)"},
    };
    auto flags = Flags::Parse(args, specs);
    if (!flags || flags->positional().size() != 1) {
        LogLine(flags ? "usage: bursar pipe DIR [flags]\n" + Flags::Usage(specs)
                      : flags.error().message());
        return 2;
    }
    auto interval = flags->Number("snapshot-interval", 0, UINT32_MAX);
    if (!interval) {
        LogLine(interval.error().message());
        return 2;
    }
    const std::string dir = flags->positional()[0];
    auto lock = DataDirLock::Acquire(dir);
    if (!lock) {
        LogLine(lock.error().message());
        return 1;
    }
    engine::EngineOptions options;
    options.data_dir = dir;
    options.log = LogLine;
    options.snapshot_interval_records = *interval;
    options.snapshot_waits_for_journal_growth = false;  // every N records exactly
    auto engine = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
    if (!engine) {
        LogLine("cannot start: " + engine.error().ToString());
        return 1;
    }
    (*engine)->Start();
    Reply("ready " + std::to_string((*engine)->stats().committed_seq));
    std::string line;
    while (std::getline(std::cin, line)) {
        if (!line.empty()) HandleLine(**engine, line);
    }
    (*engine)->Stop();
    return (*engine)->failed() ? 1 : 0;
}

}  // namespace bursar::app
