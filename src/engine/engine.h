#pragma once

// The engine (ARCHITECTURE.md §3): a bounded multi-producer queue of requests, one engine thread
// that takes them in batches and applies each batch to the state machine, and one journal thread
// that appends the batch to the journal, fsyncs it (group commit: one fsync per batch), and only
// then completes the batch's requests. Applying batch N+1 overlaps with the fsync of batch N; no
// reply leaves before its batch is durable. A failed write or fsync stops the engine for good
// (fail-stop): every later request fails, and `failed()` says so for readiness checks.
//
// Threads: Submit() from any thread; `done` callbacks run on the journal thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/file_system.h"
#include "base/status.h"
#include "engine/request.h"
#include "journal/reader.h"
#include "journal/writer.h"
#include "ledger/state_machine.h"
#include "payments/platform.h"

namespace bursar::engine {

struct EngineOptions {
    std::string data_dir;
    uint32_t queue_requests_max = 16384;
    uint32_t batch_events_max = ledger::kBatchEventsMax;
    uint64_t tick_interval_ns = 1'000'000'000;  // expiry runs at least this often when idle
    // Journal records between snapshots (0: never).
    uint64_t snapshot_interval_records = 4096;
    // A snapshot also waits until the journal has grown by the size of the previous snapshot, so
    // that full snapshots never write more than the journal does. Tests and benchmarks that want
    // a snapshot every N records exactly turn it off.
    bool snapshot_waits_for_journal_growth = true;
    journal::RecoveryMode recovery_mode = journal::RecoveryMode::kStrict;
    uint64_t segment_bytes_max = journal::kSegmentBytesDefault;
    // Journal segments written ahead as zeros (journal::WriterOptions::preallocate).
    bool preallocate_segments = true;
    ledger::StateMachineOptions state;
    // Memory the state (ledger and platform, estimated by Platform::MemoryBytes) may hold: at or
    // above it, writes are refused with kResourceExhausted and nothing is journaled; reads go on.
    // 0: no bound.
    uint64_t state_bytes_max = 0;
    std::function<void(const std::string&)> log;  // progress and warnings, one line each
};

struct RecoveryInfo {
    uint64_t snapshot_seq = 0;
    uint64_t records_replayed = 0;
    uint64_t torn_bytes = 0;
    uint64_t duration_ns = 0;
};

struct EngineStats {
    uint64_t committed_seq = 0;
    uint64_t batches = 0;
    uint64_t events = 0;
    uint64_t journal_bytes = 0;
    uint64_t fsyncs = 0;
    uint64_t fsync_ns_total = 0;
    uint64_t fsync_ns_max = 0;
    uint64_t queue_depth = 0;
    uint64_t snapshots = 0;
    uint64_t snapshot_drain_ns_max = 0;   // longest wait for the batches in flight to be durable
    uint64_t snapshot_freeze_ns_max = 0;  // longest copy of the state (the engine applies nothing)
    uint64_t state_bytes = 0;             // at the last batch (Platform::MemoryBytes)
    uint64_t writes_refused = 0;          // at state_bytes_max
};

class Engine {
  public:
    // Recovers the state from the data directory (newest snapshot + journal replay).
    static Result<std::unique_ptr<Engine>> Open(FileSystem& fs, Clock& clock,
                                                EngineOptions options);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    void Start();
    // Stops accepting, applies and commits everything queued, waits for a snapshot in progress.
    void Stop();

    // Queues the request. kBusy when the queue is full, kStopped when stopping or failed,
    // kInvalidArgument when it has more than batch_events_max events. `done` is not called when
    // Submit fails.
    Status Submit(Request* request);

    bool failed() const { return failed_.load(std::memory_order_acquire); }
    // The journal position of the last durable batch.
    uint64_t committed_seq() const;
    // Where the durable records end in the journal's files, for readers following it.
    journal::JournalEnd committed_end() const;
    // Waits until a batch after `after_seq` is durable, or `timeout_ns` passed; returns the
    // committed position then.
    uint64_t WaitCommitted(uint64_t after_seq, uint64_t timeout_ns) const;
    Status failure() const;
    EngineStats stats() const;
    const RecoveryInfo& recovery_info() const { return recovery_; }
    // Only while the engine threads are not running (before Start, after Stop).
    const payments::Platform& platform() const { return *platform_; }
    const ledger::StateMachine& state() const { return platform_->ledger(); }

  private:
    struct Batch {
        std::string record;  // empty when nothing is journaled
        uint64_t timestamp = 0;
        uint64_t events = 0;
        std::vector<Request*> requests;
        bool stop = false;
    };

    Engine(FileSystem& fs, Clock& clock, EngineOptions options);
    Status Recover();
    void EngineLoop();
    void JournalLoop();
    // Appends the batches' records, makes them durable with one fsync, and completes their
    // requests (journal thread).
    void CommitBatches(std::vector<Batch>& batches);
    void ProcessBatch(std::vector<Request*>& requests);
    // Measures the state; at options_.state_bytes_max or above, answers the writes among
    // `requests` with kResourceExhausted at once and takes them out: nothing of them is applied
    // or journaled.
    void RefuseWritesWhenFull(std::vector<Request*>& requests);
    void PushBatch(Batch batch);
    void WaitJournalIdle();
    void MaybeSnapshot();
    void JoinSnapshot();
    void Fail(Status status);
    static void Complete(Request* request);
    void Log(const std::string& line) const;

    FileSystem& fs_;
    Clock& clock_;
    EngineOptions options_;
    std::string journal_dir_;
    std::string snapshot_dir_;
    std::unique_ptr<payments::Platform> platform_;
    std::unique_ptr<journal::JournalWriter> writer_;
    RecoveryInfo recovery_;

    // Request queue: producers → engine thread.
    mutable std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<Request*> queue_;
    bool accepting_ = false;
    bool stopping_ = false;

    // Pipeline: engine thread → journal thread, at most kPipelineDepth batches.
    static constexpr size_t kPipelineDepth = 2;
    // The snapshot thread is background work: the request path goes first on a busy machine.
    static constexpr int kSnapshotNice = 19;
    mutable std::mutex pipe_mutex_;
    mutable std::condition_variable pipe_cv_;
    // Signalled when durable_seq_ advances (WaitCommitted), apart from pipe_cv_ so that the
    // engine and journal threads' hand-offs do not wake the journal's followers.
    mutable std::condition_variable committed_cv_;
    std::deque<Batch> pipe_;
    bool journal_busy_ = false;
    std::vector<std::string> free_buffers_;
    std::vector<uint64_t> commit_seqs_;  // journal thread
    uint64_t durable_seq_ = 0;
    journal::JournalEnd durable_end_;
    Hash256 durable_hash_{};
    EngineStats stats_;

    bool state_full_ = false;  // engine thread: the last batch found the state at its bound
    std::atomic<uint64_t> state_bytes_{0};     // written by the engine thread, for stats()
    std::atomic<uint64_t> writes_refused_{0};  // written by the engine thread, for stats()
    std::atomic<bool> failed_{false};
    Status failure_;  // guarded by pipe_mutex_

    uint64_t records_since_snapshot_ = 0;           // engine thread
    uint64_t journal_bytes_since_snapshot_ = 0;     // engine thread
    std::atomic<uint64_t> last_snapshot_bytes_{0};  // written by the snapshot thread
    // The thread writing a snapshot, owned by the engine thread; at most one at a time.
    std::thread snapshot_thread_;
    std::atomic<bool> snapshot_running_{false};
    // Reused from one snapshot to the next so that freezing touches no new pages.
    std::shared_ptr<payments::FrozenPlatform> frozen_;

    std::thread engine_thread_;
    std::thread journal_thread_;
    bool started_ = false;
};

// Submits `request` (setting its `done`) and waits for the reply: for tools and tests, never from
// an engine thread. Returns the engine's refusal when it does not take the request.
Status SubmitAndWait(Engine& engine, Request& request);
// Applies one domain command and waits for its result; the refusal when the engine does not take
// it.
Result<payments::Outcome> RunCommand(Engine& engine, payments::Command command);

}  // namespace bursar::engine
