#pragma once

// The data directory is used by one process at a time: an exclusive lock on `<dir>/LOCK`, held
// for the life of the process (the kernel releases it when the process dies, even by kill -9).

#include <string>

#include "base/status.h"

namespace bursar::app {

class DataDirLock {
  public:
    // Waits up to kLockWaitMs for a previous owner (e.g. a dying snapshot child) to let go.
    static Result<DataDirLock> Acquire(const std::string& dir);
    DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    DataDirLock& operator=(DataDirLock&&) = delete;
    ~DataDirLock();

    static constexpr int kLockWaitMs = 5000;

  private:
    explicit DataDirLock(int fd) : fd_(fd) {}
    int fd_;
};

}  // namespace bursar::app
