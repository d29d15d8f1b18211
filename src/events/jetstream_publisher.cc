#include "events/jetstream_publisher.h"

#include <nats/nats.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/assert.h"
#include "base/clock.h"
#include "base/json_writer.h"
#include "base/u128.h"
#include "ledger/currency.h"

namespace bursar::events {

namespace {

constexpr const char* kMsgIdHeader = "Nats-Msg-Id";
constexpr const char* kExpectedLastSequenceHeader = "Nats-Expected-Last-Sequence";
constexpr const char* kExpectedLastMsgIdHeader = "Nats-Expected-Last-Msg-Id";
// Messages published and not yet acknowledged, at most: at this many the publisher reads
// acknowledgments until half of them came. Bounds the client's write buffer (about 400 bytes a
// message) and the acknowledgments queued for the follower.
constexpr size_t kUnacknowledgedMax = 4096;
constexpr size_t kDecimalDigitsMax = 20;          // of a uint64_t
constexpr size_t kAcknowledgmentQuotedMax = 200;  // of a refusal, in the error
constexpr natsSock kNoSocket = -1;
// The bytes of the shortest reply to a publish, beyond the reply subject's prefix (<inbox>.): a
// "no responders" status, HMSG <prefix><index> <sid> 16 16\r\n NATS/1.0 503\r\n\r\n \r\n, with
// a one-digit index and sid. An acknowledgment, {"stream":"<name>", "seq":<n>} in a MSG, is
// longer.
constexpr size_t kReplyBytesMinBeyondPrefix = 34;
// SO_RCVLOWAT at most (the kernel holds it under half the receive buffer anyway).
constexpr size_t kReceiveLowMarkMax = 1 << 20;

// What the client asks of its event loop (here, the follower's thread) for the publishing
// connection's socket. Set in the client's calls, all made on that thread.
struct SocketInterest {
    natsSock socket = kNoSocket;
    bool read = false;
    bool write = false;
};

natsStatus AttachSocket(void** user_data, void* loop, natsConnection*, natsSock socket) {
    // Polling for reading starts with the attachment.
    auto* interest = static_cast<SocketInterest*>(loop);
    *interest = SocketInterest{.socket = socket, .read = true};
    *user_data = interest;
    return NATS_OK;
}

natsStatus ReadAddRemove(void* user_data, bool add) {
    static_cast<SocketInterest*>(user_data)->read = add;
    return NATS_OK;
}

natsStatus WriteAddRemove(void* user_data, bool add) {
    static_cast<SocketInterest*>(user_data)->write = add;
    return NATS_OK;
}

natsStatus DetachSocket(void* user_data) {
    *static_cast<SocketInterest*>(user_data) = SocketInterest{};
    return NATS_OK;
}

Status NatsError(const std::string& what, natsStatus status) {
    return Status(StatusCode::kIoError, what + ": " + natsStatus_GetText(status));
}

void AppendDecimal(uint64_t value, std::string* out) {
    char digits[kDecimalDigitsMax];
    const auto result = std::to_chars(digits, digits + sizeof(digits), value);
    out->append(digits, result.ptr);
}

}  // namespace

// The publishing connection, owned by the follower's thread (and by Stop() after it ended).
struct JetStreamPublisher::Nats {
    SocketInterest interest;  // the event loop's state: filled by the client
    natsConnection* connection = nullptr;
    natsSubscription* acknowledgments = nullptr;  // synchronous, on <inbox>.*
    std::string reply_prefix;                     // <inbox>.
    std::vector<bool> acknowledged;               // the batch's messages
    size_t acknowledged_count = 0;
    int receive_low_mark = 1;  // the socket's SO_RCVLOWAT, in bytes
    // Messages published or acknowledgments read, destroyed together: the client frees every
    // message on its collector thread, woken by the first of a run of destructions, so one run
    // per wait for acknowledgments wakes it once instead of once a message.
    std::vector<natsMsg*> spent;

    void DestroySpent() {
        for (natsMsg* message : spent) natsMsg_Destroy(message);
        spent.clear();
    }
};

bool AcknowledgesStored(std::string_view acknowledgment, std::string_view stream) {
    constexpr std::string_view kStreamField = R"({"stream":")";
    return acknowledgment.starts_with(kStreamField) &&
           acknowledgment.substr(kStreamField.size()).starts_with(stream) &&
           acknowledgment.substr(kStreamField.size() + stream.size()).starts_with('"') &&
           acknowledgment.find(R"("error")") == std::string_view::npos;
}

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
    BURSAR_RETURN_IF_ERROR(EnsureStream());
    natsOptions* options = nullptr;
    natsStatus status = natsOptions_Create(&options);
    if (status == NATS_OK) status = natsOptions_SetURL(options, options_.url.c_str());
    // The follower's thread is the connection's event loop, and what is published is written when
    // it waits for the acknowledgments: no read, flush or delivery thread.
    if (status == NATS_OK) {
        status = natsOptions_SetEventLoop(options, &nats_->interest, AttachSocket, ReadAddRemove,
                                          WriteAddRemove, DetachSocket);
    }
    if (status == NATS_OK) status = natsOptions_SetSendAsap(options, true);
    // After any failure the publisher starts again from the cursor on a new connection, and a
    // dead server shows as acknowledgments that do not come: no reconnect thread, and no pings
    // from the client's timer thread (the server's are answered when publishing).
    if (status == NATS_OK) status = natsOptions_SetAllowReconnect(options, false);
    if (status == NATS_OK) status = natsOptions_SetPingInterval(options, 0);
    if (status == NATS_OK) status = natsConnection_Connect(&nats_->connection, options);
    natsOptions_Destroy(options);
    if (status != NATS_OK) return NatsError("connect to " + options_.url, status);
    nats_->receive_low_mark = 1;  // a new socket's

    natsInbox* inbox = nullptr;
    status = natsInbox_Create(&inbox);
    if (status == NATS_OK) {
        nats_->reply_prefix = std::string(inbox) + ".";
        natsInbox_Destroy(inbox);
        status = natsConnection_SubscribeSync(&nats_->acknowledgments, nats_->connection,
                                              (nats_->reply_prefix + "*").c_str());
    }
    if (status != NATS_OK) return NatsError("subscribe to acknowledgments", status);
    std::lock_guard lock(mutex_);
    stats_.connected = true;
    return Status::Ok();
}

Status JetStreamPublisher::EnsureStream() {
    natsConnection* connection = nullptr;
    jsCtx* js = nullptr;
    jsStreamInfo* info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    natsStatus status = natsConnection_ConnectTo(&connection, options_.url.c_str());
    if (status == NATS_OK) status = natsConnection_JetStream(&js, connection, nullptr);
    if (status == NATS_OK) {
        status = js_GetStreamInfo(&info, js, options_.stream.c_str(), nullptr, &error);
    }
    if (status == NATS_NOT_FOUND) {
        jsStreamInfo_Destroy(info);
        info = nullptr;
        jsStreamConfig config;
        jsStreamConfig_Init(&config);
        const char* subjects[] = {kSubject};
        config.Name = options_.stream.c_str();
        config.Subjects = subjects;
        config.SubjectsLen = 1;
        config.Storage = js_FileStorage;
        config.Duplicates = static_cast<int64_t>(options_.duplicate_window_ns);
        status = js_AddStream(&info, js, &config, nullptr, &error);
    }
    // Where the stream ends, and the transaction of its last message.
    Status found;
    natsMsg* last = nullptr;
    if (status == NATS_OK) {
        stream_last_seq_ = info->State.LastSeq;
        stored_txn_ = 0;
        sent_id_.clear();
        status = js_GetLastMsg(&last, js, options_.stream.c_str(), kSubject, nullptr, &error);
        if (status == NATS_NOT_FOUND) {
            status = NATS_OK;  // nothing of ours in it yet
        } else if (status == NATS_OK) {
            const char* id = nullptr;
            natsMsgHeader_Get(last, kMsgIdHeader, &id);
            const std::optional<uint64_t> txn = ParseEventId(id != nullptr ? id : "");
            if (txn) {
                stored_txn_ = *txn;
            } else {
                found = Status(StatusCode::kCorruption,
                               "stream " + options_.stream + ": its last message (sequence " +
                                   std::to_string(natsMsg_GetSequence(last)) +
                                   ") is not an event of this publisher: no event id");
            }
        }
    }
    natsMsg_Destroy(last);
    jsStreamInfo_Destroy(info);
    jsCtx_Destroy(js);
    natsConnection_Destroy(connection);
    if (status != NATS_OK) return NatsError("stream " + options_.stream, status);
    return found;
}

void JetStreamPublisher::Disconnect() {
    nats_->DestroySpent();
    natsSubscription_Destroy(nats_->acknowledgments);
    natsConnection_Destroy(nats_->connection);
    nats_->acknowledgments = nullptr;
    nats_->connection = nullptr;
    std::lock_guard lock(mutex_);
    stats_.connected = false;
}

Status JetStreamPublisher::PublishBatch(const std::vector<Event>& events) {
    nats_->acknowledged.assign(events.size(), false);
    nats_->acknowledged_count = 0;
    std::string reply = nats_->reply_prefix;
    std::string id;
    std::string expected;
    uint64_t skipped = 0;
    for (size_t i = 0; i < events.size(); ++i) {
        if (events[i].txn.id <= stored_txn_) {
            // In the stream already: read again after a crash or a failed batch.
            nats_->acknowledged[i] = true;
            ++nats_->acknowledged_count;
            ++skipped;
            continue;
        }
        if (i - nats_->acknowledged_count >= kUnacknowledgedMax) {
            BURSAR_RETURN_IF_ERROR(AwaitAcknowledgments(events, i - kUnacknowledgedMax / 2));
        }
        body_.clear();
        encoder_.Append(events[i], &body_);
        reply.resize(nats_->reply_prefix.size());
        AppendDecimal(i, &reply);
        id = kEventIdPrefix;
        AppendDecimal(events[i].txn.id, &id);
        natsMsg* message = nullptr;
        natsStatus status = natsMsg_Create(&message, kSubject, reply.c_str(), body_.data(),
                                           static_cast<int>(body_.size()));
        if (status == NATS_OK) status = natsMsgHeader_Set(message, kMsgIdHeader, id.c_str());
        // The first message on a connection must follow the stream's last sequence number as
        // read on connecting (the server keeps it across restarts; it cannot say "empty"), each
        // later one the message sent before it (the server's last message id, set by storing it).
        if (status == NATS_OK && !sent_id_.empty()) {
            status = natsMsgHeader_Set(message, kExpectedLastMsgIdHeader, sent_id_.c_str());
        } else if (status == NATS_OK && stream_last_seq_ > 0) {
            AppendDecimal(stream_last_seq_, &expected);
            status = natsMsgHeader_Set(message, kExpectedLastSequenceHeader, expected.c_str());
        }
        if (status == NATS_OK) status = natsConnection_PublishMsg(nats_->connection, message);
        nats_->spent.push_back(message);
        if (status != NATS_OK) return NatsError("publish " + id, status);
        sent_id_ = id;
    }
    if (skipped > 0) {
        std::lock_guard lock(mutex_);
        stats_.skipped += skipped;
    }
    return AwaitAcknowledgments(events, events.size());
}

Status JetStreamPublisher::AwaitAcknowledgments(const std::vector<Event>& events, size_t count) {
    Status status = PumpUntilAcknowledged(events, count);
    nats_->DestroySpent();
    SetReceiveLowMark(1);
    return status;
}

Status JetStreamPublisher::PumpUntilAcknowledged(const std::vector<Event>& events, size_t count) {
    const uint64_t deadline_ns = SystemClock::Instance().MonotonicNs() +
                                 static_cast<uint64_t>(options_.ack_wait_ms) * 1'000'000;
    while (true) {
        BURSAR_RETURN_IF_ERROR(TakeAcknowledgments(events));
        if (nats_->acknowledged_count >= count) return Status::Ok();
        const uint64_t now_ns = SystemClock::Instance().MonotonicNs();
        if (now_ns >= deadline_ns) {
            return Status(StatusCode::kIoError,
                          "acknowledgments: " + std::to_string(nats_->acknowledged_count) + " of " +
                              std::to_string(count) + " after " +
                              std::to_string(options_.ack_wait_ms) + " ms");
        }
        const uint64_t remaining_ms = (deadline_ns - now_ns + 999'999) / 1'000'000;
        SetReceiveLowMark(count - nats_->acknowledged_count);
        BURSAR_RETURN_IF_ERROR(ServiceSocket(static_cast<int>(remaining_ms)));
    }
}

Status JetStreamPublisher::TakeAcknowledgments(const std::vector<Event>& events) {
    uint64_t queued = 0;
    natsStatus status = natsSubscription_QueuedMsgs(nats_->acknowledgments, &queued);
    for (; status == NATS_OK && queued > 0; --queued) {
        natsMsg* message = nullptr;
        status = natsSubscription_NextMsg(&message, nats_->acknowledgments, 0);
        if (status != NATS_OK) break;
        // The reply subject names the message: <inbox>.<index in the batch>.
        const std::string_view subject = natsMsg_GetSubject(message);
        const std::string_view body(natsMsg_GetData(message),
                                    static_cast<size_t>(natsMsg_GetDataLength(message)));
        size_t index = events.size();
        if (subject.starts_with(nats_->reply_prefix)) {
            const char* end = subject.data() + subject.size();
            const auto parsed =
                std::from_chars(subject.data() + nats_->reply_prefix.size(), end, index);
            if (parsed.ec != std::errc() || parsed.ptr != end) index = events.size();
        }
        Status taken;
        if (index >= events.size() || nats_->acknowledged[index]) {
            taken = Status(StatusCode::kIoError,
                           "acknowledgment on " + std::string(subject) + " matches no message");
        } else if (!AcknowledgesStored(body, options_.stream)) {
            const std::string reply = natsMsg_IsNoResponders(message)
                                          ? std::string("no stream takes ") + kSubject
                                          : std::string(body.substr(0, kAcknowledgmentQuotedMax));
            taken = Status(StatusCode::kIoError,
                           "JetStream refused " + events[index].EventId() + ": " + reply);
        } else {
            nats_->acknowledged[index] = true;
            ++nats_->acknowledged_count;
        }
        nats_->spent.push_back(message);
        BURSAR_RETURN_IF_ERROR(taken);
    }
    if (status != NATS_OK) return NatsError("acknowledgments", status);
    return Status::Ok();
}

void JetStreamPublisher::SetReceiveLowMark(size_t replies_missing) {
    const size_t bytes =
        replies_missing <= 1
            ? 1
            : std::min<size_t>(
                  (replies_missing - 1) * (nats_->reply_prefix.size() + kReplyBytesMinBeyondPrefix),
                  kReceiveLowMarkMax);
    const int low_mark = static_cast<int>(bytes);
    if (nats_->interest.socket == kNoSocket || low_mark == nats_->receive_low_mark) return;
    // Best effort: where it fails the socket wakes the follower on every byte, as by default.
    if (::setsockopt(nats_->interest.socket, SOL_SOCKET, SO_RCVLOWAT, &low_mark,
                     sizeof(low_mark)) == 0) {
        nats_->receive_low_mark = low_mark;
    }
}

Status JetStreamPublisher::ConnectionOpen() const {
    if (!natsConnection_IsClosed(nats_->connection) && nats_->interest.socket != kNoSocket) {
        return Status::Ok();
    }
    const char* text = nullptr;
    natsConnection_GetLastError(nats_->connection, &text);
    return Status(StatusCode::kIoError,
                  std::string("connection closed: ") + (text != nullptr ? text : ""));
}

Status JetStreamPublisher::ServiceSocket(int timeout_ms) {
    BURSAR_RETURN_IF_ERROR(ConnectionOpen());
    const SocketInterest& interest = nats_->interest;
    pollfd descriptor{
        .fd = interest.socket,
        .events = static_cast<short>((interest.read ? POLLIN : 0) | (interest.write ? POLLOUT : 0)),
        .revents = 0};
    const int ready = ::poll(&descriptor, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) {
        return Status(StatusCode::kIoError, std::string("poll: ") + std::strerror(errno));
    }
    if (ready <= 0) return Status::Ok();
    if ((descriptor.revents & POLLNVAL) != 0) {
        return Status(StatusCode::kIoError, "poll: the connection's socket is not open");
    }
    if ((descriptor.revents & POLLOUT) != 0) natsConnection_ProcessWriteEvent(nats_->connection);
    if ((descriptor.revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
        natsConnection_ProcessReadEvent(nats_->connection);
    }
    return ConnectionOpen();
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
    // The server's pings while the publisher was idle are answered now; a connection it closed
    // meanwhile is replaced at once.
    if (nats_->connection != nullptr && !ServiceSocket(0).ok()) Disconnect();
    Status status = nats_->connection == nullptr ? Connect() : Status::Ok();
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
    for (const Event& event : events) {
        if (event.txn.id <= stored_txn_) continue;  // skipped, not published now
        ++stats_.published;
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
