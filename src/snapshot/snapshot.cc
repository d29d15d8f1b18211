#include "snapshot/snapshot.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/crc32c.h"
#include "base/write_pacer.h"

namespace bursar::snapshot {
namespace {

constexpr char kMagic[8] = {'B', 'R', 'S', 'R', 'S', 'N', 'A', 'P'};
constexpr char kTrailerMagic[8] = {'B', 'R', 'S', 'R', 'S', 'E', 'N', 'D'};
constexpr const char* kPrefix = "snapshot-";
constexpr const char* kSuffix = ".snap";
constexpr size_t kWriteBufferBytes = 1 << 20;
// The writer is paced (base/write_pacer.h): it syncs every kSyncEveryBytes and writes at most
// kWriteBytesPerSecondMax, so that the journal's fsync waits behind a megabyte at most. Measured
// in docs/benchmarks.md: one sync at the end, journal fsync max 56 ms; a sync every 64 MiB,
// 33-41 ms; every 16 MiB, still tens of milliseconds under HTTP load.
constexpr uint64_t kSyncEveryBytes = 1ull << 20;
constexpr uint64_t kWriteBytesPerSecondMax = 128ull << 20;

struct Header {
    char magic[8];
    uint32_t version;
    uint32_t reserved;
    uint64_t seq;
    uint8_t record_hash[32];
    uint8_t state_hash[32];
    uint32_t reserved2;
    uint32_t masked_crc;  // of the bytes before it
};
static_assert(sizeof(Header) == 96);

struct Trailer {
    char magic[8];
    uint64_t payload_bytes;
    uint32_t payload_masked_crc;
    uint32_t reserved;
};
static_assert(sizeof(Trailer) == 24);

uint64_t ParseName(const std::string& name) {
    const std::string prefix = kPrefix, suffix = kSuffix;
    if (name.size() != prefix.size() + 20 + suffix.size()) return 0;
    if (name.compare(0, prefix.size(), prefix) != 0) return 0;
    if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return 0;
    uint64_t seq = 0;
    for (size_t i = prefix.size(); i < prefix.size() + 20; ++i) {
        if (name[i] < '0' || name[i] > '9') return 0;
        seq = seq * 10 + static_cast<uint64_t>(name[i] - '0');
    }
    return seq;
}

std::vector<uint64_t> ListSeqs(FileSystem& fs, const std::string& dir) {
    std::vector<uint64_t> seqs;
    auto names = fs.ListDir(dir);
    if (!names) return seqs;
    for (const auto& name : *names) {
        if (uint64_t seq = ParseName(name); seq != 0) seqs.push_back(seq);
    }
    std::sort(seqs.begin(), seqs.end());
    return seqs;
}

Result<SnapshotInfo> ReadHeader(SequentialFile& file, const std::string& path) {
    Header header{};
    auto count = file.Read(&header, sizeof(header));
    if (!count) return Error(count.error());
    if (*count != sizeof(header) || std::memcmp(header.magic, kMagic, 8) != 0 ||
        crc32c::Unmask(header.masked_crc) != crc32c::Value(&header, offsetof(Header, masked_crc))) {
        return Error(StatusCode::kCorruption, path + ": bad snapshot header");
    }
    if (header.version != 1 && header.version != kFormatVersion) {
        return Error(StatusCode::kUnsupported,
                     path + ": snapshot version " + std::to_string(header.version));
    }
    SnapshotInfo info;
    info.version = header.version;
    info.seq = header.seq;
    std::memcpy(info.record_hash.data(), header.record_hash, 32);
    std::memcpy(info.state_hash.data(), header.state_hash, 32);
    return info;
}

Result<Loaded> LoadOne(FileSystem& fs, const std::string& path,
                       const ledger::StateMachineOptions& options) {
    auto file = fs.OpenSequential(path);
    if (!file) return Error(file.error());
    auto info = ReadHeader(**file, path);
    if (!info) return Error(info.error());
    uint32_t crc = 0;
    uint64_t payload_bytes = 0;
    SequentialFile& input = **file;
    auto read = [&](void* data, size_t size) {
        auto got = input.Read(data, size);
        if (!got || *got != size) return false;
        crc = crc32c::Extend(crc, data, size);
        payload_bytes += size;
        return true;
    };
    Hash256 v1_hash{};
    auto state = info->version == 1 ? payments::Platform::LoadV1(read, options, &v1_hash)
                                    : payments::Platform::Load(read, options);
    if (!state) return Error(StatusCode::kCorruption, path + ": " + state.error().message());
    Trailer trailer{};
    auto got = input.Read(&trailer, sizeof(trailer));
    if (!got || *got != sizeof(trailer) || std::memcmp(trailer.magic, kTrailerMagic, 8) != 0 ||
        trailer.payload_bytes != payload_bytes ||
        crc32c::Unmask(trailer.payload_masked_crc) != crc) {
        return Error(StatusCode::kCorruption, path + ": bad snapshot trailer or checksum");
    }
    Loaded loaded;
    loaded.info = *info;
    // A v1 header holds the state hash as that version computed it; a v2 header the hash of the
    // sections as they were written (an older section version's bytes hash as written).
    const Hash256 hash = info->version == 1 ? v1_hash : *(*state)->loaded_hash();
    if (hash != loaded.info.state_hash) {
        return Error(StatusCode::kCorruption, path + ": state hash differs from the header's");
    }
    loaded.state = std::move(*state);
    return loaded;
}

}  // namespace

std::string SnapshotName(uint64_t seq) {
    char name[64];
    std::snprintf(name, sizeof(name), "%s%020llu%s", kPrefix, static_cast<unsigned long long>(seq),
                  kSuffix);
    return name;
}

Status Write(FileSystem& fs, const std::string& dir, const SnapshotInfo& info,
             const payments::FrozenPlatform& state) {
    const std::string final_path = JoinPath(dir, SnapshotName(info.seq));
    const std::string temporary_path = final_path + ".tmp";
    if (fs.Exists(temporary_path)) BURSAR_RETURN_IF_ERROR(fs.Remove(temporary_path));
    auto file = fs.OpenAppendable(temporary_path);
    if (!file) return file.error();

    Header header{};
    std::memcpy(header.magic, kMagic, 8);
    header.version = kFormatVersion;
    header.seq = info.seq;
    std::memcpy(header.record_hash, info.record_hash.data(), 32);
    std::memcpy(header.state_hash, info.state_hash.data(), 32);
    header.masked_crc = crc32c::Mask(crc32c::Value(&header, offsetof(Header, masked_crc)));
    BURSAR_RETURN_IF_ERROR((*file)->Append(&header, sizeof(header)));

    std::string buffer;
    buffer.reserve(kWriteBufferBytes);
    uint32_t crc = 0;
    uint64_t payload_bytes = 0;
    Status status;
    Clock& clock = SystemClock::Instance();
    WritePacer pacer(kWriteBytesPerSecondMax, kSyncEveryBytes, clock.MonotonicNs());
    auto write = [&](const char* data, size_t size) {
        if (status.ok()) status = (*file)->Append(data, size);
        const WritePacer::Step step = pacer.Wrote(size, clock.MonotonicNs());
        if (status.ok() && step.sync) status = (*file)->Sync();
        if (step.wait_ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(step.wait_ns));
        return status.ok();
    };
    auto flush = [&]() {
        const bool ok = buffer.empty() || write(buffer.data(), buffer.size());
        buffer.clear();
        return ok && status.ok();
    };
    bool saved = state.Save([&](const void* data, size_t size) {
        crc = crc32c::Extend(crc, data, size);
        payload_bytes += size;
        if (buffer.size() + size > kWriteBufferBytes && !flush()) return false;
        if (size >= kWriteBufferBytes) {
            // A large piece goes out directly, a buffer's worth at a time, paced like the rest.
            const auto* bytes = static_cast<const char*>(data);
            for (size_t done = 0; done < size; done += kWriteBufferBytes) {
                if (!write(bytes + done, std::min(kWriteBufferBytes, size - done))) return false;
            }
            return true;
        }
        buffer.append(static_cast<const char*>(data), size);
        return true;
    });
    if (!flush() || !saved) {
        return status.ok() ? Status(StatusCode::kIoError, "snapshot serialization failed") : status;
    }
    Trailer trailer{};
    std::memcpy(trailer.magic, kTrailerMagic, 8);
    trailer.payload_bytes = payload_bytes;
    trailer.payload_masked_crc = crc32c::Mask(crc);
    BURSAR_RETURN_IF_ERROR((*file)->Append(&trailer, sizeof(trailer)));
    BURSAR_RETURN_IF_ERROR((*file)->Sync());
    BURSAR_RETURN_IF_ERROR((*file)->Close());
    BURSAR_RETURN_IF_ERROR(fs.Rename(temporary_path, final_path));
    BURSAR_RETURN_IF_ERROR(fs.SyncDir(dir));

    std::vector<uint64_t> seqs = ListSeqs(fs, dir);
    while (seqs.size() > kSnapshotsKept) {
        BURSAR_RETURN_IF_ERROR(fs.Remove(JoinPath(dir, SnapshotName(seqs.front()))));
        seqs.erase(seqs.begin());
    }
    return fs.SyncDir(dir);
}

Result<std::optional<Loaded>> LoadNewest(FileSystem& fs, const std::string& dir,
                                         const ledger::StateMachineOptions& options,
                                         const std::function<void(const std::string&)>& on_skip) {
    std::vector<uint64_t> seqs = ListSeqs(fs, dir);
    for (auto it = seqs.rbegin(); it != seqs.rend(); ++it) {
        auto loaded = LoadOne(fs, JoinPath(dir, SnapshotName(*it)), options);
        if (loaded) return std::optional<Loaded>(std::move(*loaded));
        if (loaded.error().code() == StatusCode::kIoError) return Error(loaded.error());
        if (on_skip) on_skip(loaded.error().ToString());
    }
    return std::optional<Loaded>();
}

Result<Loaded> LoadAt(FileSystem& fs, const std::string& dir, uint64_t seq,
                      const ledger::StateMachineOptions& options) {
    return LoadOne(fs, JoinPath(dir, SnapshotName(seq)), options);
}

Result<std::vector<SnapshotInfo>> ListInfos(FileSystem& fs, const std::string& dir) {
    std::vector<SnapshotInfo> infos;
    for (uint64_t seq : ListSeqs(fs, dir)) {
        const std::string path = JoinPath(dir, SnapshotName(seq));
        auto file = fs.OpenSequential(path);
        if (!file) return Error(file.error());
        auto info = ReadHeader(**file, path);
        if (!info) return Error(info.error());
        infos.push_back(*info);
    }
    return infos;
}

}  // namespace bursar::snapshot
