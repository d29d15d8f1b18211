// `bursar verify DIR`: replays a data directory's journal from its first record into a fresh
// state machine, without writing anything. Checks every record's CRC, the sequence numbers and
// the hash chain (L8), that replay gives the recorded results, every invariant, and that each
// snapshot's state equals the replay's at its position (by state hash; a snapshot of an earlier
// format, or one that differs, is loaded and compared section by section, so that a difference
// names its module). Prints the state hash.

#include <cstdio>

#include "app/commands.h"
#include "app/flags.h"
#include "engine/replay.h"
#include "journal/reader.h"
#include "snapshot/snapshot.h"

namespace bursar::app {

int VerifyCommand(const Args& args) {
    auto flags = Flags::Parse(args, {});
    if (!flags || flags->positional().size() != 1) {
        LogLine("usage: bursar verify DIR");
        return 2;
    }
    const std::string dir = flags->positional()[0];
    FileSystem& fs = PosixFileSystem();
    auto snapshots = snapshot::ListInfos(fs, JoinPath(dir, "snapshots"));
    if (!snapshots) {
        // A missing snapshot folder is fine (none taken yet); damage is not.
        if (snapshots.error().code() != StatusCode::kNotFound) {
            std::printf("verify: FAILED: %s\n", snapshots.error().ToString().c_str());
            return 1;
        }
        snapshots = std::vector<snapshot::SnapshotInfo>{};
    }
    payments::Platform platform;
    const ledger::StateMachine& state = platform.ledger();
    size_t next_snapshot = 0;
    uint64_t snapshots_checked = 0;
    journal::ScanOptions options;
    options.from_first_segment = true;
    constexpr uint64_t kProgressBytesMin = 256ull << 20;
    options.progress = [](uint64_t done, uint64_t total) {
        if (total >= kProgressBytesMin) {
            std::fprintf(stderr, "verify: %llu / %llu MiB\n",
                         static_cast<unsigned long long>(done >> 20),
                         static_cast<unsigned long long>(total >> 20));
        }
    };
    auto scanned = journal::Scan(
        fs, JoinPath(dir, "journal"), options, [&](const journal::RecordView& record) -> Status {
            BURSAR_RETURN_IF_ERROR(engine::ReplayRecord(platform, record));
            while (next_snapshot < snapshots->size() &&
                   (*snapshots)[next_snapshot].seq <= record.seq) {
                const snapshot::SnapshotInfo& info = (*snapshots)[next_snapshot++];
                if (info.seq != record.seq) continue;
                const std::string where = "snapshot at sequence " + std::to_string(info.seq);
                if (info.record_hash != record.hash) {
                    return Status(StatusCode::kCorruption, where + " is of another journal record");
                }
                if (info.version != snapshot::kFormatVersion ||
                    info.state_hash != platform.StateHash()) {
                    auto loaded = snapshot::LoadAt(fs, JoinPath(dir, "snapshots"), info.seq, {});
                    if (!loaded) return loaded.error();
                    const auto replayed = platform.SectionHashes();
                    const auto saved = loaded->state->SectionHashes();
                    std::string differing;
                    for (size_t i = 0; i < replayed.size(); ++i) {
                        if (i >= saved.size() || replayed[i] != saved[i]) {
                            differing += std::string(differing.empty() ? "" : ", ") +
                                         payments::SectionName(replayed[i].id);
                        }
                    }
                    if (!differing.empty()) {
                        return Status(
                            StatusCode::kCorruption,
                            where + " differs from the journal's replay in: " + differing);
                    }
                }
                ++snapshots_checked;
            }
            return Status::Ok();
        });
    if (!scanned) {
        std::printf("verify: FAILED: %s\n", scanned.error().ToString().c_str());
        return 1;
    }
    for (size_t i = next_snapshot; i < snapshots->size(); ++i) {
        std::printf("verify: FAILED: snapshot at sequence %llu is beyond the journal's end\n",
                    static_cast<unsigned long long>((*snapshots)[i].seq));
        return 1;
    }
    Status invariants = platform.CheckInvariants();
    if (!invariants.ok()) {
        std::printf("verify: FAILED: %s\n", invariants.ToString().c_str());
        return 1;
    }
    if (scanned->torn_bytes > 0) {
        std::printf(
            "verify: torn tail of %llu bytes (an incomplete last write, cut on start): %s\n",
            static_cast<unsigned long long>(scanned->torn_bytes),
            scanned->torn_description.c_str());
    }
    std::printf("verify: ok\n");
    std::printf("records: %llu\n", static_cast<unsigned long long>(scanned->records_read));
    std::printf("head sequence: %llu\n",
                static_cast<unsigned long long>(scanned->tail.next_seq - 1));
    std::printf("head hash: %s\n", HashToHex(scanned->tail.last_hash).c_str());
    std::printf("accounts: %llu\n", static_cast<unsigned long long>(state.account_count()));
    std::printf("transfers: %llu\n", static_cast<unsigned long long>(state.transfer_count()));
    std::printf("snapshots checked: %llu\n", static_cast<unsigned long long>(snapshots_checked));
    std::printf("users: %llu\n", static_cast<unsigned long long>(platform.users().count()));
    std::printf("merchants: %llu\n", static_cast<unsigned long long>(platform.merchants().count()));
    std::printf("state hash: %s\n", HashToHex(platform.StateHash()).c_str());
    return 0;
}

}  // namespace bursar::app
