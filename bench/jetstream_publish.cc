// The JetStream publisher's CPU per event (bench/README.md): the real JetStreamPublisher against a
// real nats-server (Debian's, started here on a free loopback port with a temporary store), from
// a temporary data directory whose journal holds N payments. It reports the wall time, the CPU of
// this process (getrusage) and of the publisher's threads (the follower and the NATS client's
// threads it starts, all named f-jetstream), and the CPU of nats-server (/proc/PID/stat), each per
// event, and the publisher's lag (commit to acknowledgment, over its last 65 536 events); then
// checks that the stream holds every event once.
//
// Two modes: by default the journal is written first and the publisher catches up (large
// batches); with --rate=R the payments are committed at R a second while the publisher follows,
// as under bench/http-live.sh (batches of one linger). Not a test.
//
// Usage: bursar_jetstream_bench [--events=N] [--rate=R] [--linger_ms=MS]
//                               [--records_per_batch=N] [--in_flight=N]

#include <dirent.h>
#include <nats/nats.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "events/jetstream_publisher.h"
#include "events/nats_server_testing.h"

namespace bursar::bench {
namespace {

constexpr uint32_t kJpy = 392;
constexpr uint64_t kPaymentMinor = 10;
constexpr uint64_t kTopupMinor = 1'000'000'000'000;
constexpr uint64_t kPublishTimeoutMs = 60'000;
constexpr uint64_t kTicksPerSecond = 1000;  // --rate submits a tick's share at a time
constexpr const char* kPublisherThread = "f-jetstream";

struct BenchOptions {
    uint64_t events = 200'000;
    uint64_t rate = 0;        // payments a second while publishing; 0: the journal is written first
    uint64_t in_flight = 64;  // payments awaiting their commit, as many as bench/http.sh's clients
    events::JetStreamOptions publisher;
};

bool ParseOptions(int argc, char** argv, BenchOptions* options) {
    std::map<std::string, uint64_t*> flags = {
        {"events", &options->events},
        {"rate", &options->rate},
        {"in_flight", &options->in_flight},
        {"linger_ms", &options->publisher.linger_ms},
        {"records_per_batch", &options->publisher.records_per_batch},
    };
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const size_t equals = arg.find('=');
        if (arg.rfind("--", 0) != 0 || equals == std::string::npos) return false;
        auto flag = flags.find(arg.substr(2, equals - 2));
        if (flag == flags.end()) return false;
        *flag->second = std::strtoull(arg.c_str() + equals + 1, nullptr, 10);
    }
    return options->events > 0 && options->in_flight > 0;
}

// utime + stime of /proc/.../stat, in seconds; the comm field may hold spaces, so fields are
// counted after its closing parenthesis. `name` receives the comm.
double StatCpuSeconds(const std::string& path, std::string* name = nullptr) {
    std::ifstream file(path);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const size_t open = text.find('(');
    const size_t close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) return 0;
    if (name != nullptr) *name = text.substr(open + 1, close - open - 1);
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    // Fields 3..13 (state .. cmajflt), then utime (14) and stime (15).
    for (int i = 3; i <= 13; ++i) fields >> field;
    unsigned long long user_ticks = 0;
    unsigned long long system_ticks = 0;
    fields >> user_ticks >> system_ticks;
    return static_cast<double>(user_ticks + system_ticks) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessCpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The CPU of this process's threads named kPublisherThread (the follower names itself; the NATS
// client's threads are started from it and inherit the name).
double PublisherCpuSeconds() {
    double total = 0;
    DIR* tasks = ::opendir("/proc/self/task");
    if (tasks == nullptr) return 0;
    while (dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.') continue;
        std::string name;
        const double cpu =
            StatCpuSeconds(std::string("/proc/self/task/") + entry->d_name + "/stat", &name);
        if (name == kPublisherThread) total += cpu;
    }
    ::closedir(tasks);
    return total;
}

// Submits payments with at most `in_flight` awaiting their commit.
class Payer {
  public:
    Payer(engine::Engine& engine, uint64_t in_flight) : engine_(engine), in_flight_(in_flight) {}

    bool Run(payments::Command command) {
        auto* request = new engine::Request;
        request->operation = engine::Operation::kCommand;
        request->command = std::move(command);
        request->command.principal.kind = payments::PrincipalKind::kAdmin;
        request->done = [this](engine::Request& done) {
            std::lock_guard lock(mutex_);
            if (!done.status.ok() || !done.outcome.ok()) ++failures_;
            --outstanding_;
            delete &done;
            cv_.notify_all();
        };
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return outstanding_ < in_flight_; });
            ++outstanding_;
        }
        while (true) {
            const Status status = engine_.Submit(request);
            if (status.ok()) return true;
            if (status.code() != StatusCode::kBusy) {
                std::lock_guard lock(mutex_);
                --outstanding_;
                ++failures_;
                delete request;
                return false;
            }
            std::this_thread::yield();
        }
    }

    bool Pay() {
        payments::Command pay;
        pay.type = payments::CommandType::kPay;
        pay.user_id = 1;
        pay.merchant_id = 1;
        pay.amount = kPaymentMinor;
        pay.currency = kJpy;
        return Run(std::move(pay));
    }

    // Waits for every reply; true when every command succeeded.
    bool Drain() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return outstanding_ == 0; });
        return failures_ == 0;
    }

  private:
    engine::Engine& engine_;
    const uint64_t in_flight_;
    std::mutex mutex_;
    std::condition_variable cv_;
    uint64_t outstanding_ = 0;
    uint64_t failures_ = 0;
};

bool Setup(Payer& payer) {
    payments::Command registration;
    registration.type = payments::CommandType::kRegisterUser;
    registration.email = "payer@example.com";
    payments::Command merchant;
    merchant.type = payments::CommandType::kCreateMerchant;
    merchant.secret_hash = Sha256::Of("k", 1);
    payments::Command topup;
    topup.type = payments::CommandType::kTopup;
    topup.user_id = 1;
    topup.amount = kTopupMinor;
    topup.currency = kJpy;
    for (payments::Command* command : {&registration, &merchant, &topup}) {
        if (!payer.Run(std::move(*command)) || !payer.Drain()) return false;
    }
    return true;
}

// The stream's message count and the event id of its last message.
std::pair<uint64_t, std::string> StreamEnd(const std::string& url, const std::string& stream) {
    natsConnection* connection = nullptr;
    jsCtx* js = nullptr;
    jsStreamInfo* info = nullptr;
    natsMsg* last = nullptr;
    std::pair<uint64_t, std::string> end;
    if (natsConnection_ConnectTo(&connection, url.c_str()) == NATS_OK &&
        natsConnection_JetStream(&js, connection, nullptr) == NATS_OK &&
        js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) == NATS_OK &&
        js_GetLastMsg(&last, js, stream.c_str(), events::kSubject, nullptr, nullptr) == NATS_OK) {
        end.first = info->State.Msgs;
        const char* id = nullptr;
        if (natsMsgHeader_Get(last, "Nats-Msg-Id", &id) == NATS_OK) end.second = id;
    }
    natsMsg_Destroy(last);
    jsStreamInfo_Destroy(info);
    jsCtx_Destroy(js);
    natsConnection_Destroy(connection);
    return end;
}

int Run(const BenchOptions& options) {
    char root_template[] = "/tmp/bursar-jetstream-bench-XXXXXX";
    if (::mkdtemp(root_template) == nullptr) return 1;
    const std::string root = root_template;
    std::filesystem::create_directories(root + "/nats");
    const uint16_t port = events::FreeLoopbackPort();
    events::NatsServer nats(port, root + "/nats");
    if (Status started = nats.Start(); !started.ok()) {
        std::fprintf(stderr, "%s\n", started.ToString().c_str());
        return 1;
    }
    const std::string nats_stat = "/proc/" + std::to_string(nats.pid()) + "/stat";

    engine::EngineOptions engine_options;
    engine_options.data_dir = root + "/data";
    auto opened = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), engine_options);
    if (!opened) {
        std::fprintf(stderr, "engine: %s\n", opened.error().ToString().c_str());
        return 1;
    }
    engine::Engine& engine = **opened;
    engine.Start();
    Payer payer(engine, options.in_flight);
    bool ok = Setup(payer);
    if (ok && options.rate == 0) {
        for (uint64_t i = 0; i < options.events && ok; ++i) ok = payer.Pay();
        ok = ok && payer.Drain();
    }

    events::JetStreamOptions publisher_options = options.publisher;
    publisher_options.url = "nats://127.0.0.1:" + std::to_string(port);
    events::JetStreamPublisher publisher(
        PosixFileSystem(), engine, root + "/data", publisher_options,
        [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
    const double process_before = ProcessCpuSeconds();
    const double nats_before = StatCpuSeconds(nats_stat);
    const auto start = std::chrono::steady_clock::now();
    ok = ok && publisher.Start().ok();
    if (ok && options.rate > 0) {
        const uint64_t tick_payments = std::max<uint64_t>(1, options.rate / kTicksPerSecond);
        const auto tick = std::chrono::nanoseconds(tick_payments * 1'000'000'000 / options.rate);
        auto next = start;
        for (uint64_t i = 0; i < options.events && ok; ++i) {
            if (i % tick_payments == 0) {
                std::this_thread::sleep_until(next);
                next += tick;
            }
            ok = payer.Pay();
        }
        ok = ok && payer.Drain();
    }
    ok = ok && publisher.WaitFor(engine.committed_seq(), kPublishTimeoutMs);
    const auto end = std::chrono::steady_clock::now();
    const double process_cpu = ProcessCpuSeconds() - process_before;
    const double publisher_cpu = PublisherCpuSeconds();
    const double nats_cpu = StatCpuSeconds(nats_stat) - nats_before;
    const events::JetStreamStats stats = publisher.stats();
    publisher.Stop();
    engine.Stop();

    const auto [stored, last_id] = StreamEnd(publisher_options.url, publisher_options.stream);
    const uint64_t expected = options.events + 1;  // the top-up and the payments
    ok = ok && stored == expected && last_id == "evt_" + std::to_string(expected);
    const double wall = std::chrono::duration<double>(end - start).count();
    const double events = static_cast<double>(options.events);
    constexpr double kNsPerMs = 1e6;
    std::printf(
        "events %llu  wall %.3f s  (%.0f events/s)  failures %llu  lag p50 %.1f ms p99 %.1f ms\n"
        "cpu per event: process %.2f us  publisher threads %.2f us  nats-server %.2f us\n",
        static_cast<unsigned long long>(options.events), wall, events / wall,
        static_cast<unsigned long long>(stats.failures), stats.lag_ns_p50 / kNsPerMs,
        stats.lag_ns_p99 / kNsPerMs, process_cpu / events * 1e6, publisher_cpu / events * 1e6,
        nats_cpu / events * 1e6);
    if (!ok) {
        std::fprintf(stderr, "FAILED: stream holds %llu messages, the last %s; expected %llu\n",
                     static_cast<unsigned long long>(stored), last_id.c_str(),
                     static_cast<unsigned long long>(expected));
    }
    nats.Kill();
    std::filesystem::remove_all(root);
    return ok ? 0 : 1;
}

}  // namespace
}  // namespace bursar::bench

int main(int argc, char** argv) {
    bursar::bench::BenchOptions options;
    if (!bursar::bench::ParseOptions(argc, argv, &options)) {
        std::fprintf(stderr,
                     "usage: %s [--events=N] [--rate=R] [--linger_ms=MS] [--records_per_batch=N] "
                     "[--in_flight=N]\n",
                     argv[0]);
        return 2;
    }
    return bursar::bench::Run(options);
}
