// bursar: the payments platform's single binary. Subcommands: docs/operations.md.

#include <cstdio>
#include <cstring>
#include <string>

#include "app/commands.h"

namespace {

constexpr const char* kUsage = R"(usage: bursar <command> [flags]

commands:
  serve                run the platform (HTTP API on BURSAR_LISTEN) until SIGINT/SIGTERM
  bench                the ledger benchmark (mirrors `tigerbeetle benchmark`)
  verify DIR           replay a data directory offline: hash chain, invariants, state hash
  journal dump DIR     print the journal's records
  projection rebuild DIR   drop the read model and project the journal again (offline)
  seed DIR             create many users, merchants and funded wallets (offline; benchmarks)
  pipe DIR             line protocol on stdin/stdout, for scripts and the crash tests
  help                 this text; `bursar <command> --help` for a command's flags
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace bursar::app;
    if (argc < 2 || std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0) {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    Args args(argv + 2, argv + argc);
    if (command == "serve") return ServeCommand(args);
    if (command == "pipe") return PipeCommand(args);
    if (command == "bench") return BenchCommand(args);
    if (command == "verify") return VerifyCommand(args);
    if (command == "journal") return JournalCommand(args);
    if (command == "projection") return ProjectionCommand(args);
    if (command == "seed") return SeedCommand(args);
    std::fprintf(stderr, "bursar: unknown command '%s'\n%s", command.c_str(), kUsage);
    return 2;
}
