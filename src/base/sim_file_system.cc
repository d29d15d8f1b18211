#include "base/sim_file_system.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "base/assert.h"

namespace bursar {
namespace {

Status Dead(const std::string& what) {
    return Status(StatusCode::kIoError, what + ": handle from before a power cut");
}

// Counts down a fault counter; true when this call is the one that fails.
bool Trip(uint64_t* countdown) {
    if (*countdown == UINT64_MAX) return false;
    if (*countdown == 0) {
        *countdown = UINT64_MAX;
        return true;
    }
    --*countdown;
    return false;
}

}  // namespace

// A handle opened with OpenAppendable() writes at the end of the file; one opened with OpenAt()
// at its own position.
class SimFileSystem::File final : public WritableFile {
  public:
    File(SimFileSystem* owner, std::shared_ptr<Node> node, uint64_t epoch,
         std::optional<uint64_t> position)
        : owner_(owner), node_(std::move(node)), epoch_(epoch), position_(position) {}
    Status Append(const void* data, size_t size) override {
        return owner_->FileWrite(epoch_, node_, position_ ? &*position_ : nullptr, data, size);
    }
    Status Sync() override { return owner_->FileSync(epoch_, node_); }
    Status Close() override { return Status::Ok(); }
    uint64_t Size() const override {
        std::lock_guard lock(owner_->mutex_);
        return position_ ? *position_ : node_->data.size();
    }

  private:
    SimFileSystem* owner_;
    std::shared_ptr<Node> node_;
    uint64_t epoch_;
    std::optional<uint64_t> position_;
};

namespace {

class StringSequentialFile final : public SequentialFile {
  public:
    explicit StringSequentialFile(std::string data) : data_(std::move(data)) {}
    Result<size_t> Read(void* buffer, size_t size) override {
        size_t count = std::min(size, data_.size() - position_);
        std::memcpy(buffer, data_.data() + position_, count);
        position_ += count;
        return count;
    }

  private:
    std::string data_;
    size_t position_ = 0;
};

}  // namespace

std::string SimFileSystem::Parent(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

Result<std::unique_ptr<WritableFile>> SimFileSystem::OpenAppendable(const std::string& path) {
    std::lock_guard lock(mutex_);
    if (!dirs_.contains(Parent(path))) return Error(StatusCode::kNotFound, Parent(path));
    auto& node = entries_[path];
    if (!node) node = std::make_shared<Node>();
    return std::unique_ptr<WritableFile>(std::make_unique<File>(this, node, epoch_, std::nullopt));
}

Result<std::unique_ptr<WritableFile>> SimFileSystem::OpenAt(const std::string& path,
                                                            uint64_t offset) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end()) return Error(StatusCode::kNotFound, path);
    return std::unique_ptr<WritableFile>(std::make_unique<File>(this, it->second, epoch_, offset));
}

Result<std::unique_ptr<SequentialFile>> SimFileSystem::OpenSequential(const std::string& path) {
    auto data = ReadFile(path);
    if (!data) return Error(data.error());
    return std::unique_ptr<SequentialFile>(std::make_unique<StringSequentialFile>(*data));
}

Result<std::string> SimFileSystem::ReadFile(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end()) return Error(StatusCode::kNotFound, path);
    return it->second->data;
}

Result<std::string> SimFileSystem::ReadRange(const std::string& path, uint64_t offset,
                                             size_t size) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end()) return Error(StatusCode::kNotFound, path);
    const std::string& data = it->second->data;
    if (offset >= data.size()) return std::string();
    return data.substr(offset, size);
}

Result<uint64_t> SimFileSystem::FileSize(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end()) return Error(StatusCode::kNotFound, path);
    return static_cast<uint64_t>(it->second->data.size());
}

bool SimFileSystem::Exists(const std::string& path) {
    std::lock_guard lock(mutex_);
    return entries_.contains(path) || dirs_.contains(path);
}

Result<std::vector<std::string>> SimFileSystem::ListDir(const std::string& dir) {
    std::lock_guard lock(mutex_);
    if (!dirs_.contains(dir)) return Error(StatusCode::kNotFound, dir);
    std::vector<std::string> names;
    for (const auto& [path, node] : entries_) {
        if (Parent(path) == dir) names.push_back(path.substr(dir.size() + 1));
    }
    return names;
}

Status SimFileSystem::CreateDir(const std::string& dir) {
    std::lock_guard lock(mutex_);
    dirs_.insert(dir);
    return Status::Ok();
}

Status SimFileSystem::Rename(const std::string& from, const std::string& to) {
    std::lock_guard lock(mutex_);
    if (fail_renames_) return Status(StatusCode::kIoError, "rename " + from + ": injected fault");
    auto it = entries_.find(from);
    if (it == entries_.end()) return Status(StatusCode::kNotFound, from);
    entries_[to] = it->second;
    entries_.erase(from);
    return Status::Ok();
}

Status SimFileSystem::Remove(const std::string& path) {
    std::lock_guard lock(mutex_);
    if (entries_.erase(path) == 0) return Status(StatusCode::kNotFound, path);
    return Status::Ok();
}

Status SimFileSystem::Truncate(const std::string& path, uint64_t size) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end()) return Status(StatusCode::kNotFound, path);
    Node& node = *it->second;
    if (size < node.data.size()) node.data.resize(size);
    node.synced = node.data;
    node.dirty_from = node.dirty_to = 0;
    return Status::Ok();
}

Status SimFileSystem::SyncDir(const std::string& dir) {
    std::lock_guard lock(mutex_);
    if (Trip(&fail_sync_countdown_))
        return Status(StatusCode::kIoError, "fsync " + dir + ": injected fault");
    ++syncs_;
    for (auto it = synced_entries_.begin(); it != synced_entries_.end();) {
        it = Parent(it->first) == dir ? synced_entries_.erase(it) : std::next(it);
    }
    for (const auto& [path, node] : entries_) {
        if (Parent(path) == dir) synced_entries_[path] = node;
    }
    return Status::Ok();
}

Status SimFileSystem::FileWrite(uint64_t epoch, const std::shared_ptr<Node>& node,
                                uint64_t* position, const void* data, size_t size) {
    std::lock_guard lock(mutex_);
    if (epoch != epoch_) return Dead("append");
    if (Trip(&fail_append_countdown_)) return Status(StatusCode::kIoError, "write: injected fault");
    const uint64_t at = position != nullptr ? *position : node->data.size();
    // Writes since the last sync go forward from where they began: that is what a cut keeps a
    // prefix of. (The journal and snapshots write so.)
    const bool dirty = node->dirty_from < node->dirty_to;
    BURSAR_ASSERT(!dirty || at >= node->dirty_from);
    if (at > node->data.size()) node->data.resize(at, '\0');
    node->data.replace(at, std::min<uint64_t>(size, node->data.size() - at),
                       static_cast<const char*>(data), size);
    node->dirty_from = dirty ? std::min(node->dirty_from, at) : at;
    node->dirty_to = dirty ? std::max<uint64_t>(node->dirty_to, at + size) : at + size;
    if (position != nullptr) *position = at + size;
    return Status::Ok();
}

Status SimFileSystem::FileSync(uint64_t epoch, const std::shared_ptr<Node>& node) {
    std::lock_guard lock(mutex_);
    if (epoch != epoch_) return Dead("fsync");
    if (Trip(&fail_sync_countdown_)) return Status(StatusCode::kIoError, "fsync: injected fault");
    ++syncs_;
    // Only the written range changed since the last sync: copy that, not the whole file.
    node->synced.resize(node->data.size());
    if (node->dirty_from < node->dirty_to) {
        node->synced.replace(node->dirty_from, node->dirty_to - node->dirty_from, node->data,
                             node->dirty_from, node->dirty_to - node->dirty_from);
    }
    node->dirty_from = node->dirty_to = 0;
    return Status::Ok();
}

void SimFileSystem::FailSyncAfter(uint64_t syncs_ok) {
    std::lock_guard lock(mutex_);
    fail_sync_countdown_ = syncs_ok;
}

void SimFileSystem::FailAppendAfter(uint64_t appends_ok) {
    std::lock_guard lock(mutex_);
    fail_append_countdown_ = appends_ok;
}

void SimFileSystem::FailRenames(bool fail) {
    std::lock_guard lock(mutex_);
    fail_renames_ = fail;
}

void SimFileSystem::PowerCut() {
    std::lock_guard lock(mutex_);
    ++epoch_;
    entries_ = synced_entries_;
    std::set<Node*> seen;
    for (auto& [path, node] : entries_) {
        if (!seen.insert(node.get()).second) continue;
        const uint64_t from = node->dirty_from;
        const uint64_t unsynced = node->dirty_to - from;
        const uint64_t kept = unsynced == 0 ? 0 : random_() % (unsynced + 1);
        std::string survived = std::move(node->synced);
        if (kept > 0) {
            if (survived.size() < from + kept) survived.resize(from + kept, '\0');
            survived.replace(from, kept, node->data, from, kept);
            if (random_() % 2 == 0) {
                // A torn write: some of the kept unsynced bytes are not what was written.
                uint64_t garbled = 1 + random_() % std::min<uint64_t>(kept, 64);
                for (uint64_t i = 0; i < garbled; ++i) {
                    survived[from + kept - 1 - i] = static_cast<char>(random_());
                }
            }
        }
        node->data = std::move(survived);
        node->synced = node->data;
        node->dirty_from = node->dirty_to = 0;
    }
    fail_sync_countdown_ = UINT64_MAX;
    fail_append_countdown_ = UINT64_MAX;
    fail_renames_ = false;
}

void SimFileSystem::CorruptByte(const std::string& path, uint64_t offset) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(path);
    if (it == entries_.end() || offset >= it->second->data.size()) return;
    Node& node = *it->second;
    node.data[offset] = static_cast<char>(node.data[offset] ^ 0x10);
    if (offset < node.synced.size()) node.synced[offset] = node.data[offset];
}

uint64_t SimFileSystem::sync_count() const {
    std::lock_guard lock(mutex_);
    return syncs_;
}

}  // namespace bursar
