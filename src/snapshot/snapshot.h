#pragma once

// Snapshots of the state machine (docs/formats/snapshot.md). A snapshot covers the journal up to
// `seq`; recovery loads the newest valid one and replays the journal after it. Written to a
// `.tmp` file, synced, renamed, and the directory synced, so a snapshot file is either whole or
// absent. A damaged snapshot is skipped for the next older one (the journal still has its records).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/file_system.h"
#include "base/sha256.h"
#include "base/status.h"
#include "payments/platform.h"

namespace bursar::snapshot {

// 2: the state as sections (payments/sections.h); 1: the ledger and one domain blob (read only).
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kSnapshotsKept = 2;

struct SnapshotInfo {
    uint32_t version = kFormatVersion;
    uint64_t seq = 0;       // last journal record included
    Hash256 record_hash{};  // that record's hash: anchors the journal on recovery
    Hash256 state_hash{};   // StateHash() of the state, checked on load and by verify
};

std::string SnapshotName(uint64_t seq);

// Writes the snapshot and removes older snapshots beyond kSnapshotsKept.
Status Write(FileSystem& fs, const std::string& dir, const SnapshotInfo& info,
             const payments::FrozenPlatform& state);

struct Loaded {
    SnapshotInfo info;
    std::unique_ptr<payments::Platform> state;
};

// The newest snapshot that loads and checks out, or nullopt when there is none. `on_skip` hears
// about damaged snapshots that were passed over.
Result<std::optional<Loaded>> LoadNewest(FileSystem& fs, const std::string& dir,
                                         const ledger::StateMachineOptions& options,
                                         const std::function<void(const std::string&)>& on_skip);

// The snapshot of `seq` in `dir`, loaded and checked (bursar verify compares its sections with a
// replay's when the hashes differ, or when it is of another version).
Result<Loaded> LoadAt(FileSystem& fs, const std::string& dir, uint64_t seq,
                      const ledger::StateMachineOptions& options);

// The headers of the snapshots in `dir`, oldest first (without loading their states).
Result<std::vector<SnapshotInfo>> ListInfos(FileSystem& fs, const std::string& dir);

}  // namespace bursar::snapshot
