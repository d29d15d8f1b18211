#include "app/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace bursar::app {

Result<DataDirLock> DataDirLock::Acquire(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return Error(StatusCode::kIoError, "cannot create " + dir + ": " + std::strerror(errno));
    }
    const std::string path = dir + "/LOCK";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return Error(StatusCode::kIoError, "cannot open " + path + ": " + std::strerror(errno));
    constexpr int kStepMs = 20;
    for (int waited = 0;; waited += kStepMs) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return DataDirLock(fd);
        if (errno != EWOULDBLOCK || waited >= kLockWaitMs) {
            ::close(fd);
            return Error(StatusCode::kBusy, dir + " is in use by another bursar process");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(kStepMs));
    }
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace bursar::app
