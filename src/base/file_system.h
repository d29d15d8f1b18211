#pragma once

// All file I/O of the journal and snapshots goes through this small interface so that tests can
// fail writes, fsyncs and renames, and cut power (drop what was not synced). PosixFileSystem is the
// real one; SimFileSystem (sim_file_system.h) is the one tests inject faults into.
//
// Durability contract, as on Linux/ext4: bytes written to a file are durable after Sync() of that
// file; a created, renamed or removed directory entry is durable after SyncDir() of its directory.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace bursar {

// Writes go to the file's position, which each write moves forward: the end of the file for a
// file opened with OpenAppendable(), the given offset for OpenAt(). Size() is the position.
class WritableFile {
  public:
    virtual ~WritableFile() = default;
    virtual Status Append(const void* data, size_t size) = 0;
    virtual Status Sync() = 0;
    virtual Status Close() = 0;
    virtual uint64_t Size() const = 0;
};

class SequentialFile {
  public:
    virtual ~SequentialFile() = default;
    // Reads up to `size` bytes; returns the count read, 0 at end of file.
    virtual Result<size_t> Read(void* buffer, size_t size) = 0;
};

class FileSystem {
  public:
    virtual ~FileSystem() = default;

    // Opens for appending, creating the file when missing (the entry needs SyncDir to be durable).
    virtual Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) = 0;
    // Opens an existing file for writing from `offset` on: writes replace the bytes there, and
    // extend the file when they pass its end. For space written ahead (a preallocated segment).
    virtual Result<std::unique_ptr<WritableFile>> OpenAt(const std::string& path,
                                                         uint64_t offset) = 0;
    virtual Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) = 0;
    virtual Result<std::string> ReadFile(const std::string& path) = 0;
    // Up to `size` bytes from `offset` (fewer at the end of the file).
    virtual Result<std::string> ReadRange(const std::string& path, uint64_t offset,
                                          size_t size) = 0;
    virtual Result<uint64_t> FileSize(const std::string& path) = 0;
    virtual bool Exists(const std::string& path) = 0;
    // Names (not paths) of the entries of a directory, sorted.
    virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
    virtual Status CreateDir(const std::string& dir) = 0;  // ok when it exists
    virtual Status Rename(const std::string& from, const std::string& to) = 0;
    virtual Status Remove(const std::string& path) = 0;
    // Shortens a file and syncs it.
    virtual Status Truncate(const std::string& path, uint64_t size) = 0;
    virtual Status SyncDir(const std::string& dir) = 0;
};

FileSystem& PosixFileSystem();

std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace bursar
