// Randomized differential test: the same random batches go to StateMachine and to ReferenceModel
// (an independent implementation of docs/ledger/result-codes.md); every result list, account,
// transfer and pending status must agree after every batch, and StateMachine's invariants must
// hold. BURSAR_MODEL_SEED runs one seed; BURSAR_MODEL_ITERATIONS sets the batches per seed.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "ledger/reference_model.h"
#include "ledger/state_machine.h"

namespace bursar::ledger {
namespace {

constexpr uint64_t kSeedsDefault[] = {1, 2, 3, 4, 5, 6};
constexpr uint64_t kBatchesDefault = 500;
constexpr uint64_t kAccountIdsWindow = 10;        // account ids in use at any time
constexpr uint64_t kAccountIdsSlideBatches = 25;  // the window moves up by one this often
constexpr size_t kHistoryMax = 64;                // recent events kept for resubmission
constexpr size_t kPendingIdsMax = 16;             // recent pending ids kept for posts and voids
constexpr uint64_t kRequestEventsMax = 12;
constexpr uint64_t kBatchRequestsMax = 3;
constexpr uint64_t kSecond = kNanosecondsPerSecond;

using transfer_flags::kBalancingCredit;
using transfer_flags::kBalancingDebit;
using transfer_flags::kLinked;
using transfer_flags::kPending;
using transfer_flags::kPostPendingTransfer;
using transfer_flags::kVoidPendingTransfer;

uint64_t EnvOr(const char* name, uint64_t fallback) {
    const char* text = std::getenv(name);
    return text == nullptr || *text == '\0' ? fallback : std::strtoull(text, nullptr, 10);
}

std::string Describe(const Account* a) {
    if (a == nullptr) return "none";
    return "account{id=" + U128ToString(a->id) + " dp=" + U128ToString(a->debits_pending) +
           " dP=" + U128ToString(a->debits_posted) + " cp=" + U128ToString(a->credits_pending) +
           " cP=" + U128ToString(a->credits_posted) + " ud128=" + U128ToString(a->user_data_128) +
           " ud64=" + std::to_string(a->user_data_64) + " ud32=" + std::to_string(a->user_data_32) +
           " reserved=" + std::to_string(a->reserved) + " currency=" + std::to_string(a->currency) +
           " kind=" + std::to_string(a->kind) + " flags=" + std::to_string(a->flags) +
           " timestamp=" + std::to_string(a->timestamp) + "}";
}

std::string Describe(const Transfer* t) {
    if (t == nullptr) return "none";
    return "transfer{id=" + U128ToString(t->id) + " dr=" + U128ToString(t->debit_account_id) +
           " cr=" + U128ToString(t->credit_account_id) + " amount=" + U128ToString(t->amount) +
           " pending_id=" + U128ToString(t->pending_id) +
           " ud128=" + U128ToString(t->user_data_128) + " ud64=" + std::to_string(t->user_data_64) +
           " ud32=" + std::to_string(t->user_data_32) + " timeout=" + std::to_string(t->timeout) +
           " currency=" + std::to_string(t->currency) + " code=" + std::to_string(t->code) +
           " flags=" + std::to_string(t->flags) + " timestamp=" + std::to_string(t->timestamp) +
           "}";
}

std::string DescribeResults(const std::vector<EventResult>& results, bool accounts) {
    std::string text;
    for (const EventResult& result : results) {
        const char* name =
            accounts ? CreateAccountResultName(static_cast<CreateAccountResult>(result.result))
                     : CreateTransferResultName(static_cast<CreateTransferResult>(result.result));
        text += " " + std::to_string(result.index) + ":" + name;
    }
    return text.empty() ? " (all ok)" : text;
}

bool SameResults(const std::vector<EventResult>& a, const std::vector<EventResult>& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](const EventResult& x, const EventResult& y) {
                                                  return x.index == y.index && x.result == y.result;
                                              });
}

// One request holds events of one operation: exactly one of the two vectors is non-empty.
struct Request {
    std::vector<Account> accounts;
    std::vector<Transfer> transfers;
};

struct Batch {
    uint64_t timestamp;
    std::vector<Request> requests;
};

// Random batches aimed at every result code. It reads the model (as of the batch's start) only
// to choose plausible fields: accounts of one currency, a pending transfer's fields, a batch or
// event timestamp that lands on a pending transfer's expires_at.
class Generator {
  public:
    Generator(uint64_t seed, const ReferenceModel* model) : rng_(seed), model_(model) {
        // Half the seeds run near the end of time, where long timeouts overflow.
        timestamp_ = Chance(50) ? 1'700'000'000 * kSecond : UINT64_MAX - (uint64_t{1} << 50);
    }

    Batch NextBatch() {
        if (batch_count_ > 0) timestamp_ = NextTimestamp();
        next_event_timestamp_ = timestamp_;
        Batch batch{timestamp_, {}};
        const uint64_t requests = Uniform(1, kBatchRequestsMax);
        for (uint64_t i = 0; i < requests; ++i) {
            Request request;
            if (batch_count_ % kAccountIdsSlideBatches < 2 || Chance(8)) {
                request.accounts = AccountRequest();
            } else {
                request.transfers = TransferRequest();
            }
            batch.requests.push_back(std::move(request));
        }
        ++batch_count_;
        return batch;
    }

  private:
    uint64_t Uniform(uint64_t low, uint64_t high) {
        return std::uniform_int_distribution<uint64_t>(low, high)(rng_);
    }
    bool Chance(uint64_t percent) { return Uniform(0, 99) < percent; }
    template <typename T>
    const T& PickRecent(const std::vector<T>& items, size_t recent) {
        const size_t first = items.size() > recent ? items.size() - recent : 0;
        return items[Uniform(first, items.size() - 1)];
    }

    // Above every timestamp used. Whole-second steps and steps onto a pending transfer's
    // expires_at make the sweep and events land exactly on expires_at.
    uint64_t NextTimestamp() {
        const uint64_t lowest = next_event_timestamp_;  // the previous batch's last event + 1
        if (Chance(25)) {
            const std::vector<const Transfer*> pending = LivePending();
            if (!pending.empty()) {
                const uint64_t expires_at = ExpiresAt(*pending[Uniform(0, pending.size() - 1)]);
                const uint64_t timestamp = expires_at - Uniform(0, 3);
                if (timestamp >= lowest) return timestamp;
            }
        }
        uint64_t step = 0;
        switch (Uniform(0, 5)) {
            case 0:
                step = kSecond;
                break;
            case 1:
                step = kSecond * Uniform(2, 3);
                break;
            case 2:
                step = kSecond - 20 + Uniform(0, 40);
                break;
            case 3:
                step = Uniform(1, 100);
                break;
            default:
                step = Uniform(1, 2 * kSecond);
                break;
        }
        return std::max(timestamp_ + step, lowest);
    }

    static uint64_t ExpiresAt(const Transfer& pending) {
        return pending.timestamp + pending.timeout * kSecond;
    }

    // Recent pending transfers that are stored, still pending, and expire.
    std::vector<const Transfer*> LivePending() const {
        std::vector<const Transfer*> live;
        const size_t first =
            pending_ids_.size() > 4 * kPendingIdsMax ? pending_ids_.size() - 4 * kPendingIdsMax : 0;
        for (size_t i = first; i < pending_ids_.size(); ++i) {
            const Transfer* pending = model_->FindTransfer(pending_ids_[i]);
            if (pending != nullptr && pending->timeout != 0 &&
                model_->GetPendingStatus(pending->id) == PendingStatus::kPending) {
                live.push_back(pending);
            }
        }
        return live;
    }

    u128 AccountId() {
        if (Chance(1)) return Chance(50) ? 0 : kU128Max;
        return AccountIdsBase() + Uniform(0, kAccountIdsWindow - 1);
    }
    uint64_t AccountIdsBase() const { return 1 + batch_count_ / kAccountIdsSlideBatches; }

    // Mostly an account of the debit account's currency.
    u128 CreditAccountId(u128 debit_account_id) {
        const Account* debit_account = model_->FindAccount(debit_account_id);
        if (debit_account != nullptr && Chance(85)) {
            std::vector<u128> same;
            for (uint64_t i = 0; i < kAccountIdsWindow; ++i) {
                const Account* account = model_->FindAccount(AccountIdsBase() + i);
                if (account != nullptr && account->id != debit_account_id &&
                    account->currency == debit_account->currency) {
                    same.push_back(account->id);
                }
            }
            if (!same.empty()) return same[Uniform(0, same.size() - 1)];
        }
        u128 id = AccountId();
        while (id == debit_account_id && Chance(90)) id = AccountId();
        return id;
    }

    uint32_t Currency() {
        const uint64_t r = Uniform(0, 99);
        if (r < 45) return 392;
        if (r < 90) return 840;
        if (r < 96) return 978;
        return r < 98 ? 0 : 999;  // zero, unknown
    }

    u128 Amount() {
        const uint64_t r = Uniform(0, 999);
        if (r < 15) return kU128Max - Uniform(0, 2);
        if (r < 30) return (u128{1} << 127) + Uniform(0, 10);
        if (r < 35) return UINT64_MAX;
        return Uniform(1, 1000);
    }

    uint32_t Timeout() {
        const uint64_t r = Uniform(0, 99);
        if (r < 75) return static_cast<uint32_t>(Uniform(1, 3));
        if (r < 90) return 0;
        if (r < 95) return static_cast<uint32_t>(Uniform(4, 100));
        return Chance(50) ? UINT32_MAX : 31'536'000;  // a year
    }

    std::vector<Account> AccountRequest() {
        std::vector<Account> events(Uniform(1, 6));
        for (Account& event : events) {
            event = RandomAccount();
            if (Chance(12)) event.flags |= account_flags::kLinked;
        }
        if ((events.back().flags & account_flags::kLinked) != 0 && Chance(60)) {
            events.back().flags &= ~account_flags::kLinked;
        }
        for (const Account& event : events) Remember(&account_history_, event);
        next_event_timestamp_ += events.size();
        return events;
    }

    Account RandomAccount() {
        if (!account_history_.empty() && Chance(30)) {
            Account account = PickRecent(account_history_, kHistoryMax);
            if (Chance(50)) {
                switch (Uniform(0, 5)) {
                    case 0:
                        account.flags ^= account_flags::kDebitsMustNotExceedCredits;
                        break;
                    case 1:
                        account.user_data_128 += 1;
                        break;
                    case 2:
                        account.user_data_64 += 1;
                        break;
                    case 3:
                        account.user_data_32 += 1;
                        break;
                    case 4:
                        account.currency = account.currency == 392 ? 840 : 392;
                        break;
                    default:
                        account.kind += 1;
                        break;
                }
            }
            return account;
        }
        Account account{};
        account.id = AccountId();
        for (uint64_t i = 0; i < kAccountIdsWindow && Chance(70); ++i) {
            if (model_->FindAccount(AccountIdsBase() + i) == nullptr) {
                account.id = AccountIdsBase() + i;  // a new account
                break;
            }
        }
        account.user_data_128 = Uniform(0, 1);
        account.user_data_64 = Uniform(0, 1);
        account.user_data_32 = static_cast<uint32_t>(Uniform(0, 1));
        account.currency = Currency();
        account.kind = Chance(3) ? 0 : static_cast<uint16_t>(Uniform(1, 3));
        const uint64_t r = Uniform(0, 99);
        if (r < 25) account.flags = account_flags::kDebitsMustNotExceedCredits;
        if (r >= 25 && r < 50) account.flags = account_flags::kCreditsMustNotExceedDebits;
        if (r >= 50 && r < 54) {
            account.flags = account_flags::kDebitsMustNotExceedCredits |
                            account_flags::kCreditsMustNotExceedDebits;
        }
        switch (Uniform(0, 99)) {
            case 0:
                account.flags |= static_cast<uint16_t>(1 << Uniform(3, 15));
                break;
            case 1:
                account.timestamp = Uniform(1, UINT64_MAX);
                break;
            case 2:
                account.reserved = 1;
                break;
            case 3:
                account.debits_pending = 1;
                break;
            case 4:
                account.debits_posted = 1;
                break;
            case 5:
                account.credits_pending = 1;
                break;
            case 6:
                account.credits_posted = 1;
                break;
            default:
                break;
        }
        return account;
    }

    std::vector<Transfer> TransferRequest() {
        const uint64_t count = Uniform(1, kRequestEventsMax);
        std::vector<Transfer> events;
        while (events.size() < count) {
            if (Chance(8)) {
                // A chain that creates a pending transfer and then posts or voids it.
                Transfer pending = PlainTransfer(true);
                pending.flags |= kLinked;
                pending_ids_.push_back(pending.id);
                Transfer resolve = Resolve(&pending, Chance(70));
                if (Chance(30)) resolve.flags |= kLinked;
                events.push_back(pending);
                events.push_back(resolve);
                continue;
            }
            Transfer event = RandomTransfer(next_event_timestamp_ + events.size());
            if (Chance(12)) event.flags |= kLinked;
            if ((event.flags & kPending) != 0) pending_ids_.push_back(event.id);
            events.push_back(event);
        }
        if ((events.back().flags & kLinked) != 0 && Chance(60)) events.back().flags &= ~kLinked;
        for (const Transfer& event : events) Remember(&history_, event);
        next_event_timestamp_ += events.size();
        return events;
    }

    // An event that will get `timestamp`.
    Transfer RandomTransfer(uint64_t timestamp) {
        const uint64_t r = Uniform(0, 99);
        if (r < 12 && !history_.empty()) return Resubmission();
        Transfer event{};
        if (r < 40) {
            event = PlainTransfer(false);
        } else if (r < 62) {
            event = PlainTransfer(true);
        } else if (r < 92) {
            event = Resolve(PendingTarget(timestamp), r < 80);
        } else {
            event = PlainTransfer(Chance(50));
            if (!history_.empty()) event.id = PickRecent(history_, kHistoryMax).id;
        }
        Spoil(&event);
        return event;
    }

    Transfer PlainTransfer(bool pending) {
        Transfer event{};
        event.id = next_transfer_id_++;
        event.debit_account_id = AccountId();
        event.credit_account_id = CreditAccountId(event.debit_account_id);
        event.amount = Amount();
        const Account* debit_account = model_->FindAccount(event.debit_account_id);
        event.currency =
            debit_account != nullptr && Chance(95) ? debit_account->currency : Currency();
        event.code = static_cast<uint16_t>(Uniform(1, 3));
        event.user_data_128 = Uniform(0, 1);
        event.user_data_64 = Uniform(0, 1);
        event.user_data_32 = static_cast<uint32_t>(Uniform(0, 1));
        if (pending) {
            event.flags |= kPending;
            event.timeout = Timeout();
        }
        if (Chance(15)) event.flags |= kBalancingDebit;
        if (Chance(15)) event.flags |= kBalancingCredit;
        return event;
    }

    // For a post or void at `timestamp`: now and then a pending transfer that expires right
    // then, mostly a recent stored one, else one that failed or something that is not one.
    const Transfer* PendingTarget(uint64_t timestamp) {
        if (Chance(35)) {
            for (const Transfer* pending : LivePending()) {
                const uint64_t expires_at = ExpiresAt(*pending);
                if (expires_at + 1 >= timestamp && expires_at <= timestamp + 1) return pending;
            }
        }
        if (!pending_ids_.empty() && Chance(90)) {
            for (int attempt = 0; attempt < 4; ++attempt) {
                const u128 id = PickRecent(pending_ids_, kPendingIdsMax);
                if (const Transfer* stored = model_->FindTransfer(id)) return stored;
            }
            pending_target_ = Transfer{};
            pending_target_.id = PickRecent(pending_ids_, kPendingIdsMax);
            return &pending_target_;
        }
        pending_target_ = history_.empty() ? Transfer{} : PickRecent(history_, kHistoryMax);
        if (Chance(50)) pending_target_.id = next_transfer_id_ + 1000;  // never stored
        return &pending_target_;
    }

    Transfer Resolve(const Transfer* pending, bool post) {
        Transfer event{};
        event.id = next_transfer_id_++;
        event.flags = post ? kPostPendingTransfer : kVoidPendingTransfer;
        event.pending_id = pending->id;
        // Mostly zero ("as the pending transfer"), sometimes the same, now and then different.
        const auto field = [this](auto same, auto other) -> decltype(same) {
            const uint64_t r = Uniform(0, 99);
            if (r < 70) return 0;
            return r < 92 ? same : other;
        };
        event.debit_account_id = field(pending->debit_account_id, AccountId());
        event.credit_account_id = field(pending->credit_account_id, AccountId());
        event.currency = field(pending->currency, Currency());
        event.code = field(pending->code, static_cast<uint16_t>(Uniform(0, 3)));
        const u128 full = pending->amount;
        const u128 part = full > 1 ? Uniform(1, Low64(std::min<u128>(full, UINT64_MAX))) : full;
        const u128 more = full == kU128Max ? full : full + 1;
        const u128 amounts[] = {0, 0, 0, full, full, part, part, more, Amount()};
        event.amount = amounts[Uniform(0, std::size(amounts) - 1)];
        if (!post && Chance(70)) event.amount = Chance(50) ? 0 : full;
        event.user_data_128 = Uniform(0, 1);
        event.user_data_64 = Uniform(0, 1);
        event.user_data_32 = static_cast<uint32_t>(Uniform(0, 1));
        return event;
    }

    // A recent event again, mostly one that is stored: as it was, as it was stored, or with one
    // field changed.
    Transfer Resubmission() {
        Transfer event = PickRecent(history_, kHistoryMax);
        for (int attempt = 0; attempt < 8 && Chance(90); ++attempt) {
            if (model_->FindTransfer(event.id) != nullptr) break;
            event = PickRecent(history_, kHistoryMax);
        }
        const Transfer* stored = model_->FindTransfer(event.id);
        if (stored != nullptr && Chance(25)) {
            event = *stored;
            event.timestamp = 0;
        }
        if (Chance(40)) return event;
        switch (Uniform(0, 12)) {
            case 0:
                event.flags ^= static_cast<uint16_t>(1 << Uniform(0, 5));
                break;
            case 1:
                event.pending_id += 1;
                break;
            case 2:
                event.timeout += 1;
                break;
            case 3:
                event.debit_account_id = Chance(50) ? 0 : event.debit_account_id + 1;
                break;
            case 4:
                event.credit_account_id = Chance(50) ? 0 : event.credit_account_id + 1;
                break;
            case 5:
                event.amount = Chance(30) ? 0 : event.amount + 1;
                break;
            case 6:
                event.amount = event.amount - 1;
                break;
            case 7:
                event.user_data_128 += 1;
                break;
            case 8:
                event.user_data_64 += 1;
                break;
            case 9:
                event.user_data_32 += 1;
                break;
            case 10:
                event.currency = Chance(50) ? 0 : event.currency + 1;
                break;
            case 11:
                event.code = Chance(50) ? 0 : static_cast<uint16_t>(event.code + 1);
                break;
            default:  // everything a post or void may leave zero
                event.debit_account_id = 0;
                event.credit_account_id = 0;
                event.currency = 0;
                event.code = 0;
                event.amount = 0;
                break;
        }
        return event;
    }

    // Now and then one field that a check refuses.
    void Spoil(Transfer* event) {
        switch (Uniform(0, 99)) {
            case 0:
                event->timestamp = Uniform(1, UINT64_MAX);
                break;
            case 1:
                event->flags |= static_cast<uint16_t>(1 << Uniform(6, 15));
                break;
            case 2:
                event->id = 0;
                break;
            case 3:
                event->id = kU128Max;
                break;
            case 4:
                event->flags |= static_cast<uint16_t>(1 << Uniform(1, 5));
                break;
            case 5:
                event->debit_account_id = Chance(50) ? 0 : kU128Max;
                break;
            case 6:
                event->credit_account_id = Chance(50) ? 0 : kU128Max;
                break;
            case 7:
                event->pending_id = Chance(50) ? Uniform(1, 100) : 0;
                break;
            case 8:
                event->timeout = static_cast<uint32_t>(Uniform(1, 3));
                break;
            case 9:
                event->amount = 0;
                break;
            case 10:
                event->currency = 0;
                break;
            case 11:
                event->code = 0;
                break;
            case 12:
                event->pending_id = kU128Max;
                break;
            case 13:
                event->pending_id = event->id;
                break;
            default:
                break;
        }
    }

    template <typename T>
    static void Remember(std::vector<T>* history, const T& event) {
        history->push_back(event);
        if (history->size() > 4 * kHistoryMax) {
            history->erase(history->begin(), history->end() - kHistoryMax);
        }
    }

    std::mt19937_64 rng_;
    const ReferenceModel* model_;
    uint64_t timestamp_ = 0;             // the current batch's
    uint64_t next_event_timestamp_ = 0;  // the next event's in the current batch
    uint64_t batch_count_ = 0;
    u128 next_transfer_id_ = 1;
    std::vector<Account> account_history_;
    std::vector<Transfer> history_;
    std::vector<u128> pending_ids_;
    Transfer pending_target_{};
};

// What the runs reached, to show that the generator covers every path.
struct Coverage {
    std::array<uint64_t, kCreateAccountResultMax + 1> account_results{};
    std::array<uint64_t, kCreateTransferResultMax + 1> transfer_results{};
    uint64_t resolves_at_expires_at = 0;  // posts and voids whose timestamp is exactly expires_at
    uint64_t chains_resolving_own_pending = 0;  // ok posts/voids of a pending made in the chain

    void Count(const std::vector<EventResult>& results, size_t events, bool accounts) {
        const std::span<uint64_t> counts =
            accounts ? std::span<uint64_t>(account_results) : std::span<uint64_t>(transfer_results);
        counts[0] += events - results.size();
        for (const EventResult& result : results) ++counts[result.result];
    }
};

class Differential {
  public:
    explicit Differential(uint64_t seed) : seed_(seed), generator_(seed, &model_) {}

    // Applies one random batch to both and compares; false (with a test failure) on the first
    // disagreement.
    bool Step(Coverage* coverage) {
        const Batch batch = generator_.NextBatch();
        SCOPED_TRACE("seed " + std::to_string(seed_) + " batch " + std::to_string(batch_count_) +
                     " at " + std::to_string(batch.timestamp));
        ++batch_count_;
        machine_.BeginBatch(batch.timestamp);
        model_.BeginBatch(batch.timestamp);
        uint64_t event_timestamp = batch.timestamp;
        for (size_t r = 0; r < batch.requests.size(); ++r) {
            const Request& request = batch.requests[r];
            const bool accounts = !request.accounts.empty();
            std::vector<EventResult> expected;
            std::vector<EventResult> actual;
            if (accounts) {
                for (const Account& event : request.accounts) account_ids_.insert(event.id);
                model_.CreateAccounts(request.accounts, &expected);
                machine_.CreateAccounts(request.accounts, &actual);
            } else {
                CountRaces(request.transfers, event_timestamp, coverage);
                for (const Transfer& event : request.transfers) {
                    transfer_ids_.insert(event.id);
                    transfer_ids_.insert(event.pending_id);
                }
                model_.CreateTransfers(request.transfers, &expected);
                machine_.CreateTransfers(request.transfers, &actual);
                CountOwnPendingResolved(request.transfers, expected, coverage);
            }
            const size_t events = accounts ? request.accounts.size() : request.transfers.size();
            event_timestamp += events;
            coverage->Count(expected, events, accounts);
            if (!SameResults(expected, actual)) {
                std::string text = "request " + std::to_string(r) + " (first event at " +
                                   std::to_string(event_timestamp - events) + "):\n";
                for (size_t i = 0; i < events; ++i) {
                    text += "  " + std::to_string(i) + " " +
                            (accounts ? Describe(&request.accounts[i])
                                      : Describe(&request.transfers[i])) +
                            "\n";
                }
                ADD_FAILURE() << text << "expected (model):" << DescribeResults(expected, accounts)
                              << "\nactual (state machine):" << DescribeResults(actual, accounts);
                return false;
            }
        }
        machine_.EndBatch();
        model_.EndBatch();
        const Status invariants = machine_.CheckInvariants();
        if (!invariants.ok()) {
            ADD_FAILURE() << "CheckInvariants: " << invariants.ToString();
            return false;
        }
        return SameState();
    }

  private:
    bool SameState() {
        bool same = true;
        for (const u128 id : account_ids_) {
            if (id == 0 || id == kU128Max) continue;
            const Account* expected = model_.FindAccount(id);
            const Account* actual = machine_.FindAccount(id);
            if ((expected == nullptr) != (actual == nullptr) ||
                (expected != nullptr && std::memcmp(expected, actual, sizeof(Account)) != 0)) {
                ADD_FAILURE() << "expected (model) " << Describe(expected)
                              << "\nactual (state machine) " << Describe(actual);
                same = false;
            }
        }
        for (const u128 id : transfer_ids_) {
            if (id == 0 || id == kU128Max) continue;
            const Transfer* expected = model_.FindTransfer(id);
            const Transfer* actual = machine_.FindTransfer(id);
            if ((expected == nullptr) != (actual == nullptr) ||
                (expected != nullptr && std::memcmp(expected, actual, sizeof(Transfer)) != 0)) {
                ADD_FAILURE() << "expected (model) " << Describe(expected)
                              << "\nactual (state machine) " << Describe(actual);
                same = false;
            }
            const PendingStatus expected_status = model_.GetPendingStatus(id);
            const PendingStatus actual_status = machine_.GetPendingStatus(id);
            if (expected_status != actual_status) {
                ADD_FAILURE() << "transfer " << U128ToString(id) << " pending status: expected "
                              << PendingStatusName(expected_status) << ", actual "
                              << PendingStatusName(actual_status);
                same = false;
            }
        }
        EXPECT_EQ(model_.account_count(), machine_.account_count());
        EXPECT_EQ(model_.transfer_count(), machine_.transfer_count());
        EXPECT_EQ(model_.failed_id_count(), machine_.failed_id_count());
        return same && model_.account_count() == machine_.account_count() &&
               model_.transfer_count() == machine_.transfer_count() &&
               model_.failed_id_count() == machine_.failed_id_count();
    }

    void CountRaces(const std::vector<Transfer>& events, uint64_t first_timestamp,
                    Coverage* coverage) const {
        for (size_t i = 0; i < events.size(); ++i) {
            if ((events[i].flags & (kPostPendingTransfer | kVoidPendingTransfer)) == 0) continue;
            const Transfer* pending = model_.FindTransfer(events[i].pending_id);
            if (pending == nullptr || pending->timeout == 0) continue;
            const u128 expires_at = u128{pending->timestamp} + pending->timeout * u128{kSecond};
            if (expires_at == first_timestamp + i) ++coverage->resolves_at_expires_at;
        }
    }

    static void CountOwnPendingResolved(const std::vector<Transfer>& events,
                                        const std::vector<EventResult>& results,
                                        Coverage* coverage) {
        for (size_t i = 1; i < events.size(); ++i) {
            const bool resolve =
                (events[i].flags & (kPostPendingTransfer | kVoidPendingTransfer)) != 0;
            const bool failed = std::any_of(results.begin(), results.end(),
                                            [i](const EventResult& r) { return r.index == i; });
            if (resolve && !failed && events[i - 1].id == events[i].pending_id &&
                (events[i - 1].flags & kLinked) != 0) {
                ++coverage->chains_resolving_own_pending;
            }
        }
    }

    uint64_t seed_;
    uint64_t batch_count_ = 0;
    StateMachine machine_;
    ReferenceModel model_;
    Generator generator_;
    std::set<u128> account_ids_;
    std::set<u128> transfer_ids_;
};

TEST(ModelDifferential, RandomBatchesAgree) {
    const bool seed_given = std::getenv("BURSAR_MODEL_SEED") != nullptr;
    std::vector<uint64_t> seeds(std::begin(kSeedsDefault), std::end(kSeedsDefault));
    if (seed_given) seeds = {EnvOr("BURSAR_MODEL_SEED", 0)};
    const uint64_t batches = EnvOr("BURSAR_MODEL_ITERATIONS", kBatchesDefault);
    Coverage coverage;
    bool all_agree = true;
    for (const uint64_t seed : seeds) {
        SCOPED_TRACE("rerun with BURSAR_MODEL_SEED=" + std::to_string(seed));
        Differential differential(seed);
        for (uint64_t batch = 0; batch < batches; ++batch) {
            if (!differential.Step(&coverage)) {
                all_agree = false;
                break;
            }
        }
    }
    if (seed_given || batches < kBatchesDefault || !all_agree) return;
    for (uint32_t result = 0; result <= kCreateAccountResultMax; ++result) {
        EXPECT_GT(coverage.account_results[result], 0u)
            << "never reached: "
            << CreateAccountResultName(static_cast<CreateAccountResult>(result));
    }
    for (uint32_t result = 0; result <= kCreateTransferResultMax; ++result) {
        EXPECT_GT(coverage.transfer_results[result], 0u)
            << "never reached: "
            << CreateTransferResultName(static_cast<CreateTransferResult>(result));
    }
    EXPECT_GT(coverage.resolves_at_expires_at, 0u);
    EXPECT_GT(coverage.chains_resolving_own_pending, 0u);
}

TEST(ModelStateHash, EqualForEqualBatchesAndDiffersAfterOneMoreTransfer) {
    StateMachine a;
    StateMachine b;
    ReferenceModel model;
    Generator generator(7, &model);
    uint64_t timestamp = 0;
    for (int i = 0; i < 50; ++i) {
        const Batch batch = generator.NextBatch();
        timestamp = batch.timestamp;
        for (StateMachine* machine : {&a, &b}) {
            machine->BeginBatch(batch.timestamp);
            std::vector<EventResult> results;
            for (const Request& request : batch.requests) {
                if (!request.accounts.empty()) machine->CreateAccounts(request.accounts, &results);
                if (!request.transfers.empty()) {
                    machine->CreateTransfers(request.transfers, &results);
                }
            }
            machine->EndBatch();
        }
        model.BeginBatch(batch.timestamp);
        std::vector<EventResult> results;
        for (const Request& request : batch.requests) {
            if (!request.accounts.empty()) model.CreateAccounts(request.accounts, &results);
            if (!request.transfers.empty()) model.CreateTransfers(request.transfers, &results);
        }
        model.EndBatch();
    }
    EXPECT_EQ(a.StateHash(), b.StateHash());

    constexpr u128 kDebitId = 1'000'001;
    constexpr u128 kCreditId = 1'000'002;
    Account accounts[2] = {};
    accounts[0].id = kDebitId;
    accounts[1].id = kCreditId;
    for (Account& account : accounts) {
        account.currency = 840;
        account.kind = 1;
    }
    timestamp += kSecond;
    for (StateMachine* machine : {&a, &b}) {
        machine->BeginBatch(timestamp);
        std::vector<EventResult> results;
        machine->CreateAccounts(accounts, &results);
        machine->EndBatch();
        EXPECT_TRUE(results.empty());
    }
    EXPECT_EQ(a.StateHash(), b.StateHash());

    Transfer transfer{};
    transfer.id = 1'000'003;
    transfer.debit_account_id = kDebitId;
    transfer.credit_account_id = kCreditId;
    transfer.amount = 5;
    transfer.currency = 840;
    transfer.code = 1;
    b.BeginBatch(timestamp + kSecond);
    std::vector<EventResult> results;
    b.CreateTransfers(std::span(&transfer, 1), &results);
    b.EndBatch();
    EXPECT_TRUE(results.empty());
    EXPECT_NE(a.StateHash(), b.StateHash());
}

}  // namespace
}  // namespace bursar::ledger
