// `bursar bench`: the ledger benchmark, after `tigerbeetle benchmark`. It runs the real engine with
// the real journal and fsync in a temporary data directory: creates the accounts, then submits the
// transfers in batches from one client and reports throughput, request latency, memory and
// journal bytes. A benchmark reports numbers; it asserts nothing but --validate's checks.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

#include "app/commands.h"
#include "app/flags.h"
#include "base/clock.h"

namespace bursar::app {
namespace {

constexpr uint32_t kCurrency = 392;
constexpr uint64_t kAmountMax = 1000;

// Zipfian choice over [0, n) with exponent theta (Gray et al., as in YCSB): item 0 is hottest.
class Zipfian {
  public:
    Zipfian(uint64_t n, double theta) : n_(n), theta_(theta) {
        for (uint64_t i = 1; i <= n; ++i) zeta_n_ += 1.0 / std::pow(static_cast<double>(i), theta);
        const double zeta_2 = 1.0 + 1.0 / std::pow(2.0, theta);
        alpha_ = 1.0 / (1.0 - theta);
        eta_ =
            (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta_2 / zeta_n_);
    }
    uint64_t Next(std::mt19937_64& random) const {
        const double u = std::uniform_real_distribution<double>(0.0, 1.0)(random);
        const double uz = u * zeta_n_;
        if (uz < 1.0) return 0;
        if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
        auto item = static_cast<uint64_t>(static_cast<double>(n_) *
                                          std::pow(eta_ * u - eta_ + 1.0, alpha_));
        return std::min(item, n_ - 1);
    }

  private:
    uint64_t n_;
    double theta_;
    double zeta_n_ = 0;
    double alpha_ = 0;
    double eta_ = 0;
};

enum class Distribution { kUniform, kZipfian, kHot };

struct Workload {
    uint64_t accounts;
    uint64_t transfers;
    uint64_t batch;
    Distribution distribution;
    uint64_t hot_accounts;
    uint64_t hot_percent;
    bool pending;
    uint64_t seed;
};

// Generates the same transfers for the same workload, batch after batch, so --validate can
// regenerate them instead of keeping them.
class Generator {
  public:
    explicit Generator(const Workload& w) : w_(w), random_(w.seed), zipfian_(w.accounts, 0.99) {}

    uint64_t PickAccount() {
        switch (w_.distribution) {
            case Distribution::kUniform:
                return 1 + random_() % w_.accounts;
            case Distribution::kZipfian:
                return 1 + zipfian_.Next(random_);
            case Distribution::kHot:
                if (random_() % 100 < w_.hot_percent) return 1 + random_() % w_.hot_accounts;
                return 1 + random_() % w_.accounts;
        }
        return 1;
    }

    void Next(ledger::Transfer* t) {
        *t = ledger::Transfer{};
        t->id = ++next_id_;
        t->debit_account_id = PickAccount();
        t->credit_account_id = PickAccount();
        if (t->credit_account_id == t->debit_account_id) {
            t->credit_account_id = t->debit_account_id % w_.accounts + 1;
        }
        t->amount = 1 + random_() % kAmountMax;
        t->currency = kCurrency;
        t->code = 1;
        t->flags = w_.pending ? ledger::transfer_flags::kPending : 0;
    }

  private:
    Workload w_;
    std::mt19937_64 random_;
    Zipfian zipfian_;
    uint64_t next_id_ = 0;
};

std::string MachineDescription() {
    std::string model = "unknown processor";
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    }
    uint64_t memory_kib = 0;
    std::ifstream meminfo("/proc/meminfo");
    for (std::string line; std::getline(meminfo, line);) {
        if (line.rfind("MemTotal:", 0) == 0)
            memory_kib = std::strtoull(line.c_str() + 9, nullptr, 10);
    }
    return model + ", " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores, " +
           std::to_string(memory_kib >> 20) + " GiB";
}

uint64_t PeakResidentBytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

// Runs requests with up to `in_flight` outstanding; returns per-request latencies.
class Client {
  public:
    Client(engine::Engine& engine, uint64_t in_flight) : engine_(engine), slots_(in_flight) {}

    // Takes the next free slot (waiting for the oldest to be answered).
    engine::Request& Acquire() {
        Slot& slot = slots_[next_ % slots_.size()];
        ++next_;
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !slot.busy; });
        return slot.request;
    }

    void Submit(engine::Request& request) {
        Slot* slot = nullptr;
        for (Slot& s : slots_) {
            if (&s.request == &request) slot = &s;
        }
        slot->busy = true;
        slot->start_ns = SystemClock::Instance().MonotonicNs();
        request.done = [this, slot](engine::Request& r) {
            const uint64_t latency = SystemClock::Instance().MonotonicNs() - slot->start_ns;
            std::lock_guard lock(mutex_);
            if (!r.status.ok()) error_ = r.status;
            failed_events_ += r.results.size();
            latencies_ns_.push_back(latency);
            slot->busy = false;
            cv_.notify_all();
        };
        while (true) {
            Status status = engine_.Submit(&request);
            if (status.ok()) return;
            if (status.code() != StatusCode::kBusy) {
                std::lock_guard lock(mutex_);
                error_ = status;
                slot->busy = false;
                return;
            }
            std::this_thread::yield();
        }
    }

    void Drain() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] {
            return std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.busy; });
        });
    }

    std::vector<uint64_t>& latencies_ns() { return latencies_ns_; }
    Status error() const { return error_; }
    uint64_t failed_events() const { return failed_events_; }

  private:
    struct Slot {
        engine::Request request;
        bool busy = false;
        uint64_t start_ns = 0;
    };
    engine::Engine& engine_;
    std::vector<Slot> slots_;
    uint64_t next_ = 0;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<uint64_t> latencies_ns_;
    Status error_;
    uint64_t failed_events_ = 0;
};

bool Validate(const Workload& w, const ledger::StateMachine& state) {
    Generator generator(w);
    std::vector<u128> debits(w.accounts + 1, 0), credits(w.accounts + 1, 0);
    ledger::Transfer expected{};
    for (uint64_t i = 0; i < w.transfers; ++i) {
        generator.Next(&expected);
        const ledger::Transfer* found = state.FindTransfer(expected.id);
        if (found == nullptr || found->debit_account_id != expected.debit_account_id ||
            found->credit_account_id != expected.credit_account_id ||
            found->amount != expected.amount || found->flags != expected.flags) {
            std::printf("validate: FAILED: transfer %s missing or different\n",
                        U128ToString(expected.id).c_str());
            return false;
        }
        debits[Low64(expected.debit_account_id)] += expected.amount;
        credits[Low64(expected.credit_account_id)] += expected.amount;
    }
    for (uint64_t id = 1; id <= w.accounts; ++id) {
        const ledger::Account* a = state.FindAccount(id);
        const u128 debit = w.pending ? a->debits_pending : a->debits_posted;
        const u128 credit = w.pending ? a->credits_pending : a->credits_posted;
        if (debit != debits[id] || credit != credits[id]) {
            std::printf("validate: FAILED: account %llu balances differ\n",
                        static_cast<unsigned long long>(id));
            return false;
        }
    }
    Status invariants = state.CheckInvariants();
    if (!invariants.ok()) {
        std::printf("validate: FAILED: %s\n", invariants.ToString().c_str());
        return false;
    }
    return true;
}

}  // namespace

int BenchCommand(const Args& args) {
    const std::vector<FlagSpec> specs = {
        {"account-count", "10000", "accounts created before the transfers"},
        {"transfer-count", "10000000", "transfers submitted"},
        {"transfer-batch-size", "8189", "transfers per request (at most 8189)"},
        {"account-distribution", "uniform", "uniform, zipfian (theta 0.99) or hot"},
        {"hot-accounts", "10", "hot distribution: how many accounts are hot"},
        {"hot-percent", "90", "hot distribution: share of choices that pick a hot account"},
        {"transfer-pending", "false", "make every transfer a pending (two-phase) transfer", true},
        {"requests-in-flight", "1", "requests the client keeps outstanding"},
        {"seed", "42", "random seed"},
        {"snapshot-interval", "4096", "journal records between snapshots (0: never)"},
        {"journal-preallocate", "true", "write journal segments ahead as zeros (true or false)"},
        {"validate", "false", "check every transfer and balance afterwards", true},
        {"data-dir", "", "where to put the journal (default: a new temporary directory)"},
        {"keep", "false", "keep the data directory afterwards", true},
        {"help", "false", "print the flags", true},
    };
    auto flags = Flags::Parse(args, specs);
    if (!flags) {
        LogLine(flags.error().message());
        return 2;
    }
    if (flags->Switch("help")) {
        std::printf("usage: bursar bench [flags]\n%s", Flags::Usage(specs).c_str());
        return 0;
    }
    Workload w{};
    auto accounts = flags->Number("account-count", 2, 100'000'000);
    auto transfers = flags->Number("transfer-count", 1, 1'000'000'000);
    auto batch = flags->Number("transfer-batch-size", 1, ledger::kBatchEventsMax);
    auto hot_accounts = flags->Number("hot-accounts", 1, 100'000'000);
    auto hot_percent = flags->Number("hot-percent", 0, 100);
    auto in_flight = flags->Number("requests-in-flight", 1, 64);
    auto seed = flags->Number("seed", 0, UINT64_MAX);
    auto snapshot_interval = flags->Number("snapshot-interval", 0, UINT32_MAX);
    for (const auto* number : {&accounts, &transfers, &batch, &hot_accounts, &hot_percent,
                               &in_flight, &seed, &snapshot_interval}) {
        if (!*number) {
            LogLine(number->error().message());
            return 2;
        }
    }
    if (flags->Get("journal-preallocate") != "true" &&
        flags->Get("journal-preallocate") != "false") {
        LogLine("--journal-preallocate must be true or false");
        return 2;
    }
    const std::string& distribution = flags->Get("account-distribution");
    if (distribution == "uniform") {
        w.distribution = Distribution::kUniform;
    } else if (distribution == "zipfian") {
        w.distribution = Distribution::kZipfian;
    } else if (distribution == "hot") {
        w.distribution = Distribution::kHot;
    } else {
        LogLine("--account-distribution must be uniform, zipfian or hot");
        return 2;
    }
    w.accounts = *accounts;
    w.transfers = *transfers;
    w.batch = *batch;
    w.hot_accounts = std::min(*hot_accounts, w.accounts);
    w.hot_percent = *hot_percent;
    w.pending = flags->Switch("transfer-pending");
    w.seed = *seed;

    std::string dir = flags->Get("data-dir");
    const bool temporary = dir.empty();
    if (temporary) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "bursar-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            LogLine("cannot create a temporary directory");
            return 1;
        }
        dir = pattern;
    }

    std::printf(
        "bursar bench: %llu accounts, %llu transfers, batches of %llu, %s%s, seed %llu, "
        "1 client, %llu request(s) in flight\n",
        static_cast<unsigned long long>(w.accounts), static_cast<unsigned long long>(w.transfers),
        static_cast<unsigned long long>(w.batch), distribution.c_str(),
        w.pending ? ", pending" : "", static_cast<unsigned long long>(w.seed),
        static_cast<unsigned long long>(*in_flight));
    std::printf("machine: %s\n", MachineDescription().c_str());
    std::printf("data directory: %s (real journal, fdatasync per batch)\n", dir.c_str());
    std::fflush(stdout);

    engine::EngineOptions options;
    options.data_dir = dir;
    options.log = LogLine;
    options.snapshot_interval_records = *snapshot_interval;
    options.preallocate_segments = flags->Get("journal-preallocate") != "false";
    options.snapshot_waits_for_journal_growth = false;  // every N batches exactly
    options.state.accounts_expected = w.accounts;
    options.state.transfers_expected = w.transfers;
    auto opened = engine::Engine::Open(PosixFileSystem(), SystemClock::Instance(), options);
    if (!opened) {
        LogLine("cannot open the engine: " + opened.error().ToString());
        return 1;
    }
    engine::Engine& engine = **opened;
    engine.Start();

    Client client(engine, *in_flight);
    for (uint64_t first = 1; first <= w.accounts; first += ledger::kBatchEventsMax) {
        engine::Request& request = client.Acquire();
        request.operation = engine::Operation::kCreateAccounts;
        request.accounts.clear();
        for (uint64_t id = first; id < first + ledger::kBatchEventsMax && id <= w.accounts; ++id) {
            ledger::Account a{};
            a.id = id;
            a.currency = kCurrency;
            a.kind = static_cast<uint16_t>(ledger::AccountKind::kUserWallet);
            request.accounts.push_back(a);
        }
        client.Submit(request);
    }
    client.Drain();
    client.latencies_ns().clear();

    Generator generator(w);
    const uint64_t start_ns = SystemClock::Instance().MonotonicNs();
    for (uint64_t done = 0; done < w.transfers;) {
        engine::Request& request = client.Acquire();
        request.operation = engine::Operation::kCreateTransfers;
        const uint64_t count = std::min(w.batch, w.transfers - done);
        request.transfers.resize(count);
        for (uint64_t i = 0; i < count; ++i) generator.Next(&request.transfers[i]);
        client.Submit(request);
        done += count;
    }
    client.Drain();
    const uint64_t elapsed_ns = SystemClock::Instance().MonotonicNs() - start_ns;
    engine.Stop();

    if (!client.error().ok()) {
        std::printf("bench: FAILED: %s\n", client.error().ToString().c_str());
        return 1;
    }
    std::vector<uint64_t>& latencies = client.latencies_ns();
    std::sort(latencies.begin(), latencies.end());
    auto percentile = [&](double p) {
        size_t index = static_cast<size_t>(p / 100.0 * static_cast<double>(latencies.size() - 1));
        return Ms(latencies[index]);
    };
    const engine::EngineStats stats = engine.stats();
    const ledger::StateMachine& state = engine.state();
    std::printf("load accepted = %.0f tx/s\n",
                static_cast<double>(w.transfers) * 1e9 / static_cast<double>(elapsed_ns));
    std::printf("batch latency p1 = %.2f ms, p50 = %.2f ms, p99 = %.2f ms, p100 = %.2f ms\n",
                percentile(1), percentile(50), percentile(99), percentile(100));
    std::printf("transfers failed = %llu\n",
                static_cast<unsigned long long>(client.failed_events()));
    std::printf(
        "fsync: %llu, mean %.2f ms, max %.2f ms\n", static_cast<unsigned long long>(stats.fsyncs),
        stats.fsyncs ? Ms(stats.fsync_ns_total / stats.fsyncs) : 0.0, Ms(stats.fsync_ns_max));
    std::printf("snapshots: %llu, longest freeze %.2f ms, longest drain before it %.2f ms\n",
                static_cast<unsigned long long>(stats.snapshots), Ms(stats.snapshot_freeze_ns_max),
                Ms(stats.snapshot_drain_ns_max));
    std::printf("peak memory = %.0f MiB (state %.0f MiB, %.0f bytes per transfer)\n",
                static_cast<double>(PeakResidentBytes()) / (1 << 20),
                static_cast<double>(state.MemoryBytes()) / (1 << 20),
                static_cast<double>(state.MemoryBytes()) / static_cast<double>(w.transfers));
    std::printf("journal = %.0f MiB (%.1f bytes per transfer)\n",
                static_cast<double>(stats.journal_bytes) / (1 << 20),
                static_cast<double>(stats.journal_bytes) / static_cast<double>(w.transfers));
    int exit_code = 0;
    if (flags->Switch("validate")) {
        if (Validate(w, state)) {
            std::printf(
                "validate: ok (every transfer found, every balance matches, invariants hold)\n");
        } else {
            exit_code = 1;
        }
    }
    opened->reset();
    if (temporary && !flags->Switch("keep")) std::filesystem::remove_all(dir);
    return exit_code;
}

}  // namespace bursar::app
