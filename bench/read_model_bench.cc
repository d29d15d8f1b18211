// The read model's write path (ReadModel::Apply) and its lists, on synthetic payments shaped like
// bench/http.sh's load: random payers among 10 000 users, random merchants among 100, 2 000
// payments per SQLite transaction (what the projector's 200 ms linger collects at 10 000 payments
// a second). Deterministic, so that instruction counts compare: run it under
// `valgrind --tool=callgrind --toggle-collect='*ApplyMeasured*'` for the write path alone
// (bench/README.md).

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "projection/projector.h"

namespace bursar::projection {
namespace {

constexpr uint64_t kUsers = 10'000;
constexpr uint64_t kMerchants = 100;
constexpr uint64_t kPayments = 100'000;
constexpr uint64_t kFilledPayments = 500'000;
constexpr uint64_t kTxnsPerApply = 2'000;
constexpr uint64_t kAmountMax = 1'000;
constexpr uint64_t kFeePercent = 3;  // amounts under 34 pay no fee: two postings, else three
constexpr uint64_t kTopupAmount = 100'000'000;
constexpr uint32_t kJpy = 392;
constexpr uint64_t kSeed = 42;
constexpr uint64_t kCreatedAtFirstNs = 1'700'000'000'000'000'000;
constexpr uint64_t kCreatedAtStepNs = 50'000;  // 20 000 payments a second

// A directory of its own, removed at the end.
class TempDir {
  public:
    explicit TempDir(const std::string& name)
        : path_((std::filesystem::temp_directory_path() /
                 ("bursar-" + name + "-" + std::to_string(::getpid())))
                    .string()) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// `payments` payments after `first_id`; with `with_topups_and_transfers`, a top-up for every user
// before them and a transfer for every user after them (so that lists by recipient find rows).
std::vector<payments::Txn> Workload(uint64_t first_id, uint64_t payments,
                                    bool with_topups_and_transfers) {
    std::mt19937_64 random(kSeed + first_id);
    std::vector<payments::Txn> txns;
    uint64_t id = first_id;
    auto add = [&](payments::TxnType type, uint64_t user, uint64_t merchant, uint64_t to_user,
                   uint64_t amount, uint64_t fee) {
        ++id;
        txns.push_back(payments::Txn{.id = id,
                                     .type = type,
                                     .user_id = user,
                                     .merchant_id = merchant,
                                     .to_user_id = to_user,
                                     .amount = amount,
                                     .fee = fee,
                                     .currency = kJpy,
                                     .created_at = kCreatedAtFirstNs + id * kCreatedAtStepNs});
    };
    if (with_topups_and_transfers) {
        for (uint64_t user = 1; user <= kUsers; ++user) {
            add(payments::TxnType::kTopup, user, 0, 0, kTopupAmount, 0);
        }
    }
    for (uint64_t i = 0; i < payments; ++i) {
        const uint64_t amount = 1 + random() % kAmountMax;
        add(payments::TxnType::kPay, 1 + random() % kUsers, 1 + random() % kMerchants, 0, amount,
            amount * kFeePercent / 100);
    }
    if (with_topups_and_transfers) {
        for (uint64_t user = 1; user <= kUsers; ++user) {
            add(payments::TxnType::kTransfer, user, 0, user % kUsers + 1, 1 + random() % kAmountMax,
                0);
        }
    }
    return txns;
}

// One journal record, and one Apply, per kTxnsPerApply transactions, from record `first_seq`.
std::vector<std::vector<events::Event>> Batches(const std::vector<payments::Txn>& txns,
                                                uint64_t first_seq) {
    std::vector<std::vector<events::Event>> batches;
    for (uint64_t first = 0; first < txns.size(); first += kTxnsPerApply) {
        const uint64_t end = std::min<uint64_t>(first + kTxnsPerApply, txns.size());
        std::vector<events::Event>& batch = batches.emplace_back();
        for (uint64_t i = first; i < end; ++i) {
            batch.push_back(events::Event{.seq = first_seq + batches.size() - 1, .txn = txns[i]});
        }
    }
    return batches;
}

// This process's CPU time and write system calls so far: the write path's system calls (WAL
// frames, checkpoints) are system time, which instruction counts leave out; their number is as
// deterministic as the instructions.
struct Usage {
    double user_s = 0;
    double system_s = 0;
    uint64_t write_calls = 0;  // write, pwrite (/proc/self/io syscw)
    uint64_t read_calls = 0;   // read, pread (syscr)

    static Usage Now() {
        rusage usage{};
        ::getrusage(RUSAGE_SELF, &usage);
        auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
        Usage now{seconds(usage.ru_utime), seconds(usage.ru_stime)};
        std::ifstream io("/proc/self/io");
        std::string key;
        uint64_t value = 0;
        while (io >> key >> value) {
            if (key == "syscw:") now.write_calls = value;
            if (key == "syscr:") now.read_calls = value;
        }
        return now;
    }
};

std::unique_ptr<ReadModel> OpenModel(const std::string& dir) {
    auto model = ReadModel::Open(ReadModelPath(dir));
    if (!model) {
        std::fprintf(stderr, "%s\n", model.error().ToString().c_str());
        std::abort();
    }
    return std::move(*model);
}

void ApplyAll(ReadModel& model, const std::vector<std::vector<events::Event>>& batches) {
    for (const std::vector<events::Event>& batch : batches) {
        Status status = model.Apply(batch, batch.back().seq);
        if (!status.ok()) {
            std::fprintf(stderr, "%s\n", status.ToString().c_str());
            std::abort();
        }
    }
}

// The part callgrind measures (--toggle-collect), apart from filling the model beforehand.
[[gnu::noinline]] void ApplyMeasured(ReadModel& model,
                                     const std::vector<std::vector<events::Event>>& batches) {
    ApplyAll(model, batches);
}

// 100 000 payments into a read model that holds `state.range(0)` payments already (as it does
// after a while: then most payments go to an index page of their own payer); the database's size
// after the last connection closed (and checkpointed the WAL into it).
void BM_ApplyPayments(benchmark::State& state) {
    const auto filled = static_cast<uint64_t>(state.range(0));
    const auto fill = Batches(Workload(0, filled, false), 1);
    const auto batches = Batches(Workload(filled, kPayments, false), fill.size() + 1);
    uint64_t database_bytes = 0;
    Usage used;
    for (auto _ : state) {
        state.PauseTiming();
        TempDir dir("read-model-bench");
        auto model = OpenModel(dir.path());
        ApplyAll(*model, fill);
        const Usage before = Usage::Now();
        state.ResumeTiming();
        ApplyMeasured(*model, batches);
        state.PauseTiming();
        const Usage after = Usage::Now();
        used.user_s += after.user_s - before.user_s;
        used.system_s += after.system_s - before.system_s;
        used.write_calls += after.write_calls - before.write_calls;
        used.read_calls += after.read_calls - before.read_calls;
        model.reset();
        database_bytes = std::filesystem::file_size(ReadModelPath(dir.path()));
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPayments));
    state.counters["bytes_per_payment"] =
        static_cast<double>(database_bytes) / (filled + kPayments);
    const double payments = static_cast<double>(state.iterations() * kPayments);
    state.counters["user_us_per_payment"] = used.user_s * 1e6 / payments;
    state.counters["system_us_per_payment"] = used.system_s * 1e6 / payments;
    state.counters["writes_per_payment"] = static_cast<double>(used.write_calls) / payments;
    state.counters["reads_per_payment"] = static_cast<double>(used.read_calls) / payments;
}
BENCHMARK(BM_ApplyPayments)
    ->Arg(0)
    ->Arg(kFilledPayments)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// A page of the list endpoint (20 rows with their postings) from a model holding the workload.
void BM_List(benchmark::State& state, ListFilter filter) {
    TempDir dir("read-model-bench-list");
    {
        auto writer = OpenModel(dir.path());
        ApplyAll(*writer, Batches(Workload(0, kPayments, true), 1));
    }
    auto model = OpenModel(dir.path());
    uint64_t rows = 0;
    for (auto _ : state) {
        bool more = false;
        auto page = model->List(filter, &more);
        if (!page) std::abort();
        for (const TransactionRow& row : *page) rows += 1 + row.postings.size();
    }
    benchmark::DoNotOptimize(rows);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(BM_List, all, ListFilter{})->Iterations(1'000);
BENCHMARK_CAPTURE(BM_List, user, ListFilter{.user_id = 7})->Iterations(1'000);
BENCHMARK_CAPTURE(BM_List, merchant, ListFilter{.merchant_id = 7})->Iterations(1'000);

}  // namespace
}  // namespace bursar::projection

BENCHMARK_MAIN();
