#include "projection/projector.h"

namespace bursar::projection {

std::string ReadModelPath(const std::string& data_dir) {
    return JoinPath(data_dir, kReadModelFile);
}

namespace {

constexpr uint64_t kRetryMs = 1000;  // after a failure, before reading again
// Collects about this much committed work per SQLite transaction; lists that must see the
// caller's own writes cut it short (Follower::WaitFor).
constexpr uint64_t kLingerMs = 200;
constexpr int kNice = 10;  // background work: the request path goes first on a busy machine

}  // namespace

Projector::Projector(FileSystem& fs, const engine::Engine& engine, std::string data_dir,
                     std::function<void(const std::string&)> log)
    : engine_(engine),
      data_dir_(std::move(data_dir)),
      follower_(fs, engine, JoinPath(data_dir_, "journal"),
                events::FollowerOptions{.name = "projection",
                                        .records_per_poll = kRecordsPerTransaction,
                                        .retry_ms = kRetryMs,
                                        .linger_ms = kLingerMs,
                                        .nice = kNice,
                                        .log = std::move(log)},
                [this](const std::vector<events::Event>& events, const std::vector<events::Signup>&,
                       uint64_t position) { return model_->Apply(events, position); }) {}

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
    follower_.Start(*position);
    return Status::Ok();
}

void Projector::Stop() { follower_.Stop(); }

uint64_t Projector::position() const { return follower_.position(); }

bool Projector::WaitFor(uint64_t seq, uint64_t timeout_ms) const {
    return follower_.WaitFor(seq, timeout_ms);
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
        BURSAR_RETURN_IF_ERROR((*model)->Apply(batch, subscription.position()));
    }
    return Status::Ok();
}

}  // namespace bursar::projection
