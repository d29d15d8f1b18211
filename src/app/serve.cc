#include <cstdlib>
#include <filesystem>

#include "app/commands.h"
#include "app/data_dir.h"
#include "app/flags.h"
#include "base/clock.h"

namespace bursar::app {
namespace {

std::string DefaultDataDir() {
    const char* value = std::getenv("BURSAR_DATA_DIR");
    return value != nullptr && *value != '\0' ? value : "./data";
}

}  // namespace

int ServeCommand(const Args& args) {
    const std::vector<FlagSpec> specs = {
        {"data-dir", DefaultDataDir(), "where the journal and snapshots live (BURSAR_DATA_DIR)"},
        {"recovery-mode", "strict",
         "strict: refuse to start on journal corruption; truncate-at-corruption: drop the journal "
         "from the first damaged record on (loses those records; for operators only)"},
        {"help", "false", "print the flags", true},
    };
    auto flags = Flags::Parse(args, specs);
    if (!flags) {
        LogLine(flags.error().message());
        return 2;
    }
    if (flags->Switch("help")) {
        std::printf("usage: bursar serve [flags]\n%s", Flags::Usage(specs).c_str());
        return 0;
    }
    const std::string& mode = flags->Get("recovery-mode");
    if (mode != "strict" && mode != "truncate-at-corruption") {
        LogLine("--recovery-mode must be strict or truncate-at-corruption");
        return 2;
    }
    const std::string dir = flags->Get("data-dir");
    auto lock = DataDirLock::Acquire(dir);
    if (!lock) {
        LogLine(lock.error().message());
        return 1;
    }
    BlockStopSignals();
    engine::EngineOptions options;
    options.data_dir = dir;
    options.log = LogLine;
    if (mode == "truncate-at-corruption") {
        options.recovery_mode = journal::RecoveryMode::kTruncateAtCorruption;
    }
    auto engine = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
    if (!engine) {
        LogLine("cannot start: " + engine.error().ToString());
        return 1;
    }
    (*engine)->Start();
    LogLine("engine ready at journal sequence " + std::to_string((*engine)->stats().committed_seq) +
            ", data in " + std::filesystem::absolute(dir).lexically_normal().string());
    LogLine("stop with Ctrl-C or SIGTERM");
    WaitForStopSignal();
    LogLine("stopping: finishing queued requests and flushing the journal");
    (*engine)->Stop();
    LogLine("stopped at journal sequence " + std::to_string((*engine)->stats().committed_seq));
    return 0;
}

}  // namespace bursar::app
