#pragma once

// Publishes the event stream to NATS JetStream (issue 4): subject payments.events.v1, message id =
// event id. The position of the last record whose events were all acknowledged is kept in a
// file; after a crash or a lost connection the publisher reads the journal again from there. The
// file is rewritten (and fsynced) at most every `cursor_interval_ms` and at Stop(), so up to that
// much is read again after a crash; none of it is sent twice, however long bursar was down:
// - on every connection the publisher asks the stream for its last message, and skips the events
//   up to that one's (transaction ids grow in commit order);
// - every message says what it must follow in the stream: the first on a connection the
//   stream's last sequence number (Nats-Expected-Last-Sequence), each later one the message
//   sent before it (Nats-Expected-Last-Msg-Id); so the stream refuses anything after a message
//   it did not store, and what it holds of ours is a prefix of the events whose end its last
//   message names.
// The stream's duplicate window (message id = event id) is a second guard. The stream is the
// publisher's own: a message of another publisher on it stops publishing until an operator
// looks. A slow or absent NATS server never blocks the engine: the publisher reads the journal
// at its own pace.
//
// The publishing connection is driven from the follower's thread (the NATS client's event-loop
// interface): the client starts no read, flush or delivery thread for it. Each message of a batch
// asks for its acknowledgment on its own reply subject (<inbox>.<index in the batch>), which the
// follower reads from a synchronous subscription while it waits.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_system.h"
#include "engine/engine.h"
#include "events/event.h"
#include "events/follower.h"

namespace bursar::events {

struct JetStreamOptions {
    std::string url;  // e.g. nats://127.0.0.1:4222
    std::string stream = "PAYMENTS";
    uint64_t duplicate_window_ns = 120ull * 1'000'000'000;  // re-sends within it are dropped
    int64_t ack_wait_ms = 5000;          // waiting for acknowledgments, before the batch fails
    uint64_t records_per_batch = 256;    // journal records published between two cursor writes
    uint64_t retry_ms = 1000;            // after a failure, before starting again from the cursor
    uint64_t linger_ms = 5;              // committed work collected per publish (adds to the lag)
    uint64_t cursor_interval_ms = 1000;  // between two durable cursor writes
};

// Whether a JetStream publish acknowledgment says the message is stored in `stream`:
// {"stream":"PAYMENTS", "seq":7} or, for a re-sent one, {"stream":"PAYMENTS", "seq":7,
// "duplicate": true}; not an API error ({"error":{...},...}) nor an empty "no responders" reply.
bool AcknowledgesStored(std::string_view acknowledgment, std::string_view stream);

struct JetStreamStats {
    uint64_t position = 0;   // journal record whose events are all acknowledged
    uint64_t published = 0;  // events acknowledged by this process
    uint64_t skipped = 0;    // events read again that the stream held already: not sent
    uint64_t failures = 0;   // batches started again
    bool connected = false;
    uint64_t lag_ns_last = 0;  // commit of the batch's last event -> its acknowledgment
    uint64_t lag_ns_max = 0;
    uint64_t lag_ns_p50 = 0;  // over the last kLagSamplesMax events
    uint64_t lag_ns_p99 = 0;
};

class JetStreamPublisher {
  public:
    static constexpr size_t kLagSamplesMax = 1 << 16;  // the lag percentiles' window, in events

    JetStreamPublisher(FileSystem& fs, const engine::Engine& engine, std::string data_dir,
                       JetStreamOptions options, std::function<void(const std::string&)> log);
    ~JetStreamPublisher();

    // Reads the cursor and starts publishing from it (connecting, and reconnecting, as needed).
    Status Start();
    void Stop();
    JetStreamStats stats() const;
    bool WaitFor(uint64_t seq, uint64_t timeout_ms) const;

    static std::string CursorPath(const std::string& data_dir);

  private:
    struct Nats;  // the NATS client's objects, kept out of this header
    // One batch, on the follower's thread: connects when needed, publishes, waits for the
    // acknowledgments, stores the cursor. A failure disconnects; the batch is read again.
    Status Apply(const std::vector<Event>& events, uint64_t position);
    Status Connect();
    // Creates the stream when missing, over a connection of its own (the JetStream API waits
    // for replies that only the follower's thread would read on the publishing connection), and
    // reads where it ends: stream_last_seq_ and stored_txn_.
    Status EnsureStream();
    void Disconnect();
    Status PublishBatch(const std::vector<Event>& events);
    // Drives the connection until the first `count` messages of the batch are acknowledged as
    // stored; fails on a refusal, a lost connection, or after ack_wait_ms. Then destroys the
    // messages spent meanwhile.
    Status AwaitAcknowledgments(const std::vector<Event>& events, size_t count);
    Status PumpUntilAcknowledged(const std::vector<Event>& events, size_t count);
    Status TakeAcknowledgments(const std::vector<Event>& events);
    // Makes the socket readable only once `replies_missing` replies can all have arrived
    // (SO_RCVLOWAT), so that the follower wakes once for a run of acknowledgments instead of
    // once for every few: all but one of them are still to come whole (the client may have read
    // the start of one), and none is shorter than the shortest reply to a publish.
    void SetReceiveLowMark(size_t replies_missing);
    // Waits up to `timeout_ms` for the socket, then lets the client write and read what it can;
    // fails when the connection is closed.
    Status ServiceSocket(int timeout_ms);
    Status ConnectionOpen() const;
    Status StoreCursor(uint64_t seq);

    FileSystem& fs_;
    std::string data_dir_;
    JetStreamOptions options_;
    std::unique_ptr<Nats> nats_;
    mutable std::mutex mutex_;
    JetStreamStats stats_;               // guarded; position comes from the follower
    std::vector<uint64_t> lag_samples_;  // a ring of the last kLagSamplesMax lags, guarded
    size_t lag_next_ = 0;
    uint64_t cursor_stored_ = 0;     // follower thread (then Stop()): position in the cursor file
    uint64_t cursor_stored_ns_ = 0;  // when it was written (monotonic)
    // Follower thread, set on connecting: the stream's last sequence number, and the transaction
    // of its last message (0: none). Events up to stored_txn_ are skipped; the first message
    // sent expects the stream to end at stream_last_seq_, each later one at the message id
    // sent before it, sent_id_ (empty until the first is sent).
    uint64_t stream_last_seq_ = 0;
    uint64_t stored_txn_ = 0;
    std::string sent_id_;
    EventJsonEncoder encoder_;  // follower thread
    std::string body_;          // follower thread: the message being published
    Follower follower_;
};

}  // namespace bursar::events
