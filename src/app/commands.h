#pragma once

// The subcommands of the `bursar` binary. Each returns the process exit code.

#include <string>
#include <vector>

#include "engine/engine.h"

namespace bursar::app {

using Args = std::vector<std::string>;

int ServeCommand(const Args& args);
int PipeCommand(const Args& args);
int BenchCommand(const Args& args);
int VerifyCommand(const Args& args);
int JournalCommand(const Args& args);
int ProjectionCommand(const Args& args);
int SeedCommand(const Args& args);

// Shared by the commands that run an engine on a data directory.
void LogLine(const std::string& line);
// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts later) so that the
// main thread can wait for them with sigwait().
void BlockStopSignals();
int WaitForStopSignal();

}  // namespace bursar::app
