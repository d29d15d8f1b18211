#include "engine/engine.h"

#include <algorithm>
#include <future>

#include "base/assert.h"
#include "base/thread.h"
#include "engine/batch_codec.h"
#include "engine/replay.h"
#include "snapshot/snapshot.h"

namespace bursar::engine {

// The callback is moved out first: it may delete the request, and with it the std::function
// that would otherwise still be running.
void Engine::Complete(Request* request) {
    std::function<void(Request&)> done = std::move(request->done);
    done(*request);
}

Engine::Engine(FileSystem& fs, Clock& clock, EngineOptions options)
    : fs_(fs),
      clock_(clock),
      options_(std::move(options)),
      journal_dir_(JoinPath(options_.data_dir, "journal")),
      snapshot_dir_(JoinPath(options_.data_dir, "snapshots")) {}

Engine::~Engine() { Stop(); }

void Engine::Log(const std::string& line) const {
    if (options_.log) options_.log(line);
}

Result<std::unique_ptr<Engine>> Engine::Open(FileSystem& fs, Clock& clock, EngineOptions options) {
    BURSAR_ASSERT(options.batch_events_max >= 1 &&
                  options.batch_events_max <= ledger::kBatchEventsMax);
    std::unique_ptr<Engine> engine(new Engine(fs, clock, std::move(options)));
    Status status = engine->Recover();
    if (!status.ok()) return Error(status);
    return engine;
}

Status Engine::Recover() {
    const uint64_t start_ns = clock_.MonotonicNs();
    BURSAR_RETURN_IF_ERROR(fs_.CreateDir(options_.data_dir));
    BURSAR_RETURN_IF_ERROR(fs_.CreateDir(journal_dir_));
    BURSAR_RETURN_IF_ERROR(fs_.CreateDir(snapshot_dir_));

    auto loaded = snapshot::LoadNewest(
        fs_, snapshot_dir_, options_.state,
        [&](const std::string& why) { Log("recovery: skipping snapshot: " + why); });
    if (!loaded) return loaded.error();
    journal::ScanOptions scan;
    scan.repair = true;
    scan.mode = options_.recovery_mode;
    if (loaded->has_value()) {
        platform_ = std::move((*loaded)->state);
        recovery_.snapshot_seq = (*loaded)->info.seq;
        scan.deliver_after_seq = recovery_.snapshot_seq;
        scan.anchor = {{recovery_.snapshot_seq, (*loaded)->info.record_hash}};
        Log("recovery: loaded snapshot at sequence " + std::to_string(recovery_.snapshot_seq));
        auto size =
            fs_.FileSize(JoinPath(snapshot_dir_, snapshot::SnapshotName(recovery_.snapshot_seq)));
        if (size) last_snapshot_bytes_.store(*size, std::memory_order_relaxed);
    } else {
        platform_ = std::make_unique<payments::Platform>(options_.state);
    }
    constexpr uint64_t kProgressBytesMin = 64ull << 20;
    scan.progress = [&](uint64_t done, uint64_t total) {
        if (total >= kProgressBytesMin) {
            Log("recovery: journal " + std::to_string(done >> 20) + " / " +
                std::to_string(total >> 20) + " MiB, " +
                std::to_string(recovery_.records_replayed) + " records replayed");
        }
    };
    auto scanned = journal::Scan(fs_, journal_dir_, scan, [&](const journal::RecordView& record) {
        ++recovery_.records_replayed;
        // The journal written since the snapshot counts towards the next one.
        records_since_snapshot_++;
        journal_bytes_since_snapshot_ += journal::kRecordHeaderSize + record.payload.size();
        return ReplayRecord(*platform_, record);
    });
    if (!scanned) return scanned.error();
    recovery_.torn_bytes = scanned->torn_bytes;
    if (scanned->torn_bytes > 0) {
        Log("recovery: truncated " + std::to_string(scanned->torn_bytes) +
            " bytes of an incomplete write at the journal's end (" + scanned->torn_description +
            ")");
    }
    auto writer = journal::JournalWriter::Open(fs_, journal_dir_, scanned->tail,
                                               {.segment_bytes_max = options_.segment_bytes_max,
                                                .preallocate = options_.preallocate_segments});
    if (!writer) return writer.error();
    writer_ = std::move(*writer);
    durable_seq_ = scanned->tail.next_seq - 1;
    durable_end_ = writer_->end();
    durable_hash_ = scanned->tail.last_hash;
    stats_.committed_seq = durable_seq_;
    recovery_.duration_ns = clock_.MonotonicNs() - start_ns;
    Log("recovery: at sequence " + std::to_string(durable_seq_) + " after replaying " +
        std::to_string(recovery_.records_replayed) + " records in " +
        std::to_string(recovery_.duration_ns / 1'000'000) + " ms");
    return Status::Ok();
}

void Engine::Start() {
    BURSAR_ASSERT(!started_);
    started_ = true;
    {
        std::lock_guard lock(queue_mutex_);
        accepting_ = true;
    }
    journal_thread_ = std::thread([this] {
        SetCurrentThreadName("journal");
        JournalLoop();
    });
    engine_thread_ = std::thread([this] {
        SetCurrentThreadName("engine");
        EngineLoop();
    });
}

void Engine::Stop() {
    if (!started_) return;
    {
        std::lock_guard lock(queue_mutex_);
        accepting_ = false;
        stopping_ = true;
    }
    queue_cv_.notify_all();
    engine_thread_.join();
    journal_thread_.join();
    JoinSnapshot();
    started_ = false;
}

Status Engine::Submit(Request* request) {
    if (request->event_count() > options_.batch_events_max) {
        return Status(
            StatusCode::kInvalidArgument,
            "a request holds at most " + std::to_string(options_.batch_events_max) + " events");
    }
    if (failed()) return failure();
    {
        std::lock_guard lock(queue_mutex_);
        if (!accepting_) return Status(StatusCode::kStopped, "engine is not running");
        if (queue_.size() >= options_.queue_requests_max) {
            return Status(StatusCode::kBusy, "engine queue is full");
        }
        queue_.push_back(request);
    }
    queue_cv_.notify_one();
    return Status::Ok();
}

uint64_t Engine::committed_seq() const {
    std::lock_guard lock(pipe_mutex_);
    return durable_seq_;
}

journal::JournalEnd Engine::committed_end() const {
    std::lock_guard lock(pipe_mutex_);
    return durable_end_;
}

uint64_t Engine::WaitCommitted(uint64_t after_seq, uint64_t timeout_ns) const {
    std::unique_lock lock(pipe_mutex_);
    committed_cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns),
                           [&] { return durable_seq_ > after_seq; });
    return durable_seq_;
}

Status Engine::failure() const {
    std::lock_guard lock(pipe_mutex_);
    return failure_;
}

EngineStats Engine::stats() const {
    EngineStats stats;
    {
        std::lock_guard lock(pipe_mutex_);
        stats = stats_;
    }
    std::lock_guard lock(queue_mutex_);
    stats.queue_depth = queue_.size();
    stats.state_bytes = state_bytes_.load(std::memory_order_relaxed);
    stats.writes_refused = writes_refused_.load(std::memory_order_relaxed);
    return stats;
}

void Engine::Fail(Status status) {
    std::lock_guard lock(pipe_mutex_);
    if (failure_.ok()) {
        failure_ =
            Status(StatusCode::kStopped, "engine stopped (fail-stop) after: " + status.ToString());
    }
    failed_.store(true, std::memory_order_release);
}

void Engine::EngineLoop() {
    std::vector<Request*> requests;
    while (true) {
        requests.clear();
        bool stop = false;
        {
            // Idle, the engine wakes for the earliest deadline, and at least every tick interval.
            uint64_t wait_ns = options_.tick_interval_ns;
            if (std::optional<uint64_t> earliest = platform_->EarliestDeadline()) {
                const uint64_t now = clock_.RealtimeNs();
                wait_ns = std::min(wait_ns, *earliest > now ? *earliest - now : 0);
            }
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait_for(lock, std::chrono::nanoseconds(wait_ns),
                               [&] { return stopping_ || !queue_.empty(); });
            size_t events = 0;
            while (!queue_.empty()) {
                Request* request = queue_.front();
                const size_t count = request->event_count();
                if (!requests.empty() && events + count > options_.batch_events_max) break;
                events += count;
                requests.push_back(request);
                queue_.pop_front();
            }
            stop = stopping_ && queue_.empty();
        }
        ProcessBatch(requests);
        if (stop) break;
        MaybeSnapshot();
    }
    Batch sentinel;
    sentinel.stop = true;
    PushBatch(std::move(sentinel));
}

void Engine::RefuseWritesWhenFull(std::vector<Request*>& requests) {
    const uint64_t bytes = platform_->MemoryBytes();
    const bool full = options_.state_bytes_max != 0 && bytes >= options_.state_bytes_max;
    uint64_t refused = 0;
    if (full) {
        auto kept = requests.begin();
        for (Request* request : requests) {
            if (!IsWrite(request->operation)) {
                *kept++ = request;
                continue;
            }
            request->results.clear();
            request->status =
                Status(StatusCode::kResourceExhausted,
                       "the state holds " + std::to_string(bytes >> 20) + " MiB, its bound is " +
                           std::to_string(options_.state_bytes_max >> 20) +
                           " MiB: no writes until it is raised");
            Complete(request);
            ++refused;
        }
        requests.erase(kept, requests.end());
    }
    if (full != state_full_ && options_.log) {
        options_.log(full ? "state at its memory bound (" + std::to_string(bytes >> 20) +
                                " MiB of " + std::to_string(options_.state_bytes_max >> 20) +
                                " MiB): writes are refused, reads go on"
                          : "state under its memory bound again: writes are taken");
    }
    state_full_ = full;
    // Plain stores, read by stats(): no lock on the engine thread's path for a metric.
    state_bytes_.store(bytes, std::memory_order_relaxed);
    if (refused != 0) writes_refused_.fetch_add(refused, std::memory_order_relaxed);
}

void Engine::ProcessBatch(std::vector<Request*>& requests) {
    if (failed()) {
        // The state in memory may be ahead of the journal: nothing more is applied or read.
        Status status = failure();
        for (Request* request : requests) {
            request->status = status;
            Complete(request);
        }
        return;
    }
    RefuseWritesWhenFull(requests);
    ledger::StateMachine& ledger = platform_->ledger();
    const uint64_t timestamp = std::max(clock_.RealtimeNs(), ledger.last_timestamp() + 1);
    const bool writes = std::any_of(requests.begin(), requests.end(),
                                    [](const Request* r) { return IsWrite(r->operation); });
    const bool journaled = writes || platform_->HasDeadlineDue(timestamp);
    if (requests.empty() && !journaled) return;

    Batch batch;
    batch.timestamp = timestamp;
    {
        std::lock_guard lock(pipe_mutex_);
        if (!free_buffers_.empty()) {
            batch.record = std::move(free_buffers_.back());
            free_buffers_.pop_back();
        }
    }
    batch.record.assign(journal::kRecordHeaderSize, '\0');
    BatchEncoder encoder(&batch.record);
    if (journaled) platform_->BeginBatch(timestamp);
    for (Request* request : requests) {
        request->results.clear();
        request->status = Status::Ok();
        batch.events += request->event_count();
        switch (request->operation) {
            case Operation::kCreateAccounts:
                ledger.CreateAccounts(request->accounts, &request->results);
                encoder.Add(request->operation, request->accounts.data(),
                            static_cast<uint32_t>(request->accounts.size()), request->results);
                break;
            case Operation::kCreateTransfers:
                ledger.CreateTransfers(request->transfers, &request->results);
                encoder.Add(request->operation, request->transfers.data(),
                            static_cast<uint32_t>(request->transfers.size()), request->results);
                break;
            case Operation::kLookupAccounts:
                request->accounts.clear();
                for (u128 id : request->ids) {
                    if (const ledger::Account* account = ledger.FindAccount(id)) {
                        request->accounts.push_back(*account);
                    }
                }
                break;
            case Operation::kLookupTransfers:
                request->transfers.clear();
                for (u128 id : request->ids) {
                    if (const ledger::Transfer* transfer = ledger.FindTransfer(id)) {
                        request->transfers.push_back(*transfer);
                    }
                }
                break;
            case Operation::kQuery:
                request->query(*platform_);
                break;
            case Operation::kCommand:
                request->outcome = platform_->Apply(request->command);
                encoder.AddCommand(request->command, request->outcome);
                break;
        }
    }
    if (journaled) {
        platform_->EndBatch();
        ++records_since_snapshot_;
        journal_bytes_since_snapshot_ += batch.record.size();
    } else {
        batch.record.clear();
    }
    batch.requests = requests;
    PushBatch(std::move(batch));
}

void Engine::PushBatch(Batch batch) {
    {
        std::unique_lock lock(pipe_mutex_);
        pipe_cv_.wait(lock, [&] { return pipe_.size() < kPipelineDepth || batch.stop; });
        pipe_.push_back(std::move(batch));
    }
    pipe_cv_.notify_all();
}

void Engine::JournalLoop() {
    std::vector<Batch> batches;
    bool stop = false;
    while (!stop) {
        batches.clear();
        {
            std::unique_lock lock(pipe_mutex_);
            pipe_cv_.wait(lock, [&] { return !pipe_.empty(); });
            // Group commit across batches: every batch waiting now is written before one fsync.
            while (!pipe_.empty()) {
                batches.push_back(std::move(pipe_.front()));
                pipe_.pop_front();
            }
            journal_busy_ = true;
        }
        pipe_cv_.notify_all();
        // The engine pushes nothing after its stop sentinel.
        if (batches.back().stop) {
            stop = true;
            batches.pop_back();
        }
        CommitBatches(batches);
        {
            std::lock_guard lock(pipe_mutex_);
            constexpr size_t kFreeBuffersMax = kPipelineDepth + 1;
            for (Batch& batch : batches) {
                if (free_buffers_.size() < kFreeBuffersMax)
                    free_buffers_.push_back(std::move(batch.record));
            }
            journal_busy_ = false;
        }
        pipe_cv_.notify_all();
    }
}

void Engine::CommitBatches(std::vector<Batch>& batches) {
    Status status = failed() ? failure() : Status::Ok();
    // The position each batch's replies carry: its own record's, or for a batch with nothing to
    // journal (reads), the last record before it.
    std::vector<uint64_t>& seqs = commit_seqs_;
    seqs.clear();
    uint64_t seq;
    {
        std::lock_guard lock(pipe_mutex_);
        seq = durable_seq_;
    }
    uint64_t records = 0;
    for (Batch& batch : batches) {
        if (status.ok() && !batch.record.empty()) {
            status =
                writer_->Append(journal::RecordType::kBatch, batch.timestamp, &batch.record, &seq);
            ++records;
        }
        seqs.push_back(seq);
    }
    uint64_t fsync_ns = 0;
    if (status.ok() && records > 0) {
        const uint64_t start = clock_.MonotonicNs();
        status = writer_->Sync();
        fsync_ns = clock_.MonotonicNs() - start;
    }
    if (!status.ok() && !failed()) {
        Log("engine: journal write failed, stopping all writes: " + status.ToString());
        Fail(status);
    }
    if (!status.ok()) status = failure();
    {
        std::lock_guard lock(pipe_mutex_);
        if (status.ok() && records > 0) {
            durable_seq_ = seq;
            durable_end_ = writer_->end();
            durable_hash_ = writer_->last_hash();
            stats_.committed_seq = seq;
            stats_.batches += records;
            ++stats_.fsyncs;
            stats_.fsync_ns_total += fsync_ns;
            stats_.fsync_ns_max = std::max(stats_.fsync_ns_max, fsync_ns);
            stats_.journal_bytes = writer_->bytes_written();
        }
        for (const Batch& batch : batches) stats_.events += batch.events;
    }
    if (status.ok() && records > 0) committed_cv_.notify_all();
    for (size_t i = 0; i < batches.size(); ++i) {
        for (Request* request : batches[i].requests) {
            request->seq = status.ok() ? seqs[i] : 0;
            request->status = status;
            Complete(request);
        }
    }
}

void Engine::WaitJournalIdle() {
    std::unique_lock lock(pipe_mutex_);
    pipe_cv_.wait(lock, [&] { return pipe_.empty() && !journal_busy_; });
}

void Engine::MaybeSnapshot() {
    if (options_.snapshot_interval_records == 0) return;
    if (records_since_snapshot_ < options_.snapshot_interval_records) return;
    // Writing the whole state costs as much as its size: wait until the journal has grown by as
    // much, so snapshots cost at most one byte per journal byte written, and recovery replays at
    // most a snapshot's worth of journal.
    if (options_.snapshot_waits_for_journal_growth &&
        journal_bytes_since_snapshot_ < last_snapshot_bytes_.load(std::memory_order_acquire)) {
        return;
    }
    if (snapshot_running_.load(std::memory_order_acquire)) return;
    JoinSnapshot();
    // The snapshot must hold exactly the durable state: wait for the batches in flight.
    const uint64_t drain_start = clock_.MonotonicNs();
    WaitJournalIdle();
    if (failed()) return;
    const uint64_t freeze_start = clock_.MonotonicNs();
    snapshot::SnapshotInfo info;
    {
        std::lock_guard lock(pipe_mutex_);
        info.seq = durable_seq_;
        info.record_hash = durable_hash_;
    }
    records_since_snapshot_ = 0;
    journal_bytes_since_snapshot_ = 0;
    if (!frozen_) frozen_ = std::make_shared<payments::FrozenPlatform>();
    platform_->FreezeInto(frozen_.get());
    const uint64_t freeze_end = clock_.MonotonicNs();
    {
        std::lock_guard lock(pipe_mutex_);
        ++stats_.snapshots;
        stats_.snapshot_drain_ns_max =
            std::max(stats_.snapshot_drain_ns_max, freeze_start - drain_start);
        stats_.snapshot_freeze_ns_max =
            std::max(stats_.snapshot_freeze_ns_max, freeze_end - freeze_start);
    }
    snapshot_running_.store(true, std::memory_order_release);
    const uint64_t freeze_ms = (freeze_end - freeze_start) / 1'000'000;
    snapshot_thread_ = std::thread([this, info, frozen = frozen_, freeze_ms]() mutable {
        SetCurrentThreadName("snapshot");
        SetCurrentThreadNice(kSnapshotNice);
        const uint64_t start = clock_.MonotonicNs();
        info.state_hash = frozen->StateHash();
        Status status = snapshot::Write(fs_, snapshot_dir_, info, *frozen);
        const uint64_t write_ms = (clock_.MonotonicNs() - start) / 1'000'000;
        if (!status.ok()) {
            Log("snapshot: failed (the journal still holds everything): " + status.ToString());
        } else if (auto size =
                       fs_.FileSize(JoinPath(snapshot_dir_, snapshot::SnapshotName(info.seq)))) {
            last_snapshot_bytes_.store(*size, std::memory_order_release);
            Log("snapshot: at sequence " + std::to_string(info.seq) + ", " +
                std::to_string(*size >> 20) + " MiB, state copied in " + std::to_string(freeze_ms) +
                " ms, written in " + std::to_string(write_ms) + " ms");
        }
        snapshot_running_.store(false, std::memory_order_release);
    });
}

void Engine::JoinSnapshot() {
    if (snapshot_thread_.joinable()) snapshot_thread_.join();
}

Status SubmitAndWait(Engine& engine, Request& request) {
    std::promise<void> replied;
    request.done = [&replied](Request&) { replied.set_value(); };
    Status status = engine.Submit(&request);
    if (status.ok()) replied.get_future().wait();
    return status;
}

Result<payments::Outcome> RunCommand(Engine& engine, payments::Command command) {
    Request request;
    request.operation = Operation::kCommand;
    request.command = std::move(command);
    Status status = SubmitAndWait(engine, request);
    if (!status.ok()) return Error(status);
    if (!request.status.ok()) return Error(request.status);
    return std::move(request.outcome);
}

}  // namespace bursar::engine
