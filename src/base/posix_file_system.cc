#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/file_system.h"

namespace bursar {
namespace {

Status IoError(const std::string& what, const std::string& path) {
    return Status(StatusCode::kIoError, what + " " + path + ": " + std::strerror(errno));
}

// Writes at its position with pwrite(): for a file opened with O_APPEND, Linux appends whatever
// the offset, and the position is the end of the file.
class PosixWritableFile final : public WritableFile {
  public:
    PosixWritableFile(std::string path, int fd, uint64_t position)
        : path_(std::move(path)), fd_(fd), position_(position) {}
    ~PosixWritableFile() override {
        if (fd_ >= 0) ::close(fd_);
    }

    Status Append(const void* data, size_t size) override {
        const auto* p = static_cast<const char*>(data);
        while (size > 0) {
            ssize_t written = ::pwrite(fd_, p, size, static_cast<off_t>(position_));
            if (written < 0) {
                if (errno == EINTR) continue;
                return IoError("write", path_);
            }
            p += written;
            size -= static_cast<size_t>(written);
            position_ += static_cast<uint64_t>(written);
        }
        return Status::Ok();
    }

    Status Sync() override {
        if (::fdatasync(fd_) != 0) return IoError("fdatasync", path_);
        return Status::Ok();
    }

    Status Close() override {
        if (fd_ < 0) return Status::Ok();
        int result = ::close(fd_);
        fd_ = -1;
        if (result != 0) return IoError("close", path_);
        return Status::Ok();
    }

    uint64_t Size() const override { return position_; }

  private:
    std::string path_;
    int fd_;
    uint64_t position_;
};

class PosixSequentialFile final : public SequentialFile {
  public:
    PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    ~PosixSequentialFile() override { ::close(fd_); }

    Result<size_t> Read(void* buffer, size_t size) override {
        size_t total = 0;
        auto* p = static_cast<char*>(buffer);
        while (total < size) {
            ssize_t count = ::read(fd_, p + total, size - total);
            if (count < 0) {
                if (errno == EINTR) continue;
                return Error(IoError("read", path_));
            }
            if (count == 0) break;
            total += static_cast<size_t>(count);
        }
        return total;
    }

  private:
    std::string path_;
    int fd_;
};

class Posix final : public FileSystem {
  public:
    Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) return Error(IoError("open", path));
        struct stat info {};
        if (::fstat(fd, &info) != 0) {
            Status status = IoError("fstat", path);
            ::close(fd);
            return Error(status);
        }
        return std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(info.st_size));
    }

    Result<std::unique_ptr<WritableFile>> OpenAt(const std::string& path,
                                                 uint64_t offset) override {
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return Error(StatusCode::kNotFound, path);
            return Error(IoError("open", path));
        }
        return std::make_unique<PosixWritableFile>(path, fd, offset);
    }

    Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return Error(StatusCode::kNotFound, path);
            return Error(IoError("open", path));
        }
        return std::make_unique<PosixSequentialFile>(path, fd);
    }

    Result<std::string> ReadFile(const std::string& path) override {
        auto size = FileSize(path);
        if (!size) return Error(size.error());
        auto file = OpenSequential(path);
        if (!file) return Error(file.error());
        std::string data(*size, '\0');
        auto count = (*file)->Read(data.data(), data.size());
        if (!count) return Error(count.error());
        data.resize(*count);
        return data;
    }

    Result<std::string> ReadRange(const std::string& path, uint64_t offset, size_t size) override {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return Error(StatusCode::kNotFound, path);
            return Error(IoError("open", path));
        }
        // Only what the file holds: callers ask for large chunks that are mostly not there yet.
        struct stat info {};
        if (::fstat(fd, &info) != 0) {
            Status status = IoError("fstat", path);
            ::close(fd);
            return Error(status);
        }
        const auto file_size = static_cast<uint64_t>(info.st_size);
        size = offset >= file_size
                   ? 0
                   : static_cast<size_t>(std::min<uint64_t>(size, file_size - offset));
        std::string data(size, '\0');
        size_t total = 0;
        while (total < size) {
            ssize_t n =
                ::pread(fd, data.data() + total, size - total, static_cast<off_t>(offset + total));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                Status status = IoError("pread", path);
                ::close(fd);
                return Error(status);
            }
            if (n == 0) break;
            total += static_cast<size_t>(n);
        }
        ::close(fd);
        data.resize(total);
        return data;
    }

    Result<uint64_t> FileSize(const std::string& path) override {
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0) {
            if (errno == ENOENT) return Error(StatusCode::kNotFound, path);
            return Error(IoError("stat", path));
        }
        return static_cast<uint64_t>(info.st_size);
    }

    bool Exists(const std::string& path) override {
        struct stat info {};
        return ::stat(path.c_str(), &info) == 0;
    }

    Result<std::vector<std::string>> ListDir(const std::string& dir) override {
        DIR* handle = ::opendir(dir.c_str());
        if (handle == nullptr) {
            if (errno == ENOENT) return Error(StatusCode::kNotFound, dir);
            return Error(IoError("opendir", dir));
        }
        std::vector<std::string> names;
        while (dirent* entry = ::readdir(handle)) {
            std::string name = entry->d_name;
            if (name != "." && name != "..") names.push_back(std::move(name));
        }
        ::closedir(handle);
        std::sort(names.begin(), names.end());
        return names;
    }

    Status CreateDir(const std::string& dir) override {
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IoError("mkdir", dir);
        return Status::Ok();
    }

    Status Rename(const std::string& from, const std::string& to) override {
        if (::rename(from.c_str(), to.c_str()) != 0) return IoError("rename", from + " -> " + to);
        return Status::Ok();
    }

    Status Remove(const std::string& path) override {
        if (::unlink(path.c_str()) != 0) return IoError("unlink", path);
        return Status::Ok();
    }

    Status Truncate(const std::string& path, uint64_t size) override {
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return IoError("open", path);
        Status status;
        if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
            status = IoError("ftruncate", path);
        } else if (::fsync(fd) != 0) {
            status = IoError("fsync", path);
        }
        ::close(fd);
        return status;
    }

    Status SyncDir(const std::string& dir) override {
        int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return IoError("open", dir);
        Status status;
        if (::fsync(fd) != 0) status = IoError("fsync", dir);
        ::close(fd);
        return status;
    }
};

}  // namespace

FileSystem& PosixFileSystem() {
    static Posix file_system;
    return file_system;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

}  // namespace bursar
