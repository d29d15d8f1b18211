// Bytes in memory per open pre-authorization and per refund (issue 9): the platform's own
// accounting (Platform::MemoryBytes: the ledger's tables exactly, the modules' estimated), before
// and after N of each, by part; and how long a snapshot's freeze takes with N open
// pre-authorizations (the engine thread waits for it). Usage: bursar_domain_memory [N].

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "payments/platform.h"

namespace bursar {
namespace {

constexpr uint32_t kJpy = 392;
constexpr uint64_t kStart = 1'700'000'000ull * 1'000'000'000ull;

class Driver {
  public:
    payments::Outcome Run(payments::Command c) {
        c.principal.kind = payments::PrincipalKind::kAdmin;
        platform_.BeginBatch(platform_.ledger().last_timestamp() + 1'000);
        payments::Outcome outcome = platform_.Apply(c);
        platform_.EndBatch();
        if (!outcome.ok()) {
            std::fprintf(stderr, "command %s refused: %d\n", payments::CommandName(c.type),
                         static_cast<int>(outcome.code));
            std::exit(1);
        }
        return outcome;
    }
    payments::Platform& platform() { return platform_; }

  private:
    payments::Platform platform_;
};

struct Parts {
    uint64_t total, ledger, holds, refunds;
};

Parts PartsOf(const payments::Platform& p) {
    return {p.MemoryBytes(), p.ledger().MemoryBytes(), p.holds().MemoryBytes(),
            p.refunds().MemoryBytes()};
}

void Print(const char* what, const Parts& before, const Parts& after, uint64_t n) {
    auto per = [&](uint64_t a, uint64_t b) { return static_cast<double>(b - a) / n; };
    std::printf("%s: %.1f bytes each (ledger %.1f, holds %.1f, refunds %.1f, other %.1f)\n", what,
                per(before.total, after.total), per(before.ledger, after.ledger),
                per(before.holds, after.holds), per(before.refunds, after.refunds),
                per(before.total, after.total) - per(before.ledger, after.ledger) -
                    per(before.holds, after.holds) - per(before.refunds, after.refunds));
}

}  // namespace
}  // namespace bursar

int main(int argc, char** argv) {
    using namespace bursar;
    const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
    Driver d;
    payments::Command c;
    c.type = payments::CommandType::kRegisterUser;
    c.email = "u@example.com";
    c.name = "U";
    c.password_hash = "$argon2id$x";
    const uint64_t user = d.Run(c).object_id;
    c = {};
    c.type = payments::CommandType::kCreateMerchant;
    c.name = "M";
    c.tier = payments::Tier::kEnterprise;
    c.secret_hash = Sha256::Of("k", 1);
    const uint64_t merchant = d.Run(c).object_id;
    c = {};
    c.type = payments::CommandType::kTopup;
    c.user_id = user;
    c.amount = payments::kAmountMinorMax;
    c.currency = kJpy;
    d.Run(c);
    std::printf("machine: see docs/benchmarks.md; %llu of each\n",
                static_cast<unsigned long long>(n));

    // Open pre-authorizations.
    Parts before = PartsOf(d.platform());
    for (uint64_t i = 0; i < n; ++i) {
        c = {};
        c.type = payments::CommandType::kAuthorize;
        c.user_id = user;
        c.merchant_id = merchant;
        c.amount = 100;
        c.currency = kJpy;
        c.expires_in = 86'400;
        d.Run(c);
    }
    Print("open pre-authorization", before, PartsOf(d.platform()), n);
    // A snapshot's freeze runs on the engine thread between batches: with this many holds, how
    // long does it hold the engine (the holds section is serialized there)?
    const auto started = std::chrono::steady_clock::now();
    auto frozen = d.platform().Freeze();
    const auto took = std::chrono::steady_clock::now() - started;
    std::printf("freeze with %llu open pre-authorizations: %.1f ms\n",
                static_cast<unsigned long long>(n),
                std::chrono::duration<double, std::milli>(took).count());

    // Payments, then a refund of each.
    std::vector<uint64_t> paid;
    paid.reserve(n);
    before = PartsOf(d.platform());
    for (uint64_t i = 0; i < n; ++i) {
        c = {};
        c.type = payments::CommandType::kPay;
        c.user_id = user;
        c.merchant_id = merchant;
        c.amount = 1'000;
        c.currency = kJpy;
        paid.push_back(d.Run(c).txn->id);
    }
    Parts middle = PartsOf(d.platform());
    Print("payment (for comparison)", before, middle, n);
    for (uint64_t id : paid) {
        c = {};
        c.type = payments::CommandType::kRefund;
        c.txn_id = id;
        c.amount = 400;
        d.Run(c);
    }
    Print("refund (the first of its payment)", middle, PartsOf(d.platform()), n);
    const Status status = d.platform().CheckInvariants();
    std::printf("invariants: %s\n", status.ok() ? "ok" : status.ToString().c_str());
    return status.ok() ? 0 : 1;
}
