#include "projection/projector.h"

#include <chrono>

namespace bursar::projection {
namespace {

constexpr uint64_t kPollNs = 100'000'000;  // wake at least this often to notice a stop
constexpr uint64_t kRetryMs = 1000;        // after a failure, before trying again

}  // namespace

std::string ReadModelPath(const std::string& data_dir) {
    return JoinPath(data_dir, kReadModelFile);
}

Projector::Projector(FileSystem& fs, const engine::Engine& engine, std::string data_dir,
                     std::function<void(const std::string&)> log)
    : fs_(fs), engine_(engine), data_dir_(std::move(data_dir)), log_(std::move(log)) {}

Projector::~Projector() { Stop(); }

Status Projector::Start() {
    auto model = ReadModel::Open(ReadModelPath(data_dir_));
    if (!model) return model.error();
    model_ = std::move(*model);
    auto position = model_->Position();
    if (!position) return position.error();
    if (*position > engine_.committed_seq()) {
        return Status(StatusCode::kCorruption,
                      "the read model is ahead of the journal: delete " + ReadModelPath(data_dir_));
    }
    position_ = *position;
    subscription_ =
        std::make_unique<events::Subscription>(fs_, JoinPath(data_dir_, "journal"), position_);
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
}

void Projector::Stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

uint64_t Projector::position() const {
    std::lock_guard lock(mutex_);
    return position_;
}

bool Projector::WaitFor(uint64_t seq, uint64_t timeout_ms) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
        return position_ >= seq || stopping_;
    }) && position_ >= seq;
}

namespace {

std::vector<payments::Txn> TxnsOf(const std::vector<events::Event>& events) {
    std::vector<payments::Txn> txns;
    txns.reserve(events.size());
    for (const events::Event& event : events) txns.push_back(event.txn);
    return txns;
}

}  // namespace

void Projector::Run() {
    std::vector<events::Event> batch;
    while (true) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        const uint64_t committed = engine_.WaitCommitted(subscription_->position(), kPollNs);
        batch.clear();
        auto polled = subscription_->Poll(committed, kRecordsPerTransaction, &batch);
        Status status = polled ? Status::Ok() : polled.error();
        if (status.ok() && *polled > 0)
            status = model_->Apply(TxnsOf(batch), subscription_->position());
        if (!status.ok()) {
            if (log_) log_("projection: " + status.ToString() + "; retrying");
            // Start over from what the model has, so nothing is skipped or applied twice.
            auto position = model_->Position();
            subscription_ = std::make_unique<events::Subscription>(
                fs_, JoinPath(data_dir_, "journal"), position ? *position : position_);
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, std::chrono::milliseconds(kRetryMs), [&] { return stopping_; });
            continue;
        }
        if (*polled > 0) {
            std::lock_guard lock(mutex_);
            position_ = subscription_->position();
        }
        cv_.notify_all();
    }
}

Status Projector::Rebuild(FileSystem& fs, const std::string& data_dir, uint64_t* records) {
    const std::string path = ReadModelPath(data_dir);
    for (const char* suffix : {"", "-wal", "-shm"}) {
        if (fs.Exists(path + suffix)) BURSAR_RETURN_IF_ERROR(fs.Remove(path + suffix));
    }
    const std::string journal_dir = JoinPath(data_dir, "journal");
    // The journal's valid end, without repairing anything.
    journal::ScanOptions options;
    options.from_first_segment = true;
    auto scanned = journal::Scan(fs, journal_dir, options,
                                 [](const journal::RecordView&) { return Status::Ok(); });
    if (!scanned) return scanned.error();
    const uint64_t end = scanned->tail.next_seq - 1;
    auto model = ReadModel::Open(path);
    if (!model) return model.error();
    events::Subscription subscription(fs, journal_dir, 0);
    *records = 0;
    std::vector<events::Event> batch;
    while (subscription.position() < end) {
        batch.clear();
        auto polled = subscription.Poll(end, kRecordsPerTransaction, &batch);
        if (!polled) return polled.error();
        if (*polled == 0) break;
        *records += *polled;
        BURSAR_RETURN_IF_ERROR((*model)->Apply(TxnsOf(batch), subscription.position()));
    }
    return Status::Ok();
}

}  // namespace bursar::projection
