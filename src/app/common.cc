#include <signal.h>

#include <cstdio>
#include <mutex>

#include "app/commands.h"

namespace bursar::app {

void LogLine(const std::string& line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::fprintf(stderr, "bursar: %s\n", line.c_str());
    std::fflush(stderr);
}

namespace {

sigset_t StopSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

void BlockStopSignals() {
    sigset_t set = StopSignals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForStopSignal() {
    sigset_t set = StopSignals();
    int signal = 0;
    sigwait(&set, &signal);
    return signal;
}

}  // namespace bursar::app
