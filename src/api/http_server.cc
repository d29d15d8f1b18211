// Only this file of the project includes Boost (Beast and Asio): http_server.h keeps them out of
// every file that uses the server.

#include "api/http_server.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/websocket_frame.h"
#include "api/websocket_protocol.h"
#include "base/assert.h"
#include "base/thread.h"

namespace bursar::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Milliseconds = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
// Each io thread runs its own io_context, and a connection lives on one of them from accept to
// close: its handlers never run concurrently, so no strand is needed, and the executor is the
// io_context's own (no type erasure).
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Timer = asio::basic_waitable_timer<SteadyClock, asio::wait_traits<SteadyClock>, Executor>;

// Pending connections the kernel queues before accept().
constexpr int kListenBacklog = 1024;
// Room in a session's read buffer beyond header_bytes_max: one read may bring this much more.
constexpr size_t kReadBufferSlackBytes = 64 << 10;
// A response head (status line and headers) is built in a string reserved this large.
constexpr size_t kResponseHeadBytes = 256;
// After the last response of a connection the session stops sending and reads what the client
// still sends, so that closing does not reset the connection and destroy that response before
// the client reads it. Bounded in time and bytes.
constexpr uint32_t kLingerTimeoutMs = 2'000;
constexpr size_t kLingerBytesMax = 256 << 10;
constexpr size_t kLingerChunkBytes = 4 << 10;
// Connections over connections_max still being told 503; further ones are closed at once.
constexpr uint32_t kRejectingConnectionsMax = 64;
// After a failed accept (e.g. out of file descriptors) the listener waits this long to retry.
constexpr uint32_t kAcceptRetryDelayMs = 100;
// Stop(): how long closing every connection may take once the graceful wait is over.
constexpr uint32_t kHardCloseWaitMs = 1'000;
constexpr size_t kRequestIdBytesMax = 64;
constexpr uint32_t kHeaderBytesMin = 256;
// A handler's status must be a final one.
constexpr int kStatusMin = 200;
constexpr int kStatusMax = 599;
constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr int kSwitchingProtocolsStatus = 101;
constexpr std::string_view kWebSocketVersion = "13";
// A Sec-WebSocket-Key is the base64 of 16 bytes.
constexpr size_t kWebSocketKeyBytesMax = 24;
// RFC 6455 (websocket_protocol.h) and the close codes of this server.
using namespace rfc6455;  // NOLINT(google-build-using-namespace): the protocol's constants
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseMessageTooBig = 1009;
// What one read of a WebSocket connection takes at most.
constexpr size_t kWebSocketReadBytes = 4 << 10;

class Session;
class WebSocketSession;

// A connection's deadline timer, armed only when something waits, and not armed again for a
// later time while a wait for an earlier one is pending: that wait fires, and the owner, finding
// its deadline later, arms again. A wait made stale by a later Arm() or by Cancel() does nothing.
class LazyTimer {
  public:
    explicit LazyTimer(const Executor& executor) : timer_(executor) {}

    // `fire` runs when the wait ends at `expiry`; it holds what keeps the owner (and this timer)
    // alive, such as the owner's shared_ptr.
    template <typename Fire>
    void Arm(SteadyClock::time_point expiry, Fire fire) {
        if (armed_ && expiry_ <= expiry) return;
        ++generation_;
        armed_ = true;
        expiry_ = expiry;
        timer_.expires_at(expiry);
        timer_.async_wait([this, generation = generation_,
                           fire = std::move(fire)](beast::error_code error) mutable {
            if (generation != generation_) return;
            armed_ = false;
            if (!error) fire();
        });
    }

    void Cancel() {
        ++generation_;
        armed_ = false;
        timer_.cancel();
    }

  private:
    Timer timer_;
    SteadyClock::time_point expiry_{};  // what the timer is armed for, when armed
    bool armed_ = false;
    uint64_t generation_ = 0;  // a wait whose generation is not this one is stale
};

// What Stop() needs of a connection: an HTTP session, or the WebSocket session that took an
// upgraded HTTP session's place in the registry.
class Connection {
  public:
    virtual ~Connection() = default;
    // Any thread: each posts to the connection's strand.
    virtual void BeginShutdown() = 0;  // close when idle; a WebSocket closes with 1001
    virtual void HardClose() = 0;
    // The strand, or Stop() once the io threads are joined. Unregisters; idempotent.
    virtual void Close() = 0;
};

// One io thread: its io_context, and the answers other threads hand to its connections. Answers
// are queued and the thread is woken once for all that arrive until it runs (a batch of the
// engine completes many requests at once), instead of once per answer.
class IoThread {
  public:
    IoThread() : context_(1) {}
    asio::io_context& context() { return context_; }
    Executor executor() { return context_.get_executor(); }
    // Any thread. The session's OnHandlerResponse() runs on this thread later.
    void Deliver(std::shared_ptr<Session> session, uint64_t request_number, HttpResponse response);

  private:
    struct Delivery {
        std::shared_ptr<Session> session;
        uint64_t request_number;
        HttpResponse response;
    };
    void Drain();  // the io thread

    // First member: destroyed last, after the sessions the deliveries hold.
    asio::io_context context_;
    std::mutex mutex_;
    std::vector<Delivery> inbox_;     // guarded
    bool drain_posted_ = false;       // guarded
    std::vector<Delivery> draining_;  // the io thread's; swapped with inbox_ to keep both buffers
};

// What the listener, the sessions and Stop() share. Sessions reach it only from the io threads
// and from Stop(): never from their destructor, which may run after the server is gone.
struct ServerCore {
    ServerCore(HttpServerOptions server_options, Handler server_handler);

    void Log(const std::string& line) const;
    std::string NewRequestId();
    void CountResponse(int status);

    // Registers an accepted connection; null when stopping or when it must be dropped at once.
    std::shared_ptr<Session> Register(Socket socket, IoThread& io_thread);
    void Unregister(uint64_t session_id, bool rejected);
    // Puts `connection` in the place of the registered session `session_id` (an upgrade); false,
    // and nothing changed, when stopping.
    bool Replace(uint64_t session_id, std::shared_ptr<Connection> connection);
    // Sets `stopping`, so that no session registers afterwards.
    void BeginStopping();
    std::vector<std::shared_ptr<Connection>> LiveSessions();
    void WaitForNoSessions(uint32_t timeout_ms);
    // The upgrade handler for this path, or null.
    const UpgradeHandler* FindUpgradeHandler(const std::string& path) const;

    const HttpServerOptions options;
    const Handler handler;
    // Written by SetUpgradeHandler() before the io threads start; read-only afterwards.
    std::unordered_map<std::string, UpgradeHandler> upgrade_handlers;
    std::atomic<bool> stopping{false};

    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> responses_by_class[5] = {};
    std::atomic<uint64_t> connections_accepted{0};
    std::atomic<uint64_t> connections_open{0};
    std::atomic<uint64_t> connections_rejected{0};
    std::atomic<uint64_t> websocket_connections_accepted{0};
    std::atomic<uint64_t> websocket_connections_open{0};
    std::atomic<uint64_t> websocket_connections_closed_slow{0};

  private:
    std::mutex registry_mutex_;
    std::condition_variable registry_cv_;
    std::unordered_map<uint64_t, std::weak_ptr<Connection>> sessions_;  // guarded
    uint64_t next_session_id_ = 0;                                      // guarded
    uint32_t rejecting_ = 0;                                            // guarded

    const std::string request_id_prefix_;
    std::atomic<uint64_t> next_request_id_{0};
};

// The sink an upgrade handler's caller holds: a bounded queue between the publishing threads and
// the connection's strand. It refers to its WebSocketSession only from the handshake to the
// connection's close (Attach() to Detach()) and posts to the io_context only then, under its
// mutex; every session is closed before Stop() returns, so a sink kept longer never touches the
// io_context.
class WebSocketOutbox final : public WebSocketSink {
  public:
    struct Limits {
        uint32_t messages_max;
        uint64_t bytes_max;
    };
    struct CloseRequest {
        uint16_t code;
        std::string reason;
        bool too_slow;  // the queue was full
    };
    // What the connection sends next: the queued messages in order, then a close when asked for.
    struct Next {
        std::vector<std::string> messages;
        std::optional<CloseRequest> close;
        bool empty() const { return messages.empty() && !close.has_value(); }
    };

    explicit WebSocketOutbox(Limits limits) : limits_(limits) {}
    // For an accept that comes too late: closed from the start.
    static std::shared_ptr<WebSocketOutbox> MakeClosed();

    WebSocketSendResult Send(std::string text) override;
    void Close(uint16_t code, std::string reason) override;
    bool open() const override;

    // The session's io thread, once the handshake is done; the session calls WriteNext() next.
    // False when the outbox was detached meanwhile.
    bool Attach(std::shared_ptr<WebSocketSession> session);
    // The session's io thread: moves everything queued into `next` (cleared first, its buffers
    // kept). Empty means the session is idle until the next wake-up.
    void TakeNext(Next* next);
    // Any thread; final: closed, the queue dropped, the session let go.
    void Detach();

  private:
    // Posts WriteNext() to the session unless it is not attached or already awake.
    void WakeLocked();

    const Limits limits_;
    mutable std::mutex mutex_;
    std::deque<std::string> queue_;  // guarded; behind the message being written, if any
    uint64_t queue_bytes_ = 0;       // guarded
    bool open_ = true;               // guarded; false once closing started
    bool detached_ = false;          // guarded
    std::optional<CloseRequest> close_request_;  // guarded; not yet taken by the session
    // Guarded: a WriteNext() is posted or running, or a write is in flight, so that a Send()
    // needs not post another.
    bool awake_ = false;
    std::shared_ptr<WebSocketSession> session_;  // guarded; from Attach() to Detach()
};

// The meeting point of a handler's Responder (and, for an upgrade, its accept) and the session
// waiting for its answer. It holds the session until the first answer, the timeout, the
// connection's close or Stop(), whichever comes first; after that every answer is dropped.
class ReplySlot {
  public:
    ReplySlot(std::shared_ptr<Session> session, uint64_t request_number,
              WebSocketOutbox::Limits outbox_limits)
        : session_(std::move(session)),
          request_number_(request_number),
          outbox_limits_(outbox_limits) {}
    void Deliver(HttpResponse response);  // any thread
    void DeliverDropped();                // any thread: the Responder died unused
    // Any thread: the upgrade handler accepted. The outbox stays here until the session takes
    // it, so that Detach() closes it if the session never does.
    std::shared_ptr<WebSocketSink> Accept();
    std::shared_ptr<WebSocketOutbox> TakeAccepted();  // the session's strand
    void Detach();  // the session's strand, or Stop() after the io threads

  private:
    void PostLocked(HttpResponse response);

    std::mutex mutex_;
    std::shared_ptr<Session> session_;           // guarded; null once answered or detached
    std::shared_ptr<WebSocketOutbox> accepted_;  // guarded; accepted, not yet taken
    const uint64_t request_number_;
    const WebSocketOutbox::Limits outbox_limits_;
};

// Owned by every copy of one Responder: when the last copy goes, an unanswered request gets 500.
struct ResponderToken {
    explicit ResponderToken(std::shared_ptr<ReplySlot> reply_slot) : slot(std::move(reply_slot)) {}
    ~ResponderToken() { slot->DeliverDropped(); }
    ResponderToken(const ResponderToken&) = delete;
    ResponderToken& operator=(const ResponderToken&) = delete;
    std::shared_ptr<ReplySlot> slot;
};

bool IsTokenCharacter(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidHeaderName(std::string_view name) {
    if (name.empty()) return false;
    for (const char c : name) {
        if (!IsTokenCharacter(c)) return false;
    }
    return true;
}

bool IsValidHeaderValue(std::string_view value) {
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t') || byte == 0x7F) return false;
    }
    return true;
}

// Headers the server writes itself.
bool IsServerOwnedHeader(std::string_view name) {
    return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
           beast::iequals(name, "connection") || beast::iequals(name, "x-request-id");
}

bool IsValidRequestId(std::string_view id) {
    if (id.empty() || id.size() > kRequestIdBytesMax) return false;
    for (const char c : id) {
        const bool alphanumeric =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alphanumeric && c != '-' && c != '_' && c != '.' && c != ':') return false;
    }
    return true;
}

// What Beast's handshake checks beyond websocket::is_upgrade(): a bad upgrade request gets 400
// before the upgrade handler sees it, rather than failing after the handler accepted it.
bool IsValidWebSocketUpgrade(const http::request<http::string_body>& request) {
    const std::string_view key = request[http::field::sec_websocket_key];
    return !key.empty() && key.size() <= kWebSocketKeyBytesMax &&
           request[http::field::sec_websocket_version] == kWebSocketVersion;
}

std::string Lowercase(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return lower;
}

std::string RandomHex32() {
    std::random_device random;
    char text[9];
    std::snprintf(text, sizeof(text), "%08x", static_cast<unsigned>(random()));
    return text;
}

// One HTTP connection. Every member function runs on the session's io thread, except where
// noted.
//
// Reads are readiness-driven: the session waits until the socket is readable, then parses what a
// non-blocking read brings; a response is written at once when the socket takes it whole (the
// usual case), else asynchronously. Timeouts use one deadline per state and one timer that is
// re-armed only when a deadline comes before the time it is armed for, so a keep-alive request
// costs no timer operation.
class Session final : public Connection, public std::enable_shared_from_this<Session> {
  public:
    Session(ServerCore& core, IoThread& io_thread, Socket socket, uint64_t id, bool rejected);

    uint64_t id() const { return id_; }
    bool rejected() const { return rejected_; }
    IoThread& io_thread() const { return io_thread_; }  // any thread

    // Any thread: each posts to the io thread.
    void Start();
    void BeginShutdown() override;
    void HardClose() override;

    void OnHandlerResponse(uint64_t request_number, HttpResponse response);
    // The upgrade handler accepted: the socket goes to a WebSocketSession.
    void OnUpgradeAccepted(uint64_t request_number);
    // Also called by Stop() once the io threads are joined.
    void Close() override;

  private:
    enum class State {
        kNew,
        kWaitingRequest,   // keep-alive idle, or a new connection: no byte of a request yet
        kReadingRequest,   // request_timeout_ms runs
        kAwaitingHandler,  // request_timeout_ms runs
        kWritingResponse,  // write_timeout_ms runs
        kLingering,        // the last response is written; draining what the client still sends
        kUpgraded,         // the socket and the place in the registry went to a WebSocketSession
        kClosed,
    };

    void WaitForRequest();
    void WaitReadable();
    void OnReadable(beast::error_code error);
    void StartRequest();
    void ReadRequest();
    void OnContinueWritten(beast::error_code error);
    void OnReadFailed(beast::error_code error);
    void OnRequest();
    void WriteResponse(HttpResponse response, bool close);
    void WriteError(const HttpError& error, std::string_view message, bool close);
    void OnWritten(beast::error_code error);
    void Linger();
    void ReadLinger();
    void OnLingerRead(beast::error_code error, size_t bytes);
    void DetachReply();
    // The state's deadline is `timeout_ms` from now.
    void SetDeadline(uint32_t timeout_ms);
    void ArmTimer();
    void OnTimer();

    ServerCore& core_;
    IoThread& io_thread_;
    Socket socket_;
    LazyTimer timer_;
    SteadyClock::time_point deadline_{};  // of the current state
    const uint64_t id_;
    const bool rejected_;  // over connections_max: answer 503 and close
    std::string remote_address_;

    State state_ = State::kNew;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    bool continue_checked_ = false;  // Expect: 100-continue looked at for the request being read
    std::string output_;             // the response being written: head, then body
    size_t output_written_ = 0;      // bytes of output_ the socket took synchronously
    bool timed_out_ = false;         // the request timer fired while reading
    bool served_any_ = false;
    bool close_after_write_ = false;
    size_t lingered_bytes_ = 0;

    // The request being answered.
    uint64_t request_number_ = 0;
    unsigned version_ = 11;
    bool keep_alive_ = false;
    bool head_request_ = false;
    std::string request_id_;
    std::shared_ptr<ReplySlot> reply_slot_;
    // An upgrade request, from its arrival to the upgrade handler's answer.
    std::optional<http::request<http::string_body>> upgrade_request_;
};

// One WebSocket connection: it took an upgraded HTTP session's socket and place in the registry.
// The frames are the server's own (websocket_frame.h; RFC 6455, no extensions): unmasked, and a
// write sends every message queued in the outbox at once, one frame each, in one system call
// where the socket takes it (a batch of events costs one write, not one per event). It reads only
// to answer control frames (pings, the close) and to notice the peer going away: what the client
// sends is skipped, a message over websocket_message_bytes_max closes with 1009, a frame that
// breaks the protocol with 1002. It pings a peer it heard nothing from for
// websocket_ping_interval_ms and cuts it off after another interval. Every member function runs
// on the io thread, except where noted.
class WebSocketSession final : public Connection,
                               public std::enable_shared_from_this<WebSocketSession> {
  public:
    WebSocketSession(ServerCore& core, IoThread& io_thread, uint64_t id, std::string request_id,
                     std::shared_ptr<WebSocketOutbox> outbox);

    Executor executor() const { return io_thread_.executor(); }  // any thread
    // Answers the upgrade request whose Sec-WebSocket-Key is `key` (101), then goes on.
    void Start(Socket socket, std::string_view key);
    // Writes what the outbox holds, unless a write is in flight (its completion comes back here).
    void WriteNext();

    // Any thread.
    void BeginShutdown() override;
    void HardClose() override;
    // Also called by Stop() once the io threads are joined.
    void Close() override;

  private:
    enum class State {
        kNew,
        kHandshake,  // the 101 response is written
        kOpen,
        kClosing,  // our close frame is queued or sent: waiting for the peer's
        kClosed,
    };

    struct CloseFrame {
        uint16_t code;
        std::string reason;
    };

    void OnHandshakeWritten();
    void Read();
    void OnRead(beast::error_code error, size_t bytes);
    // Handles what the parser finds in the bytes read so far.
    void HandleInput();
    void HandleControlFrame(uint8_t opcode, std::string_view payload);
    // A frame breaks the protocol: 1002, and the connection is closed once that is written.
    void FailProtocol(std::string_view what);
    // Sends a close frame with `code` next (a message too big, the answer to the peer's close).
    void StartClose(uint16_t code, std::string_view reason, bool too_slow);
    // Writes output_ from output_written_ on: true when the socket took it all at once, false
    // when the rest goes asynchronously (OnWritten() follows) or the write failed (closed).
    bool WriteOutput();
    void OnWritten(beast::error_code error);
    // Arms the timer for the earliest deadline that applies, unless it is armed earlier.
    void ScheduleTimer();
    void OnTimer();

    ServerCore& core_;
    IoThread& io_thread_;
    std::optional<Socket> socket_;  // from Start()
    LazyTimer timer_;
    const uint64_t id_;
    const std::string request_id_;  // the upgrade request's
    // Refers back to this session from the handshake until Close(), which breaks the cycle.
    const std::shared_ptr<WebSocketOutbox> outbox_;
    WebSocketOutbox::Next next_;  // what the outbox gave, reused

    State state_ = State::kNew;
    bool counted_open_ = false;
    // Reading.
    std::array<char, kWebSocketReadBytes> read_buffer_{};
    WebSocketFrameParser parser_;  // what was read and not yet handled: at most a control frame
    SteadyClock::time_point last_heard_{};  // when the peer last sent anything
    bool pinged_ = false;                   // a ping went out since then
    // Writing: frames go to output_; one write at a time.
    std::string output_;
    size_t output_written_ = 0;
    bool writing_ = false;
    SteadyClock::time_point write_deadline_{};
    std::string pong_;  // the payload of a ping to answer, when pong_due_
    bool pong_due_ = false;
    bool ping_due_ = false;
    std::optional<CloseFrame> close_due_;  // to go out next, before anything else queued
    bool close_written_ = false;           // our close frame is in output_ or sent
    // The peer's close frame came (or a protocol error): the connection ends once ours is out.
    bool peer_closed_ = false;
    SteadyClock::time_point closing_deadline_{};
};

// base64(SHA-1(key + kGuid)): what proves to the client that the server speaks WebSocket.
std::string WebSocketAcceptKey(std::string_view key) {
    std::string text(key);
    text += kGuid;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_bytes = 0;
    BURSAR_ASSERT(
        EVP_Digest(text.data(), text.size(), digest, &digest_bytes, EVP_sha1(), nullptr) == 1);
    unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    const int encoded_bytes = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_bytes));
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(encoded_bytes));
}

ServerCore::ServerCore(HttpServerOptions server_options, Handler server_handler)
    : options(std::move(server_options)),
      handler(std::move(server_handler)),
      request_id_prefix_(RandomHex32()) {}

void ServerCore::Log(const std::string& line) const {
    if (options.log) options.log(line);
}

std::string ServerCore::NewRequestId() {
    const uint64_t number = next_request_id_.fetch_add(1, std::memory_order_relaxed);
    char suffix[17];
    std::snprintf(suffix, sizeof(suffix), "%016llx", static_cast<unsigned long long>(number));
    return request_id_prefix_ + "-" + suffix;
}

void ServerCore::CountResponse(int status) {
    const int status_class = status / 100;
    BURSAR_ASSERT(status_class >= 1 && status_class <= 5);
    responses_by_class[status_class - 1].fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<Session> ServerCore::Register(Socket socket, IoThread& io_thread) {
    connections_accepted.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(registry_mutex_);
    if (stopping.load()) return nullptr;
    const bool reject = connections_open.load() >= options.connections_max;
    if (reject) {
        connections_rejected.fetch_add(1, std::memory_order_relaxed);
        if (rejecting_ >= kRejectingConnectionsMax) return nullptr;
        rejecting_++;
    } else {
        connections_open.fetch_add(1);
    }
    const uint64_t id = next_session_id_++;
    auto session = std::make_shared<Session>(*this, io_thread, std::move(socket), id, reject);
    sessions_.emplace(id, session);
    return session;
}

void ServerCore::Unregister(uint64_t session_id, bool rejected) {
    {
        std::lock_guard lock(registry_mutex_);
        const size_t erased = sessions_.erase(session_id);
        BURSAR_ASSERT(erased == 1);
        if (rejected) {
            BURSAR_ASSERT(rejecting_ > 0);
            rejecting_--;
        } else {
            BURSAR_ASSERT(connections_open.load() > 0);
            connections_open.fetch_sub(1);
        }
    }
    registry_cv_.notify_all();
}

bool ServerCore::Replace(uint64_t session_id, std::shared_ptr<Connection> connection) {
    std::lock_guard lock(registry_mutex_);
    if (stopping.load()) return false;
    const auto entry = sessions_.find(session_id);
    BURSAR_ASSERT(entry != sessions_.end());
    entry->second = connection;
    return true;
}

void ServerCore::BeginStopping() {
    std::lock_guard lock(registry_mutex_);
    stopping.store(true);
}

std::vector<std::shared_ptr<Connection>> ServerCore::LiveSessions() {
    std::vector<std::shared_ptr<Connection>> live;
    std::lock_guard lock(registry_mutex_);
    live.reserve(sessions_.size());
    for (const auto& [id, weak] : sessions_) {
        if (std::shared_ptr<Connection> session = weak.lock()) live.push_back(std::move(session));
    }
    return live;
}

const UpgradeHandler* ServerCore::FindUpgradeHandler(const std::string& path) const {
    const auto entry = upgrade_handlers.find(path);
    return entry == upgrade_handlers.end() ? nullptr : &entry->second;
}

void ServerCore::WaitForNoSessions(uint32_t timeout_ms) {
    std::unique_lock lock(registry_mutex_);
    registry_cv_.wait_for(lock, Milliseconds(timeout_ms), [&] { return sessions_.empty(); });
}

void IoThread::Deliver(std::shared_ptr<Session> session, uint64_t request_number,
                       HttpResponse response) {
    bool post = false;
    {
        std::lock_guard lock(mutex_);
        inbox_.push_back(Delivery{std::move(session), request_number, std::move(response)});
        post = !drain_posted_;
        drain_posted_ = true;
    }
    if (post) asio::post(context_, [this] { Drain(); });
}

void IoThread::Drain() {
    {
        std::lock_guard lock(mutex_);
        BURSAR_ASSERT(draining_.empty());
        std::swap(inbox_, draining_);
        drain_posted_ = false;
    }
    for (Delivery& delivery : draining_) {
        delivery.session->OnHandlerResponse(delivery.request_number, std::move(delivery.response));
    }
    draining_.clear();
}

void ReplySlot::Deliver(HttpResponse response) {
    std::lock_guard lock(mutex_);
    if (session_ == nullptr) return;
    PostLocked(std::move(response));
}

void ReplySlot::DeliverDropped() {
    std::lock_guard lock(mutex_);
    if (session_ == nullptr) return;
    PostLocked(ErrorResponse(kInternalError, "the handler dropped the request without answering"));
}

// Posting under the mutex: once Detach() returns, nothing more reaches the io_context.
void ReplySlot::PostLocked(HttpResponse response) {
    std::shared_ptr<Session> session = std::move(session_);
    IoThread& io_thread = session->io_thread();
    io_thread.Deliver(std::move(session), request_number_, std::move(response));
}

std::shared_ptr<WebSocketSink> ReplySlot::Accept() {
    std::lock_guard lock(mutex_);
    if (session_ == nullptr) return WebSocketOutbox::MakeClosed();
    accepted_ = std::make_shared<WebSocketOutbox>(outbox_limits_);
    std::shared_ptr<Session> session = std::move(session_);
    const Executor executor = session->io_thread().executor();
    asio::post(executor, [session = std::move(session), request_number = request_number_] {
        session->OnUpgradeAccepted(request_number);
    });
    return accepted_;
}

std::shared_ptr<WebSocketOutbox> ReplySlot::TakeAccepted() {
    std::lock_guard lock(mutex_);
    return std::move(accepted_);
}

void ReplySlot::Detach() {
    // Let go after the unlock: the last reference to the session may be here.
    std::shared_ptr<Session> released;
    std::shared_ptr<WebSocketOutbox> abandoned;
    {
        std::lock_guard lock(mutex_);
        released = std::move(session_);
        abandoned = std::move(accepted_);
    }
    if (abandoned != nullptr) abandoned->Detach();
}

std::shared_ptr<WebSocketOutbox> WebSocketOutbox::MakeClosed() {
    auto outbox = std::make_shared<WebSocketOutbox>(Limits{.messages_max = 0, .bytes_max = 0});
    outbox->Detach();
    return outbox;
}

WebSocketSendResult WebSocketOutbox::Send(std::string text) {
    std::lock_guard lock(mutex_);
    if (!open_) return WebSocketSendResult::kClosed;
    if (queue_.size() >= limits_.messages_max || queue_bytes_ >= limits_.bytes_max) {
        open_ = false;
        queue_.clear();
        queue_bytes_ = 0;
        close_request_ =
            CloseRequest{.code = kClosePolicyViolation, .reason = "too slow", .too_slow = true};
        WakeLocked();
        return WebSocketSendResult::kTooSlow;
    }
    queue_bytes_ += text.size();
    queue_.push_back(std::move(text));
    WakeLocked();
    return WebSocketSendResult::kQueued;
}

void WebSocketOutbox::Close(uint16_t code, std::string reason) {
    std::lock_guard lock(mutex_);
    if (!open_) return;
    open_ = false;
    close_request_ = CloseRequest{
        .code = code, .reason = WebSocketCloseReason(std::move(reason)), .too_slow = false};
    WakeLocked();
}

bool WebSocketOutbox::open() const {
    std::lock_guard lock(mutex_);
    return open_;
}

bool WebSocketOutbox::Attach(std::shared_ptr<WebSocketSession> session) {
    std::lock_guard lock(mutex_);
    if (detached_) return false;
    BURSAR_ASSERT(session_ == nullptr);
    session_ = std::move(session);
    awake_ = true;
    return true;
}

void WebSocketOutbox::TakeNext(Next* next) {
    next->messages.clear();
    next->close.reset();
    std::lock_guard lock(mutex_);
    for (std::string& message : queue_) next->messages.push_back(std::move(message));
    queue_.clear();
    queue_bytes_ = 0;
    next->close = std::move(close_request_);
    close_request_.reset();
    if (next->empty()) awake_ = false;
}

void WebSocketOutbox::Detach() {
    std::shared_ptr<WebSocketSession> released;  // let go after the unlock
    std::lock_guard lock(mutex_);
    open_ = false;
    detached_ = true;
    queue_.clear();
    queue_bytes_ = 0;
    close_request_.reset();
    released = std::move(session_);
}

void WebSocketOutbox::WakeLocked() {
    if (session_ == nullptr || awake_) return;
    awake_ = true;
    asio::post(session_->executor(), [session = session_] { session->WriteNext(); });
}

Session::Session(ServerCore& core, IoThread& io_thread, Socket socket, uint64_t id, bool rejected)
    : core_(core),
      io_thread_(io_thread),
      socket_(std::move(socket)),
      timer_(io_thread.executor()),
      id_(id),
      rejected_(rejected),
      buffer_(core.options.header_bytes_max + kReadBufferSlackBytes) {
    beast::error_code error;
    const tcp::endpoint remote = socket_.remote_endpoint(error);
    if (!error) remote_address_ = remote.address().to_string();
    // Reads and writes are tried at once and come back with would_block instead of waiting.
    socket_.non_blocking(true, error);
    output_.reserve(kResponseHeadBytes);
}

void Session::Start() {
    asio::post(io_thread_.executor(), [self = shared_from_this()] {
        if (self->state_ != State::kNew) return;  // Stop() closed it first
        if (!self->rejected_) {
            self->WaitForRequest();
            return;
        }
        self->request_id_ = self->core_.NewRequestId();
        HttpResponse response = ErrorResponse(kServerBusy, "too many connections; retry later");
        response.headers.emplace_back("Retry-After", "1");
        self->WriteResponse(std::move(response), /*close=*/true);
    });
}

void Session::BeginShutdown() {
    asio::post(io_thread_.executor(), [self = shared_from_this()] {
        if (self->state_ == State::kWaitingRequest) self->Close();
    });
}

void Session::HardClose() {
    asio::post(io_thread_.executor(), [self = shared_from_this()] { self->Close(); });
}

void Session::Close() {
    if (state_ == State::kClosed || state_ == State::kUpgraded) return;
    state_ = State::kClosed;
    beast::error_code ignored;
    timer_.Cancel();
    socket_.close(ignored);
    DetachReply();
    // The parser, buffer and output stay: operations still pending refer to them, and complete
    // (aborted) later on the io thread, where they find the state closed.
    core_.Unregister(id_, rejected_);
}

void Session::WaitForRequest() {
    if (core_.stopping.load()) {
        Close();
        return;
    }
    if (buffer_.size() > 0) {  // the client sent the next request early
        StartRequest();
        ReadRequest();
        return;
    }
    state_ = State::kWaitingRequest;
    SetDeadline(served_any_ ? core_.options.idle_timeout_ms : core_.options.request_timeout_ms);
    WaitReadable();
}

void Session::WaitReadable() {
    socket_.async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this()](beast::error_code error) { self->OnReadable(error); });
}

void Session::OnReadable(beast::error_code error) {
    if (state_ != State::kWaitingRequest && state_ != State::kReadingRequest) return;
    if (error) {
        if (state_ == State::kWaitingRequest) {
            Close();
        } else {
            OnReadFailed(error);
        }
        return;
    }
    if (state_ == State::kWaitingRequest) StartRequest();
    ReadRequest();
}

void Session::StartRequest() {
    state_ = State::kReadingRequest;
    timed_out_ = false;
    continue_checked_ = false;
    SetDeadline(core_.options.request_timeout_ms);
    parser_.emplace();
    parser_->header_limit(core_.options.header_bytes_max);
    parser_->body_limit(core_.options.body_bytes_max);
    parser_->eager(true);
}

// Parses what the buffer holds and what the socket has, until the request is whole, the socket
// has nothing more for now (then waits until it has), or something fails.
void Session::ReadRequest() {
    while (true) {
        beast::error_code error;
        http::read_some(socket_, buffer_, *parser_, error);
        if (error == asio::error::would_block) {
            WaitReadable();
            return;
        }
        if (error) {
            OnReadFailed(error);
            return;
        }
        if (parser_->is_done()) {
            OnRequest();
            return;
        }
        if (parser_->is_header_done() && !continue_checked_) {
            continue_checked_ = true;
            const auto& message = parser_->get();
            if (message.version() == 11 &&
                beast::iequals(message[http::field::expect], "100-continue")) {
                asio::async_write(
                    socket_, asio::buffer(kContinueResponse.data(), kContinueResponse.size()),
                    [self = shared_from_this()](beast::error_code write_error, size_t) {
                        self->OnContinueWritten(write_error);
                    });
                return;
            }
        }
    }
}

void Session::OnContinueWritten(beast::error_code error) {
    if (state_ != State::kReadingRequest) return;
    if (error) {
        Close();
        return;
    }
    ReadRequest();
}

void Session::OnReadFailed(beast::error_code error) {
    request_id_ = core_.NewRequestId();
    version_ = 11;
    head_request_ = false;
    const bool received_some = parser_->got_some() || buffer_.size() > 0;
    if (timed_out_) {
        if (!received_some) {
            Close();
            return;
        }
        WriteError(kRequestTimeout,
                   "the request was not received within " +
                       std::to_string(core_.options.request_timeout_ms) + " ms",
                   /*close=*/true);
        return;
    }
    if (error == http::error::body_limit) {
        WriteError(
            kPayloadTooLarge,
            "the request body exceeds " + std::to_string(core_.options.body_bytes_max) + " bytes",
            /*close=*/true);
        return;
    }
    if (error == http::error::header_limit ||
        (error == http::error::buffer_overflow && !parser_->is_header_done())) {
        WriteError(kHeadersTooLarge,
                   "the request line and headers exceed " +
                       std::to_string(core_.options.header_bytes_max) + " bytes",
                   /*close=*/true);
        return;
    }
    if (error == http::error::end_of_stream || error == http::error::partial_message) {
        Close();  // the client went away
        return;
    }
    if (error.category() == http::make_error_code(http::error::bad_method).category()) {
        WriteError(kInvalidRequest, "malformed HTTP request: " + error.message(), /*close=*/true);
        return;
    }
    Close();  // a network error: nobody to answer
}

void Session::OnRequest() {
    core_.requests.fetch_add(1, std::memory_order_relaxed);
    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const size_t question_mark = request.target.find('?');
    request.path = request.target.substr(0, question_mark);
    if (question_mark != std::string::npos)
        request.query = request.target.substr(question_mark + 1);
    for (const auto& field : message) {
        request.headers.emplace_back(Lowercase(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_address_;
    const UpgradeHandler* upgrade_handler =
        websocket::is_upgrade(message) ? core_.FindUpgradeHandler(request.path) : nullptr;
    const std::string* client_id = request.Header("x-request-id");
    request_id_ =
        client_id != nullptr && IsValidRequestId(*client_id) ? *client_id : core_.NewRequestId();
    request.request_id = request_id_;
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    head_request_ = message.method() == http::verb::head;
    upgrade_request_.reset();
    if (upgrade_handler != nullptr) upgrade_request_.emplace(parser_->release());
    parser_.reset();

    if (request.path.empty() || request.path[0] != '/') {
        WriteError(kInvalidRequest, "the request target must be a path", /*close=*/true);
        return;
    }
    if (upgrade_handler != nullptr && !IsValidWebSocketUpgrade(*upgrade_request_)) {
        upgrade_request_.reset();
        WriteError(kInvalidRequest,
                   "a WebSocket upgrade needs a Sec-WebSocket-Key and Sec-WebSocket-Version: 13",
                   /*close=*/true);
        return;
    }
    state_ = State::kAwaitingHandler;
    request_number_++;
    SetDeadline(core_.options.request_timeout_ms);
    reply_slot_ = std::make_shared<ReplySlot>(
        shared_from_this(), request_number_,
        WebSocketOutbox::Limits{.messages_max = core_.options.websocket_send_queue_messages_max,
                                .bytes_max = core_.options.websocket_send_queue_bytes_max});
    // Accept and reject share one token: dropping both unused answers 500.
    const auto token = std::make_shared<ResponderToken>(reply_slot_);
    const Responder responder = [token](HttpResponse response) {
        token->slot->Deliver(std::move(response));
    };
    // Exceptions stop here: a handler that throws answers 500, the io thread goes on. The copy
    // kept here outlives the handler's, so that a throw is not taken for a dropped Responder.
    try {
        if (upgrade_handler != nullptr) {
            WebSocketAccept accept = [token] { return token->slot->Accept(); };
            (*upgrade_handler)(std::move(request), std::move(accept), responder);
        } else {
            core_.handler(std::move(request), responder);
        }
    } catch (const std::exception& exception) {
        core_.Log(std::string("http: handler threw: ") + exception.what());
        responder(ErrorResponse(kInternalError, "the handler failed"));
    } catch (...) {
        core_.Log("http: handler threw a non-standard exception");
        responder(ErrorResponse(kInternalError, "the handler failed"));
    }
}

void Session::OnHandlerResponse(uint64_t request_number, HttpResponse response) {
    if (state_ != State::kAwaitingHandler || request_number != request_number_) return;
    reply_slot_.reset();
    WriteResponse(std::move(response), !keep_alive_ || core_.stopping.load());
}

void Session::OnUpgradeAccepted(uint64_t request_number) {
    if (state_ != State::kAwaitingHandler || request_number != request_number_) return;
    std::shared_ptr<WebSocketOutbox> outbox = reply_slot_->TakeAccepted();
    reply_slot_.reset();
    BURSAR_ASSERT(outbox != nullptr && upgrade_request_.has_value());
    auto websocket =
        std::make_shared<WebSocketSession>(core_, io_thread_, id_, request_id_, outbox);
    if (!core_.Replace(id_, websocket)) {
        outbox->Detach();
        upgrade_request_.reset();
        WriteError(kServerBusy, "the server is stopping", /*close=*/true);
        return;
    }
    state_ = State::kUpgraded;
    timer_.Cancel();
    // Whatever the client sent after the upgrade request is dropped: it may send no frame
    // before the handshake's answer.
    buffer_.consume(buffer_.size());
    const std::string key(upgrade_request_->at(http::field::sec_websocket_key));
    upgrade_request_.reset();
    websocket->Start(std::move(socket_), key);
}

void Session::WriteError(const HttpError& error, std::string_view message, bool close) {
    WriteResponse(ErrorResponse(error, message), close);
}

void Session::WriteResponse(HttpResponse response, bool close) {
    BURSAR_ASSERT(state_ != State::kClosed && state_ != State::kWritingResponse);
    bool valid = response.status >= kStatusMin && response.status <= kStatusMax &&
                 IsValidHeaderValue(response.content_type);
    for (const auto& [name, value] : response.headers) {
        valid = valid && IsValidHeaderName(name) && IsValidHeaderValue(value);
    }
    if (!valid) {
        core_.Log("http: handler answered an invalid status or header; request " + request_id_);
        response = ErrorResponse(kInternalError, "the handler gave an invalid response");
    }

    std::string& out = output_;
    out.clear();
    out += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(response.status);
    out += ' ';
    out += http::obsolete_reason(static_cast<http::status>(response.status));
    out += "\r\n";
    auto header = [&out](std::string_view name, std::string_view value) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    };
    if (!response.content_type.empty()) header("Content-Type", response.content_type);
    for (const auto& [name, value] : response.headers) {
        if (!IsServerOwnedHeader(name)) header(name, value);
    }
    header("X-Request-Id", request_id_);
    if (close) {
        header("Connection", "close");
    } else if (version_ == 10) {
        header("Connection", "keep-alive");
    }
    const bool no_body = response.status == 204 || response.status == 304;
    if (!no_body) header("Content-Length", std::to_string(response.body.size()));
    out += "\r\n";
    if (!no_body && !head_request_) out += response.body;
    core_.CountResponse(response.status);

    state_ = State::kWritingResponse;
    close_after_write_ = close;
    beast::error_code error;
    output_written_ = socket_.write_some(asio::buffer(output_), error);
    if (error == asio::error::would_block) {
        error.clear();
        output_written_ = 0;
    }
    if (error || output_written_ == output_.size()) {
        OnWritten(error);
        return;
    }
    // The socket's buffer is full: the rest when it has room, within write_timeout_ms.
    SetDeadline(core_.options.write_timeout_ms);
    asio::async_write(
        socket_, asio::buffer(output_.data() + output_written_, output_.size() - output_written_),
        [self = shared_from_this()](beast::error_code write_error, size_t) {
            self->OnWritten(write_error);
        });
}

void Session::OnWritten(beast::error_code error) {
    if (state_ != State::kWritingResponse) return;
    if (error) {
        Close();
        return;
    }
    served_any_ = true;
    if (close_after_write_) {
        Linger();
        return;
    }
    WaitForRequest();
}

void Session::Linger() {
    state_ = State::kLingering;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    lingered_bytes_ = 0;
    SetDeadline(kLingerTimeoutMs);
    ReadLinger();
}

void Session::ReadLinger() {
    socket_.async_read_some(buffer_.prepare(kLingerChunkBytes),
                            [self = shared_from_this()](beast::error_code error, size_t bytes) {
                                self->OnLingerRead(error, bytes);
                            });
}

void Session::OnLingerRead(beast::error_code error, size_t bytes) {
    if (state_ != State::kLingering) return;
    lingered_bytes_ += bytes;
    if (error || lingered_bytes_ > kLingerBytesMax) {
        Close();
        return;
    }
    ReadLinger();
}

void Session::DetachReply() {
    if (reply_slot_ == nullptr) return;
    reply_slot_->Detach();
    reply_slot_.reset();
}

void Session::SetDeadline(uint32_t timeout_ms) {
    deadline_ = SteadyClock::now() + Milliseconds(timeout_ms);
    ArmTimer();
}

void Session::ArmTimer() {
    timer_.Arm(deadline_, [self = shared_from_this()] { self->OnTimer(); });
}

void Session::OnTimer() {
    if (state_ == State::kNew || state_ == State::kUpgraded || state_ == State::kClosed) return;
    if (SteadyClock::now() < deadline_) {
        ArmTimer();
        return;
    }
    switch (state_) {
        case State::kReadingRequest: {
            // The pending wait completes, aborted, and answers 408 when part of a request came.
            timed_out_ = true;
            beast::error_code ignored;
            socket_.cancel(ignored);
            return;
        }
        case State::kAwaitingHandler:
            DetachReply();
            WriteError(kHandlerTimeout,
                       "the handler did not answer within " +
                           std::to_string(core_.options.request_timeout_ms) + " ms",
                       !keep_alive_ || core_.stopping.load());
            return;
        case State::kWaitingRequest:   // idle too long
        case State::kWritingResponse:  // the client does not read
        case State::kLingering:
            Close();
            return;
        case State::kNew:
        case State::kUpgraded:
        case State::kClosed:
            return;
    }
}

WebSocketSession::WebSocketSession(ServerCore& core, IoThread& io_thread, uint64_t id,
                                   std::string request_id, std::shared_ptr<WebSocketOutbox> outbox)
    : core_(core),
      io_thread_(io_thread),
      timer_(io_thread.executor()),
      id_(id),
      request_id_(std::move(request_id)),
      outbox_(std::move(outbox)),
      parser_(core.options.websocket_message_bytes_max) {}

void WebSocketSession::Start(Socket socket, std::string_view key) {
    BURSAR_ASSERT(state_ == State::kNew);
    // A bounded kernel send buffer: a client that stops reading fills it and then the send queue,
    // and is closed as too slow, instead of pinning megabytes of kernel memory (Linux grows an
    // unbounded socket buffer up to tcp_wmem's maximum, 4 MiB by default).
    beast::error_code ignored;
    socket.set_option(asio::socket_base::send_buffer_size(
                          static_cast<int>(core_.options.websocket_socket_send_buffer_bytes)),
                      ignored);
    socket_.emplace(std::move(socket));
    output_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    output_ += "Sec-WebSocket-Accept: " + WebSocketAcceptKey(key) + "\r\n";
    output_ += "X-Request-Id: " + request_id_ + "\r\n\r\n";
    output_written_ = 0;
    state_ = State::kHandshake;
    if (WriteOutput()) OnHandshakeWritten();
}

void WebSocketSession::OnHandshakeWritten() {
    core_.CountResponse(kSwitchingProtocolsStatus);
    core_.websocket_connections_accepted.fetch_add(1, std::memory_order_relaxed);
    core_.websocket_connections_open.fetch_add(1);
    counted_open_ = true;
    state_ = State::kOpen;
    last_heard_ = SteadyClock::now();
    if (!outbox_->Attach(shared_from_this())) {
        Close();
        return;
    }
    Read();
    WriteNext();
}

void WebSocketSession::Read() {
    socket_->async_read_some(asio::buffer(read_buffer_),
                             [self = shared_from_this()](beast::error_code error, size_t bytes) {
                                 self->OnRead(error, bytes);
                             });
}

void WebSocketSession::OnRead(beast::error_code error, size_t bytes) {
    if (state_ == State::kClosed) return;
    if (error) {
        Close();  // the peer went away (or closed its end after the closing handshake)
        return;
    }
    last_heard_ = SteadyClock::now();
    pinged_ = false;
    parser_.Append(std::string_view(read_buffer_.data(), bytes));
    HandleInput();
    if (state_ != State::kClosed) Read();
}

void WebSocketSession::HandleInput() {
    while (state_ != State::kClosed) {
        const WebSocketFrameEvent event = parser_.Next();
        switch (event.kind) {
            case WebSocketFrameEventKind::kNeedMore:
                return;
            case WebSocketFrameEventKind::kDataFrame:
                break;  // what the client says is not listened to: its payload is skipped
            case WebSocketFrameEventKind::kMessageTooBig:
                StartClose(kCloseMessageTooBig, "message too big", /*too_slow=*/false);
                break;
            case WebSocketFrameEventKind::kControlFrame:
                HandleControlFrame(event.opcode, event.payload);
                break;
            case WebSocketFrameEventKind::kProtocolError:
                FailProtocol(Describe(event.error));
                return;
        }
    }
}

void WebSocketSession::HandleControlFrame(uint8_t opcode, std::string_view payload) {
    switch (opcode) {
        case kOpcodePing:
            pong_.assign(payload);
            pong_due_ = true;
            WriteNext();
            return;
        case kOpcodePong:
            return;  // hearing from the peer is what counts
        case kOpcodeClose: {
            peer_closed_ = true;
            if (close_written_ || close_due_.has_value()) {
                // The closing handshake is complete once our close frame is out.
                if (close_written_ && !writing_) Close();
                return;
            }
            // The peer closes first: answer with its code, then close the connection.
            uint16_t code = WebSocketSink::kCloseNormal;
            if (payload.size() >= 2) {
                code = static_cast<uint16_t>(static_cast<uint8_t>(payload[0]) << 8 |
                                             static_cast<uint8_t>(payload[1]));
            }
            close_due_ = CloseFrame{.code = code, .reason = {}};
            WriteNext();
            return;
        }
        default:
            return;
    }
}

void WebSocketSession::FailProtocol(std::string_view what) {
    core_.Log("websocket: " + std::string(what) + " from the client; request " + request_id_);
    // The frames can no longer be told apart (the parser reads no more): no closing handshake is
    // waited for.
    peer_closed_ = true;
    StartClose(kCloseProtocolError, "protocol error", /*too_slow=*/false);
}

void WebSocketSession::StartClose(uint16_t code, std::string_view reason, bool too_slow) {
    if (close_written_ || close_due_.has_value() || state_ == State::kClosed) return;
    if (too_slow) {
        core_.websocket_connections_closed_slow.fetch_add(1, std::memory_order_relaxed);
        core_.Log("websocket: closing a client too slow to read; request " + request_id_);
    }
    close_due_ = CloseFrame{.code = code, .reason = WebSocketCloseReason(std::string(reason))};
    WriteNext();
}

void WebSocketSession::WriteNext() {
    if (writing_ || (state_ != State::kOpen && state_ != State::kClosing)) return;
    while (true) {
        output_.clear();
        output_written_ = 0;
        if (pong_due_) {
            AppendWebSocketFrame(&output_, kOpcodePong, pong_);
            pong_due_ = false;
        }
        if (ping_due_) {
            AppendWebSocketFrame(&output_, kOpcodePing, {});
            ping_due_ = false;
        }
        if (!close_written_) {
            // Nothing follows a close frame: the messages queued after it are not sent.
            if (!close_due_.has_value()) {
                outbox_->TakeNext(&next_);
                for (const std::string& message : next_.messages) {
                    AppendWebSocketFrame(&output_, kOpcodeText, message);
                }
                if (next_.close.has_value()) {
                    if (next_.close->too_slow) {
                        core_.websocket_connections_closed_slow.fetch_add(
                            1, std::memory_order_relaxed);
                        core_.Log("websocket: closing a client too slow to read; request " +
                                  request_id_);
                    }
                    close_due_ = CloseFrame{.code = next_.close->code,
                                            .reason = std::move(next_.close->reason)};
                }
            }
            if (close_due_.has_value()) {
                AppendWebSocketCloseFrame(&output_, close_due_->code, close_due_->reason);
                close_due_.reset();
                close_written_ = true;
                state_ = State::kClosing;
                closing_deadline_ =
                    SteadyClock::now() + Milliseconds(core_.options.write_timeout_ms);
            }
        }
        if (output_.empty()) {
            ScheduleTimer();
            return;
        }
        if (!WriteOutput()) return;  // the rest is written asynchronously, or it failed
        if (close_written_ && peer_closed_) {
            Close();
            return;
        }
    }
}

bool WebSocketSession::WriteOutput() {
    beast::error_code error;
    size_t written = socket_->write_some(
        asio::buffer(output_.data() + output_written_, output_.size() - output_written_), error);
    if (error == asio::error::would_block) {
        error.clear();
        written = 0;
    }
    if (error) {
        Close();
        return false;
    }
    output_written_ += written;
    if (output_written_ == output_.size()) return true;
    // The socket's buffer is full: the rest when it has room, within write_timeout_ms.
    writing_ = true;
    write_deadline_ = SteadyClock::now() + Milliseconds(core_.options.write_timeout_ms);
    ScheduleTimer();
    asio::async_write(
        *socket_, asio::buffer(output_.data() + output_written_, output_.size() - output_written_),
        [self = shared_from_this()](beast::error_code write_error, size_t) {
            self->OnWritten(write_error);
        });
    return false;
}

void WebSocketSession::OnWritten(beast::error_code error) {
    writing_ = false;
    if (state_ == State::kClosed) return;
    if (error) {
        Close();
        return;
    }
    if (state_ == State::kHandshake) {
        OnHandshakeWritten();
        return;
    }
    if (close_written_ && peer_closed_) {
        Close();
        return;
    }
    WriteNext();
}

void WebSocketSession::ScheduleTimer() {
    if (state_ == State::kClosed || state_ == State::kNew) return;
    const Milliseconds ping_interval(core_.options.websocket_ping_interval_ms);
    SteadyClock::time_point next = SteadyClock::time_point::max();
    if (writing_) next = std::min(next, write_deadline_);
    if (state_ == State::kClosing) next = std::min(next, closing_deadline_);
    if (state_ == State::kOpen) {
        next = std::min(next, last_heard_ + (pinged_ ? 2 * ping_interval : ping_interval));
    }
    if (next == SteadyClock::time_point::max()) return;
    timer_.Arm(next, [self = shared_from_this()] { self->OnTimer(); });
}

void WebSocketSession::OnTimer() {
    if (state_ == State::kClosed) return;
    const SteadyClock::time_point now = SteadyClock::now();
    if (writing_ && now >= write_deadline_) {
        if (state_ == State::kOpen) {
            core_.Log("websocket: a message was not written within " +
                      std::to_string(core_.options.write_timeout_ms) + " ms; request " +
                      request_id_);
        }
        Close();
        return;
    }
    if (state_ == State::kClosing && now >= closing_deadline_) {
        Close();
        return;
    }
    if (state_ == State::kOpen) {
        const Milliseconds ping_interval(core_.options.websocket_ping_interval_ms);
        if (now >= last_heard_ + 2 * ping_interval) {
            Close();  // nothing came, not even the answer to a ping: cut off
            return;
        }
        if (!pinged_ && now >= last_heard_ + ping_interval) {
            pinged_ = true;
            ping_due_ = true;
            WriteNext();
        }
    }
    ScheduleTimer();
}

void WebSocketSession::BeginShutdown() {
    outbox_->Close(WebSocketSink::kCloseGoingAway, "going away");
}

void WebSocketSession::HardClose() {
    asio::post(io_thread_.executor(), [self = shared_from_this()] { self->Close(); });
}

void WebSocketSession::Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    timer_.Cancel();
    if (socket_.has_value()) {
        beast::error_code ignored;
        socket_->close(ignored);
    }
    outbox_->Detach();
    if (counted_open_) {
        BURSAR_ASSERT(core_.websocket_connections_open.load() > 0);
        core_.websocket_connections_open.fetch_sub(1);
    }
    // The socket and the buffers stay: operations still pending refer to them, and complete
    // (aborted) later on the io thread, where they find the state closed.
    core_.Unregister(id_, /*rejected=*/false);
}

}  // namespace

class HttpServer::Impl {
  public:
    Impl(HttpServerOptions options, Handler handler)
        : io_threads_(MakeIoThreads(options.io_threads)),
          acceptor_(io_threads_[0]->context()),
          accept_retry_timer_(io_threads_[0]->executor()),
          core_(std::move(options), std::move(handler)) {}

    Status Start();
    void Stop();
    void SetUpgradeHandler(std::string path, UpgradeHandler handler);
    uint16_t port() const { return port_.load(); }
    HttpServerStats stats() const;

  private:
    static std::vector<std::unique_ptr<IoThread>> MakeIoThreads(uint32_t count);
    Status ValidateOptions() const;
    void Accept();
    void OnAccept(beast::error_code error, Socket socket, IoThread& io_thread);
    bool OnIoThread() const;

    // First member: destroyed last, after everything that uses it. The listener runs on the
    // first; connections go to each in turn.
    std::vector<std::unique_ptr<IoThread>> io_threads_;
    size_t next_io_thread_ = 0;  // the listener's
    asio::basic_socket_acceptor<tcp, Executor> acceptor_;
    Timer accept_retry_timer_;
    ServerCore core_;
    std::vector<std::thread> threads_;
    std::atomic<uint16_t> port_{0};
    bool started_ = false;
    bool stopped_ = false;
};

std::vector<std::unique_ptr<IoThread>> HttpServer::Impl::MakeIoThreads(uint32_t count) {
    std::vector<std::unique_ptr<IoThread>> io_threads;
    const uint32_t bounded = std::clamp<uint32_t>(count, 1, kIoThreadsMax);  // validated in Start()
    for (uint32_t i = 0; i < bounded; i++) io_threads.push_back(std::make_unique<IoThread>());
    return io_threads;
}

Status HttpServer::Impl::ValidateOptions() const {
    const HttpServerOptions& options = core_.options;
    if (!core_.handler) return Status(StatusCode::kInvalidArgument, "http: no handler");
    if (options.io_threads < 1 || options.io_threads > kIoThreadsMax) {
        return Status(StatusCode::kInvalidArgument,
                      "http: io_threads must be 1.." + std::to_string(kIoThreadsMax));
    }
    if (options.header_bytes_max < kHeaderBytesMin) {
        return Status(StatusCode::kInvalidArgument,
                      "http: header_bytes_max must be at least " + std::to_string(kHeaderBytesMin));
    }
    if (options.connections_max < 1 || options.request_timeout_ms < 1 ||
        options.idle_timeout_ms < 1 || options.write_timeout_ms < 1) {
        return Status(StatusCode::kInvalidArgument,
                      "http: connections_max and every timeout must be positive");
    }
    if (options.websocket_message_bytes_max < 1 || options.websocket_send_queue_messages_max < 1 ||
        options.websocket_send_queue_bytes_max < 1 || options.websocket_ping_interval_ms < 1) {
        return Status(StatusCode::kInvalidArgument,
                      "http: every websocket limit and interval must be positive");
    }
    return Status::Ok();
}

Status HttpServer::Impl::Start() {
    if (started_ || stopped_) {
        return Status(StatusCode::kInvalidArgument, "http: the server was already started");
    }
    BURSAR_RETURN_IF_ERROR(ValidateOptions());
    beast::error_code error;
    const asio::ip::address address = asio::ip::make_address(core_.options.address, error);
    if (error) {
        return Status(StatusCode::kInvalidArgument,
                      "http: bad listen address '" + core_.options.address + "'");
    }
    const tcp::endpoint endpoint(address, core_.options.port);
    const std::string where = core_.options.address + ":" + std::to_string(core_.options.port);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(kListenBacklog, error);
    if (error) {
        beast::error_code ignored;
        acceptor_.close(ignored);
        return Status(StatusCode::kIoError,
                      "http: cannot listen on " + where + ": " + error.message());
    }
    port_.store(acceptor_.local_endpoint(error).port());
    started_ = true;
    Accept();
    threads_.reserve(io_threads_.size());
    for (const std::unique_ptr<IoThread>& io_thread : io_threads_) {
        threads_.emplace_back([context = &io_thread->context()] {
            SetCurrentThreadName("io");
            // Runs until Stop(), also while it has nothing to do.
            auto work = asio::make_work_guard(*context);
            context->run();
        });
    }
    return Status::Ok();
}

void HttpServer::Impl::SetUpgradeHandler(std::string path, UpgradeHandler handler) {
    BURSAR_ASSERT(!started_ && !stopped_);
    BURSAR_ASSERT(!path.empty() && path[0] == '/' && handler);
    BURSAR_ASSERT(core_.upgrade_handlers.size() < kUpgradePathsMax);
    const bool inserted =
        core_.upgrade_handlers.emplace(std::move(path), std::move(handler)).second;
    BURSAR_ASSERT(inserted);
}

void HttpServer::Impl::Accept() {
    IoThread& io_thread = *io_threads_[next_io_thread_];
    next_io_thread_ = (next_io_thread_ + 1) % io_threads_.size();
    acceptor_.async_accept(io_thread.context(),
                           [this, &io_thread](beast::error_code error, Socket socket) {
                               OnAccept(error, std::move(socket), io_thread);
                           });
}

void HttpServer::Impl::OnAccept(beast::error_code error, Socket socket, IoThread& io_thread) {
    if (core_.stopping.load() || !acceptor_.is_open()) return;
    if (error) {
        core_.Log("http: accept failed: " + error.message());
        accept_retry_timer_.expires_after(Milliseconds(kAcceptRetryDelayMs));
        accept_retry_timer_.async_wait([this](beast::error_code wait_error) {
            if (!wait_error && !core_.stopping.load()) Accept();
        });
        return;
    }
    // Every response and WebSocket message is written whole, at once: waiting to coalesce it with
    // later bytes (Nagle) could only delay it, up to the peer's delayed acknowledgment.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (std::shared_ptr<Session> session = core_.Register(std::move(socket), io_thread)) {
        session->Start();
    }
    Accept();
}

bool HttpServer::Impl::OnIoThread() const {
    for (const std::thread& thread : threads_) {
        if (thread.get_id() == std::this_thread::get_id()) return true;
    }
    return false;
}

void HttpServer::Impl::Stop() {
    if (!started_ || stopped_) {
        stopped_ = true;
        return;
    }
    stopped_ = true;
    BURSAR_ASSERT(!OnIoThread());  // Stop() joins the io threads

    core_.BeginStopping();
    asio::post(acceptor_.get_executor(), [this] {
        beast::error_code ignored;
        acceptor_.close(ignored);
        accept_retry_timer_.cancel();
    });
    for (const std::shared_ptr<Connection>& session : core_.LiveSessions()) {
        session->BeginShutdown();
    }
    core_.WaitForNoSessions(core_.options.shutdown_timeout_ms);

    for (const std::shared_ptr<Connection>& session : core_.LiveSessions()) session->HardClose();
    core_.WaitForNoSessions(kHardCloseWaitMs);

    for (const std::unique_ptr<IoThread>& io_thread : io_threads_) io_thread->context().stop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    // No io thread runs now: what is left is closed from here. Handlers still queued in the
    // io_context are destroyed with it, and the sessions they hold with them.
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (const std::shared_ptr<Connection>& session : core_.LiveSessions()) session->Close();
    BURSAR_ASSERT(core_.LiveSessions().empty());
}

HttpServerStats HttpServer::Impl::stats() const {
    HttpServerStats stats;
    stats.requests = core_.requests.load(std::memory_order_relaxed);
    stats.responses_1xx = core_.responses_by_class[0].load(std::memory_order_relaxed);
    stats.responses_2xx = core_.responses_by_class[1].load(std::memory_order_relaxed);
    stats.responses_3xx = core_.responses_by_class[2].load(std::memory_order_relaxed);
    stats.responses_4xx = core_.responses_by_class[3].load(std::memory_order_relaxed);
    stats.responses_5xx = core_.responses_by_class[4].load(std::memory_order_relaxed);
    stats.connections_accepted = core_.connections_accepted.load(std::memory_order_relaxed);
    stats.connections_open = core_.connections_open.load(std::memory_order_relaxed);
    stats.connections_rejected = core_.connections_rejected.load(std::memory_order_relaxed);
    stats.websocket_connections_accepted =
        core_.websocket_connections_accepted.load(std::memory_order_relaxed);
    stats.websocket_connections_open =
        core_.websocket_connections_open.load(std::memory_order_relaxed);
    stats.websocket_connections_closed_slow =
        core_.websocket_connections_closed_slow.load(std::memory_order_relaxed);
    return stats;
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }

void HttpServer::SetUpgradeHandler(std::string path, UpgradeHandler handler) {
    impl_->SetUpgradeHandler(std::move(path), std::move(handler));
}

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

HttpServerStats HttpServer::stats() const { return impl_->stats(); }

}  // namespace bursar::api
