#pragma once

// An in-memory FileSystem for tests that models what survives a power cut and can fail any
// operation on demand. It keeps, per file, its content as of the last sync and where the writes
// since then begin, and per directory which entries are synced. Writes to a file go forward from
// where they begin (appends, or overwrites of space written ahead). PowerCut() keeps the synced
// content plus a random prefix of what was written since, whose last bytes may be torn
// (garbled); the rest of the unsynced writes is lost (overwritten bytes return to their synced
// value). Handles opened before the cut fail from then on, as a process that died would no
// longer write.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "base/file_system.h"

namespace bursar {

class SimFileSystem final : public FileSystem {
  public:
    explicit SimFileSystem(uint64_t seed) : random_(seed) {}

    Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
    Result<std::unique_ptr<WritableFile>> OpenAt(const std::string& path, uint64_t offset) override;
    Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override;
    Result<std::string> ReadFile(const std::string& path) override;
    Result<std::string> ReadRange(const std::string& path, uint64_t offset, size_t size) override;
    Result<uint64_t> FileSize(const std::string& path) override;
    bool Exists(const std::string& path) override;
    Result<std::vector<std::string>> ListDir(const std::string& dir) override;
    Status CreateDir(const std::string& dir) override;
    Status Rename(const std::string& from, const std::string& to) override;
    Status Remove(const std::string& path) override;
    Status Truncate(const std::string& path, uint64_t size) override;
    Status SyncDir(const std::string& dir) override;

    // Faults. Counters count calls from now on: FailSyncAfter(0) fails the next Sync().
    void FailSyncAfter(uint64_t syncs_ok);
    void FailAppendAfter(uint64_t appends_ok);
    void FailRenames(bool fail);
    void PowerCut();
    // Changes one byte in place, synced or not (a disk that returns other bytes than written).
    void CorruptByte(const std::string& path, uint64_t offset);

    uint64_t sync_count() const;

  private:
    struct Node {
        std::string data;
        std::string synced;  // what a power cut keeps for sure
        // Written since the last sync: [dirty_from, dirty_to); empty when none was.
        uint64_t dirty_from = 0;
        uint64_t dirty_to = 0;
    };
    class File;
    friend class File;

    // Writes at `*position` (the end of the file when null) and moves it forward.
    Status FileWrite(uint64_t epoch, const std::shared_ptr<Node>& node, uint64_t* position,
                     const void* data, size_t size);
    Status FileSync(uint64_t epoch, const std::shared_ptr<Node>& node);
    static std::string Parent(const std::string& path);

    mutable std::mutex mutex_;
    std::mt19937_64 random_;
    std::map<std::string, std::shared_ptr<Node>> entries_;
    std::map<std::string, std::shared_ptr<Node>> synced_entries_;
    std::set<std::string> dirs_;
    uint64_t epoch_ = 0;
    uint64_t syncs_ = 0;
    uint64_t fail_sync_countdown_ = UINT64_MAX;
    uint64_t fail_append_countdown_ = UINT64_MAX;
    bool fail_renames_ = false;
};

}  // namespace bursar
