#include "base/thread.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace bursar {

void SetCurrentThreadName(const char* name) {
    char buffer[16];
    std::strncpy(buffer, name, sizeof(buffer) - 1);
    buffer[sizeof(buffer) - 1] = '\0';
    pthread_setname_np(pthread_self(), buffer);
}

void SetCurrentThreadNice(int nice) {
    // On Linux the nice value belongs to the thread (task), named by its id.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    (void)setpriority(PRIO_PROCESS, tid, nice);
}

}  // namespace bursar
