#include "events/jetstream_publisher.h"

#include <nats/nats.h>

#include <algorithm>

#include "base/clock.h"
#include "base/u128.h"

namespace bursar::events {

struct JetStreamPublisher::Nats {
    natsConnection* connection = nullptr;
    jsCtx* js = nullptr;
    std::atomic<uint64_t> async_errors{0};
};

namespace {

void OnPublishError(jsCtx*, jsPubAckErr*, void* closure) {
    static_cast<std::atomic<uint64_t>*>(closure)->fetch_add(1);
}

Status NatsError(const std::string& what, natsStatus status) {
    return Status(StatusCode::kIoError, what + ": " + natsStatus_GetText(status));
}

}  // namespace

std::string JetStreamPublisher::CursorPath(const std::string& data_dir) {
    return JoinPath(data_dir, "jetstream.cursor");
}

JetStreamPublisher::JetStreamPublisher(FileSystem& fs, const engine::Engine& engine,
                                       std::string data_dir, JetStreamOptions options,
                                       std::function<void(const std::string&)> log)
    : fs_(fs),
      data_dir_(std::move(data_dir)),
      options_(std::move(options)),
      nats_(std::make_unique<Nats>()),
      follower_(fs, engine, JoinPath(data_dir_, "journal"),
                FollowerOptions{.name = "jetstream",
                                .records_per_poll = options_.records_per_batch,
                                .retry_ms = options_.retry_ms,
                                .linger_ms = options_.linger_ms,
                                .log = std::move(log)},
                [this](const std::vector<Event>& events, const std::vector<Signup>&,
                       uint64_t position) { return Apply(events, position); }) {}

JetStreamPublisher::~JetStreamPublisher() { Stop(); }

Status JetStreamPublisher::Start() {
    if (options_.cursor_interval_ms * 1'000'000 * 10 > options_.duplicate_window_ns) {
        return Status(StatusCode::kInvalidArgument,
                      "jetstream: cursor interval must be under a tenth of the duplicate window");
    }
    uint64_t position = 0;
    const std::string path = CursorPath(data_dir_);
    if (fs_.Exists(path)) {
        auto text = fs_.ReadFile(path);
        if (!text) return text.error();
        auto value = U128FromString(text->substr(0, text->find('\n')));
        if (!value) return Status(StatusCode::kCorruption, path + " does not hold a position");
        position = static_cast<uint64_t>(*value);
    }
    cursor_stored_ = position;
    cursor_stored_ns_ = SystemClock::Instance().MonotonicNs();
    follower_.Start(position);
    return Status::Ok();
}

void JetStreamPublisher::Stop() {
    follower_.Stop();
    // What was acknowledged since the last cursor write is not sent again after a clean stop.
    const uint64_t position = follower_.position();
    if (position > cursor_stored_ && StoreCursor(position).ok()) cursor_stored_ = position;
    Disconnect();
}

JetStreamStats JetStreamPublisher::stats() const {
    std::vector<uint64_t> lags;
    JetStreamStats stats;
    {
        std::lock_guard lock(mutex_);
        stats = stats_;
        lags = lag_samples_;
    }
    stats.position = follower_.position();
    if (!lags.empty()) {
        std::sort(lags.begin(), lags.end());
        stats.lag_ns_p50 = lags[lags.size() / 2];
        stats.lag_ns_p99 = lags[std::min(lags.size() - 1, lags.size() * 99 / 100)];
    }
    return stats;
}

bool JetStreamPublisher::WaitFor(uint64_t seq, uint64_t timeout_ms) const {
    return follower_.WaitFor(seq, timeout_ms);
}

Status JetStreamPublisher::Connect() {
    natsOptions* options = nullptr;
    natsStatus status = natsOptions_Create(&options);
    if (status == NATS_OK) status = natsOptions_SetURL(options, options_.url.c_str());
    // Keep trying for ever: the publisher outlives any NATS outage.
    if (status == NATS_OK) status = natsOptions_SetMaxReconnect(options, -1);
    if (status == NATS_OK) status = natsConnection_Connect(&nats_->connection, options);
    natsOptions_Destroy(options);
    if (status != NATS_OK) return NatsError("connect to " + options_.url, status);

    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.PublishAsync.ErrHandler = OnPublishError;
    js_options.PublishAsync.ErrHandlerClosure = &nats_->async_errors;
    status = natsConnection_JetStream(&nats_->js, nats_->connection, &js_options);
    if (status != NATS_OK) return NatsError("JetStream context", status);

    jsStreamInfo* info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    status = js_GetStreamInfo(&info, nats_->js, options_.stream.c_str(), nullptr, &error);
    if (status == NATS_NOT_FOUND) {
        jsStreamConfig config;
        jsStreamConfig_Init(&config);
        const char* subjects[] = {kSubject};
        config.Name = options_.stream.c_str();
        config.Subjects = subjects;
        config.SubjectsLen = 1;
        config.Storage = js_FileStorage;
        config.Duplicates = static_cast<int64_t>(options_.duplicate_window_ns);
        status = js_AddStream(&info, nats_->js, &config, nullptr, &error);
    }
    jsStreamInfo_Destroy(info);
    if (status != NATS_OK) return NatsError("stream " + options_.stream, status);
    std::lock_guard lock(mutex_);
    stats_.connected = true;
    return Status::Ok();
}

void JetStreamPublisher::Disconnect() {
    if (nats_->js != nullptr) jsCtx_Destroy(nats_->js);
    if (nats_->connection != nullptr) natsConnection_Destroy(nats_->connection);
    nats_->js = nullptr;
    nats_->connection = nullptr;
    std::lock_guard lock(mutex_);
    stats_.connected = false;
}

Status JetStreamPublisher::PublishBatch(const std::vector<Event>& events) {
    const uint64_t errors_before = nats_->async_errors.load();
    for (const Event& event : events) {
        const std::string id = event.EventId();
        const std::string body = event.ToJson();
        jsPubOptions options;
        jsPubOptions_Init(&options);
        options.MsgId = id.c_str();
        natsStatus status = js_PublishAsync(nats_->js, kSubject, body.data(),
                                            static_cast<int>(body.size()), &options);
        if (status != NATS_OK) return NatsError("publish " + id, status);
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = options_.ack_wait_ms;
    natsStatus status = js_PublishAsyncComplete(nats_->js, &wait);
    if (status != NATS_OK) {
        // Take back what was not acknowledged; it is sent again from the cursor.
        natsMsgList pending;
        if (js_PublishAsyncGetPendingList(&pending, nats_->js) == NATS_OK)
            natsMsgList_Destroy(&pending);
        return NatsError("acknowledgments", status);
    }
    if (nats_->async_errors.load() != errors_before) {
        return Status(StatusCode::kIoError, "JetStream refused a message");
    }
    return Status::Ok();
}

Status JetStreamPublisher::StoreCursor(uint64_t seq) {
    const std::string path = CursorPath(data_dir_);
    const std::string temporary = path + ".tmp";
    if (fs_.Exists(temporary)) BURSAR_RETURN_IF_ERROR(fs_.Remove(temporary));
    auto file = fs_.OpenAppendable(temporary);
    if (!file) return file.error();
    const std::string text = std::to_string(seq) + "\n";
    BURSAR_RETURN_IF_ERROR((*file)->Append(text.data(), text.size()));
    BURSAR_RETURN_IF_ERROR((*file)->Sync());
    BURSAR_RETURN_IF_ERROR((*file)->Close());
    BURSAR_RETURN_IF_ERROR(fs_.Rename(temporary, path));
    return fs_.SyncDir(data_dir_);
}

Status JetStreamPublisher::Apply(const std::vector<Event>& events, uint64_t position) {
    Status status = nats_->js == nullptr ? Connect() : Status::Ok();
    if (status.ok()) status = PublishBatch(events);
    const uint64_t now_ns = SystemClock::Instance().MonotonicNs();
    if (status.ok() && now_ns - cursor_stored_ns_ >= options_.cursor_interval_ms * 1'000'000) {
        status = StoreCursor(position);
        if (status.ok()) {
            cursor_stored_ = position;
            cursor_stored_ns_ = now_ns;
        }
    }
    if (!status.ok()) {
        Disconnect();
        std::lock_guard lock(mutex_);
        ++stats_.failures;
        return status;
    }
    const uint64_t now = SystemClock::Instance().RealtimeNs();
    std::lock_guard lock(mutex_);
    stats_.published += events.size();
    for (const Event& event : events) {
        const uint64_t lag = now > event.txn.created_at ? now - event.txn.created_at : 0;
        if (lag_samples_.size() < kLagSamplesMax) {
            lag_samples_.push_back(lag);
        } else {
            lag_samples_[lag_next_] = lag;
        }
        lag_next_ = (lag_next_ + 1) % kLagSamplesMax;
        stats_.lag_ns_last = lag;
        stats_.lag_ns_max = std::max(stats_.lag_ns_max, lag);
    }
    return Status::Ok();
}

}  // namespace bursar::events
