#include "payments/testing/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "base/clock.h"
#include "base/sim_file_system.h"
#include "engine/engine.h"
#include "engine/replay.h"
#include "journal/reader.h"
#include "ledger/currency.h"
#include "payments/limits/limits.h"
#include "payments/platform.h"

namespace bursar::payments::testing {
namespace {

constexpr uint64_t kStartNs = 1'700'000'000ull * 1'000'000'000ull;
constexpr uint64_t kSessionTtlNs = 24ull * 3600 * 1'000'000'000;
constexpr uint64_t kTickIntervalNs = 20'000'000;        // the engine's idle wake-up in scenarios
constexpr auto kTickWaitMax = std::chrono::seconds(5);  // real time a `tick` step may wait

Hash256 HashOf(std::string_view text) { return Sha256::Of(text.data(), text.size()); }

// One line of a scenario: its words, and its key=value options.
struct Step {
    int line = 0;
    std::vector<std::string> words;
    std::map<std::string, std::string> options;
    std::vector<std::string> flags;  // bare words after the positional ones (result, replayed)
};

class Runner {
  public:
    explicit Runner(std::string path) : path_(std::move(path)), fs_(7), clock_(kStartNs) {}

    void Run() {
        std::ifstream file(path_);
        ASSERT_TRUE(file) << "cannot read " << path_;
        Open();
        std::string text;
        int line = 0;
        while (std::getline(file, text)) {
            ++line;
            const size_t hash = text.find('#');
            if (hash != std::string::npos) text.resize(hash);
            std::istringstream words(text);
            Step step;
            step.line = line;
            for (std::string word; words >> word;) step.words.push_back(word);
            if (step.words.empty()) continue;
            SCOPED_TRACE(path_ + ":" + std::to_string(line) + ": " + text);
            Execute(step);
            // After `time` nothing has happened yet (the state moves in batches only), and a read
            // would itself be a batch that fires what is due: the next step decides, e.g. `tick`.
            if (step.words[0] != "time") CheckInvariants();
            if (::testing::Test::HasFatalFailure()) return;
        }
        engine_->Stop();
    }

  private:
    void Open() {
        engine::EngineOptions options;
        options.data_dir = "data";
        options.tick_interval_ns = kTickIntervalNs;
        auto opened = engine::Engine::Open(fs_, clock_, options);
        ASSERT_TRUE(opened) << opened.error().ToString();
        engine_ = std::move(*opened);
        engine_->Start();
    }

    template <typename Fn>
    void Read(Fn&& fn) {
        engine::Request query;
        query.operation = engine::Operation::kQuery;
        query.query = [&](const Platform& platform) { fn(platform); };
        ASSERT_TRUE(engine::SubmitAndWait(*engine_, query).ok());
        ASSERT_TRUE(query.status.ok()) << query.status.ToString();
    }

    void CheckInvariants() {
        Status status;
        Read([&](const Platform& platform) {
            status = platform.CheckInvariants();
            RecountLimits(platform);
        });
        EXPECT_TRUE(status.ok()) << status.ToString();
    }

    // The limits' invariant: each counter equals a recount of its window's payments (and
    // captures) since limits were configured, less the refunds made in that same window.
    static void RecountLimits(const Platform& platform) {
        const risk::Limits& limits = platform.limits();
        if (!limits.configured()) return;
        using Window = std::tuple<uint64_t, uint32_t, int64_t>;  // id, currency, day or month
        std::map<Window, u128> user_days, merchant_days, merchant_months;
        std::map<uint64_t, Txn> counted;
        for (uint64_t id = 1;; ++id) {
            std::optional<Txn> txn = platform.FindTxn(id);
            if (!txn) break;
            if (txn->type == TxnType::kPay && txn->created_at >= limits.configured_at()) {
                counted[id] = *txn;
                const int64_t day = limits.DayOf(txn->created_at);
                user_days[{txn->user_id, txn->currency, day}] += txn->amount;
                merchant_days[{txn->merchant_id, txn->currency, day}] += txn->amount;
                merchant_months[{txn->merchant_id, txn->currency,
                                 limits.MonthOf(txn->created_at)}] += txn->amount;
            }
            if (txn->type == TxnType::kRefund && counted.contains(txn->payment_id)) {
                const Txn& paid = counted[txn->payment_id];
                const int64_t day = limits.DayOf(paid.created_at);
                const int64_t month = limits.MonthOf(paid.created_at);
                if (limits.DayOf(txn->created_at) == day) {
                    user_days[{paid.user_id, paid.currency, day}] -= txn->amount;
                    merchant_days[{paid.merchant_id, paid.currency, day}] -= txn->amount;
                }
                if (limits.MonthOf(txn->created_at) == month) {
                    merchant_months[{paid.merchant_id, paid.currency, month}] -= txn->amount;
                }
            }
        }
        auto recount = [](const std::map<Window, u128>& sums, const Window& window) {
            auto it = sums.find(window);
            return it == sums.end() ? u128{0} : it->second;
        };
        for (const auto& [key, counter] : limits.user_counters()) {
            EXPECT_EQ(counter.day_used, recount(user_days, {key.first, key.second, counter.day}))
                << "user " << key.first << " day " << counter.day;
        }
        for (const auto& [key, counter] : limits.merchant_counters()) {
            EXPECT_EQ(counter.day_used,
                      recount(merchant_days, {key.first, key.second, counter.day}))
                << "merchant " << key.first << " day " << counter.day;
            EXPECT_EQ(counter.month_used,
                      recount(merchant_months, {key.first, key.second, counter.month}))
                << "merchant " << key.first << " month " << counter.month;
        }
    }

    Hash256 StateHash() {
        Hash256 hash{};
        Read([&](const Platform& platform) { hash = platform.StateHash(); });
        return hash;
    }

    // Splits the step's words into positional ones (the first `positional`) and the rest:
    // key=value options and bare flags.
    static void Split(Step& step, size_t positional) {
        std::vector<std::string> words = step.words;
        step.words.clear();
        for (size_t i = 0; i < words.size(); ++i) {
            const size_t equals = words[i].find('=');
            if (i > 0 && equals != std::string::npos) {
                step.options[words[i].substr(0, equals)] = words[i].substr(equals + 1);
            } else if (step.words.size() < positional + 1) {
                step.words.push_back(words[i]);
            } else {
                step.flags.push_back(words[i]);
            }
        }
    }

    Principal PrincipalOf(const std::string& who) {
        if (who == "admin") return Principal{PrincipalKind::kAdmin, HashOf("admin")};
        if (who == "anonymous") return Principal{};
        if (who == "forged") return Principal{PrincipalKind::kSession, HashOf("forged")};
        if (auto it = sessions_.find(who); it != sessions_.end()) {
            return Principal{PrincipalKind::kSession, it->second};
        }
        if (auto it = merchants_.find(who); it != merchants_.end()) {
            return Principal{PrincipalKind::kApiKey, HashOf("key-" + who)};
        }
        ADD_FAILURE() << "no such caller: " << who;
        return Principal{};
    }

    uint64_t UserId(const std::string& name) {
        if (auto it = users_.find(name); it != users_.end()) return it->second;
        if (name.rfind("usr_", 0) == 0) return std::stoull(name.substr(4));  // unknown ids
        ADD_FAILURE() << "no such user: " << name;
        return 0;
    }

    uint64_t MerchantId(const std::string& name) {
        if (auto it = merchants_.find(name); it != merchants_.end()) return it->second;
        if (name.rfind("mch_", 0) == 0) return std::stoull(name.substr(4));
        ADD_FAILURE() << "no such merchant: " << name;
        return 0;
    }

    static uint32_t Currency(const std::string& code) {
        const ledger::CurrencyInfo* info = ledger::FindCurrencyByCode(code);
        return info == nullptr ? 1 : info->id;  // 1: no currency's id, for currency_unknown
    }

    static u128 Amount(const std::string& text) { return *U128FromString(text); }

    // The step's currency: a bare word of three capital letters, JPY when there is none.
    static uint32_t TakeCurrency(Step& step) {
        for (auto it = step.flags.begin(); it != step.flags.end(); ++it) {
            if (it->size() == 3 &&
                std::all_of(it->begin(), it->end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
                const uint32_t currency = Currency(*it);
                step.flags.erase(it);
                return currency;
            }
        }
        return Currency("JPY");
    }

    // Sends `c` (with the step's as= and key= options) and checks the step's result and extras.
    Outcome Send(Command c, const Step& step, const std::string& default_caller) {
        c.principal =
            PrincipalOf(step.options.contains("as") ? step.options.at("as") : default_caller);
        if (step.options.contains("key")) {
            c.idempotency_key = step.options.at("key");
            std::string encoded;
            Command fields = c;
            fields.principal = {};
            fields.idempotency_key.clear();
            EncodeCommand(fields, &encoded);
            c.request_fingerprint = HashOf(encoded);
        }
        auto outcome = engine::RunCommand(*engine_, c);
        EXPECT_TRUE(outcome) << outcome.error().ToString();
        if (!outcome) return Outcome{};
        std::string expected = "ok";
        bool replayed = false;
        for (const std::string& flag : step.flags) {
            if (flag == "replayed") {
                replayed = true;
            } else {
                expected = flag;
            }
        }
        EXPECT_EQ(ScenarioResultName(static_cast<uint16_t>(outcome->code)), expected);
        EXPECT_EQ(outcome->replayed, replayed);
        if (step.options.contains("fee")) {
            EXPECT_TRUE(outcome->txn);
            if (outcome->txn) {
                EXPECT_EQ(outcome->txn->fee, Amount(step.options.at("fee")));
            }
        }
        if (step.options.contains("balance")) {
            EXPECT_EQ(outcome->balance, Amount(step.options.at("balance")));
        }
        if (step.options.contains("txn")) {
            EXPECT_TRUE(outcome->txn);
            if (outcome->txn) {
                EXPECT_EQ(outcome->txn->id, std::stoull(step.options.at("txn")));
            }
        }
        return *outcome;
    }

    void Login(const std::string& name, const Step& step) {
        Command c;
        c.type = CommandType::kCreateSession;
        c.user_id = UserId(name);
        const Hash256 token = HashOf("session-" + name + "-" + std::to_string(++logins_));
        c.secret_hash = token;
        c.expires_at = clock_.RealtimeNs() + kSessionTtlNs;
        if (Send(c, step, "anonymous").ok()) sessions_[name] = token;
    }

    void Execute(Step step) {
        const std::string verb = step.words[0];
        if (verb == "user") {
            Split(step, 1);
            ASSERT_EQ(step.words.size(), 2u) << "user NAME";
            const std::string& name = step.words[1];
            Command c;
            c.type = CommandType::kRegisterUser;
            c.email =
                step.options.contains("email") ? step.options.at("email") : name + "@example.com";
            c.name = name;
            c.password_hash = "$argon2id$scenario";
            Outcome registered = Send(c, step, "anonymous");
            if (!registered.ok()) return;
            users_[name] = registered.object_id;
            Step login = step;
            login.flags.clear();
            login.options.clear();
            Login(name, login);
        } else if (verb == "register") {
            Split(step, 1);
            Command c;
            c.type = CommandType::kRegisterUser;
            c.email = step.words.at(1);
            c.name = "Someone";
            Send(c, step, "anonymous");
        } else if (verb == "login") {
            Split(step, 1);
            Login(step.words.at(1), step);
        } else if (verb == "logout") {
            Split(step, 1);
            Command c;
            c.type = CommandType::kRevokeSession;
            Send(c, step, step.words.at(1));
        } else if (verb == "rename") {
            Split(step, 2);
            Command c;
            c.type = CommandType::kUpdateUser;
            c.user_id = UserId(step.words.at(1));
            c.name = step.words.at(2);
            Send(c, step, step.words.at(1));
        } else if (verb == "merchant") {
            Split(step, 1);
            const std::string& name = step.words.at(1);
            Command c;
            c.type = CommandType::kCreateMerchant;
            c.name = name;
            const std::string tier =
                step.options.contains("tier") ? step.options.at("tier") : "starter";
            ASSERT_NE(FindTier(tier), nullptr) << tier;
            c.tier = FindTier(tier)->tier;
            c.secret_hash = HashOf("key-" + name);
            Outcome created = Send(c, step, "admin");
            if (created.ok()) merchants_[name] = created.object_id;
        } else if (verb == "tier") {
            Split(step, 2);
            Command c;
            c.type = CommandType::kChangeTier;
            c.merchant_id = MerchantId(step.words.at(1));
            ASSERT_NE(FindTier(step.words.at(2)), nullptr) << step.words.at(2);
            c.tier = FindTier(step.words.at(2))->tier;
            c.reason = step.options.contains("reason") ? step.options.at("reason") : "scenario";
            Send(c, step, "admin");
        } else if (verb == "topup") {
            Split(step, 2);
            Command c;
            c.type = CommandType::kTopup;
            c.user_id = UserId(step.words.at(1));
            c.amount = Amount(step.words.at(2));
            c.currency = TakeCurrency(step);
            Send(c, step, step.words.at(1));
        } else if (verb == "pay") {
            Split(step, 3);
            Command c;
            c.type = CommandType::kPay;
            c.user_id = UserId(step.words.at(1));
            c.merchant_id = MerchantId(step.words.at(2));
            c.amount = Amount(step.words.at(3));
            c.currency = TakeCurrency(step);
            Send(c, step, step.words.at(1));
        } else if (verb == "transfer") {
            Split(step, 3);
            Command c;
            c.type = CommandType::kTransfer;
            c.user_id = UserId(step.words.at(1));
            c.to_user_id = UserId(step.words.at(2));
            c.amount = Amount(step.words.at(3));
            c.currency = TakeCurrency(step);
            Send(c, step, step.words.at(1));
        } else if (verb == "refund") {
            Split(step, 2);
            ASSERT_EQ(step.words.size(), 3u) << "refund MERCHANT TXN [AMOUNT]";
            Command c;
            c.type = CommandType::kRefund;
            c.txn_id = std::stoull(step.words.at(2));
            // The amount, when given, is the first flag (a number: not a result name).
            if (!step.flags.empty() && U128FromString(step.flags.front())) {
                c.amount = Amount(step.flags.front());
                step.flags.erase(step.flags.begin());
            }
            if (step.options.contains("reason")) {
                auto reason = FindRefundReason(step.options.at("reason"));
                ASSERT_TRUE(reason) << step.options.at("reason");
                c.refund_reason = *reason;
            }
            Send(c, step, step.words.at(1));
        } else if (verb == "authorize") {
            Split(step, 3);
            Command c;
            c.type = CommandType::kAuthorize;
            c.user_id = UserId(step.words.at(1));
            c.merchant_id = MerchantId(step.words.at(2));
            c.amount = Amount(step.words.at(3));
            c.currency = TakeCurrency(step);
            if (step.options.contains("expires")) {
                c.expires_in = std::stoull(step.options.at("expires"));
            }
            if (step.options.contains("ref")) c.reference = step.options.at("ref");
            const Outcome outcome = Send(c, step, step.words.at(1));
            if (step.options.contains("hold")) {
                EXPECT_TRUE(outcome.hold);
                if (outcome.hold) {
                    EXPECT_EQ(outcome.hold->id, std::stoull(step.options.at("hold")));
                }
            }
        } else if (verb == "capture" || verb == "cancel") {
            Split(step, 2);
            ASSERT_EQ(step.words.size(), 3u) << verb << " MERCHANT HOLD [AMOUNT]";
            Command c;
            c.type = verb == "capture" ? CommandType::kCapture : CommandType::kCancelHold;
            c.hold_id = std::stoull(step.words.at(2));
            if (!step.flags.empty() && U128FromString(step.flags.front())) {
                c.amount = Amount(step.flags.front());
                step.flags.erase(step.flags.begin());
            }
            c.final = step.options.contains("final");
            if (step.options.contains("reason")) c.reason = step.options.at("reason");
            Send(c, step, step.words.at(1));
        } else if (verb == "configure") {
            Split(step, 0);
            Command c;
            c.type = CommandType::kConfigureRisk;
            c.utc_offset_minutes =
                step.options.contains("offset") ? std::stoi(step.options.at("offset")) : 0;
            c.limit_single = step.options.contains("single")
                                 ? std::stoull(step.options.at("single"))
                                 : 1'000'000;
            c.limit_daily =
                step.options.contains("daily") ? std::stoull(step.options.at("daily")) : 5'000'000;
            Send(c, step, "admin");
        } else if (verb == "limits") {
            Split(step, 2);
            ASSERT_EQ(step.words.size(), 3u) << "limits merchant|user NAME single= daily= ...";
            Command c;
            const bool merchant = step.words.at(1) == "merchant";
            c.type = merchant ? CommandType::kSetMerchantLimits : CommandType::kSetUserLimits;
            if (merchant) {
                c.merchant_id = MerchantId(step.words.at(2));
            } else {
                c.user_id = UserId(step.words.at(2));
            }
            auto number = [&](const char* name) {
                return step.options.contains(name) ? std::stoull(step.options.at(name)) : 0;
            };
            c.limit_single = number("single");
            c.limit_daily = number("daily");
            c.limit_monthly = number("monthly");
            Send(c, step, "admin");
        } else if (verb == "time") {
            ASSERT_EQ(step.words.size(), 2u) << "time +N(s|m|h|d)";
            const std::string& delta = step.words[1];
            ASSERT_TRUE(delta.size() >= 3 && delta[0] == '+') << delta;
            const uint64_t count = std::stoull(delta.substr(1, delta.size() - 2));
            const char unit = delta.back();
            const uint64_t unit_ns = unit == 's'   ? 1'000'000'000ull
                                     : unit == 'm' ? 60'000'000'000ull
                                     : unit == 'h' ? 3'600'000'000'000ull
                                                   : 86'400'000'000'000ull;
            clock_.Advance(count * unit_ns);
        } else if (verb == "tick") {
            // Nothing is sent: the engine's own tick must journal a batch (a deadline is due).
            const uint64_t before = engine_->committed_seq();
            const auto deadline = std::chrono::steady_clock::now() + kTickWaitMax;
            while (engine_->committed_seq() == before &&
                   std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            EXPECT_GT(engine_->committed_seq(), before) << "no tick was journaled";
        } else if (verb == "restart" || verb == "crash") {
            saved_hash_ = StateHash();
            if (verb == "crash") fs_.PowerCut();
            engine_->Stop();
            engine_.reset();
            Open();
        } else if (verb == "expect") {
            Expect(step);
        } else {
            ADD_FAILURE() << "unknown step: " << verb;
        }
    }

    void Expect(Step step) {
        ASSERT_GE(step.words.size(), 2u);
        const std::string what = step.words[1];
        if (what == "hash") {
            ASSERT_EQ(step.words.size(), 3u);
            ASSERT_EQ(step.words[2], "unchanged");
            EXPECT_EQ(StateHash(), saved_hash_) << "the state hash changed across the restart";
        } else if (what == "replay") {
            // A fresh state machine fed the whole journal gives the engine's state hash.
            engine_->Stop();
            const Hash256 engine_hash = engine_->platform().StateHash();
            Platform fresh;
            journal::ScanOptions options;
            options.from_first_segment = true;
            auto scanned = journal::Scan(
                fs_, "data/journal", options,
                [&](const journal::RecordView& r) { return engine::ReplayRecord(fresh, r); });
            ASSERT_TRUE(scanned) << scanned.error().ToString();
            EXPECT_EQ(fresh.StateHash(), engine_hash);
            engine_.reset();
            Open();
        } else if (what == "wallet") {
            Split(step, 2);
            const uint64_t user = UserId(step.words.at(2));
            const uint32_t currency = TakeCurrency(step);
            u128 balance = 0, frozen = 0;
            bool exists = false;
            Read([&](const Platform& platform) {
                const ledger::Account* a =
                    platform.ledger().FindAccount(WalletAccountId(user, currency));
                exists = a != nullptr;
                if (a != nullptr) {
                    balance = a->credits_posted - a->debits_posted;
                    frozen = a->debits_pending;
                }
            });
            if (step.flags.size() == 1 && step.flags[0] == "none") {
                EXPECT_FALSE(exists) << "the wallet exists";
                return;
            }
            EXPECT_TRUE(exists) << "no wallet";
            if (step.options.contains("balance")) {
                EXPECT_EQ(balance, Amount(step.options.at("balance")));
            }
            if (step.options.contains("available")) {
                EXPECT_EQ(balance - frozen, Amount(step.options.at("available")));
            }
            if (step.options.contains("frozen")) {
                EXPECT_EQ(frozen, Amount(step.options.at("frozen")));
            }
        } else if (what == "merchant") {
            Split(step, 2);
            const uint64_t merchant = MerchantId(step.words.at(2));
            const uint32_t currency = TakeCurrency(step);
            u128 balance = 0;
            Read([&](const Platform& platform) {
                const ledger::Account* a =
                    platform.ledger().FindAccount(MerchantAccountId(merchant, currency));
                if (a != nullptr) balance = a->credits_posted - a->debits_posted;
            });
            EXPECT_EQ(balance, Amount(step.options.at("balance")));
        } else if (what == "used") {
            // expect used merchant|user NAME [CUR] daily=N monthly=N
            Split(step, 3);
            const bool merchant = step.words.at(2) == "merchant";
            const uint32_t currency = TakeCurrency(step);
            std::vector<risk::WindowFigures> windows;
            Read([&](const Platform& platform) {
                const uint64_t now = platform.ledger().last_timestamp();
                if (merchant) {
                    const uint64_t id = MerchantId(step.words.at(3));
                    const merchants::Merchant* m = platform.merchants().Find(id);
                    windows = platform.limits().MerchantWindows(id, limits::TierLimits(m->tier),
                                                                currency, now);
                } else {
                    windows =
                        platform.limits().UserWindows(UserId(step.words.at(3)), currency, now);
                }
            });
            for (const risk::WindowFigures& window : windows) {
                const std::string name(window.name);
                if (step.options.contains(name)) {
                    EXPECT_EQ(window.used, Amount(step.options.at(name))) << name;
                }
            }
        } else if (what == "hold") {
            Split(step, 2);
            const uint64_t id = std::stoull(step.words.at(2));
            std::optional<Hold> hold;
            Read([&](const Platform& platform) {
                if (const Hold* found = platform.holds().Find(id)) hold = *found;
            });
            ASSERT_TRUE(hold) << "no hold " << id;
            if (step.options.contains("status")) {
                EXPECT_STREQ(HoldStatusName(hold->status), step.options.at("status").c_str());
            }
            if (step.options.contains("captured")) {
                EXPECT_EQ(hold->captured, Amount(step.options.at("captured")));
            }
            if (step.options.contains("released")) {
                EXPECT_EQ(hold->released, Amount(step.options.at("released")));
            }
            if (step.options.contains("captures")) {
                EXPECT_EQ(hold->captures.size(), std::stoull(step.options.at("captures")));
            }
        } else if (what == "refunded") {
            Split(step, 2);
            const uint64_t payment = std::stoull(step.words.at(2));
            refunds::PaymentRefunds refunded;
            Read([&](const Platform& platform) {
                if (const auto* found = platform.refunds().OfPayment(payment)) refunded = *found;
            });
            if (step.options.contains("amount")) {
                EXPECT_EQ(refunded.refunded, Amount(step.options.at("amount")));
            }
            if (step.options.contains("fee")) {
                EXPECT_EQ(refunded.fee_returned, Amount(step.options.at("fee")));
            }
            if (step.options.contains("count")) {
                EXPECT_EQ(refunded.refund_ids.size(), std::stoull(step.options.at("count")));
            }
        } else if (what == "sessions" || what == "users" || what == "merchants" ||
                   what == "stored" || what == "accounts") {
            ASSERT_EQ(step.words.size(), 3u);
            uint64_t count = 0;
            Read([&](const Platform& platform) {
                count = what == "sessions"    ? platform.users().session_count()
                        : what == "users"     ? platform.users().count()
                        : what == "merchants" ? platform.merchants().count()
                        : what == "stored"    ? platform.idempotency().size()
                                              : platform.ledger().account_count();
            });
            EXPECT_EQ(count, std::stoull(step.words[2])) << what;
        } else {
            ADD_FAILURE() << "unknown expectation: " << what;
        }
    }

    std::string path_;
    SimFileSystem fs_;
    ManualClock clock_;
    std::unique_ptr<engine::Engine> engine_;
    std::map<std::string, uint64_t> users_;
    std::map<std::string, Hash256> sessions_;
    std::map<std::string, uint64_t> merchants_;
    uint64_t logins_ = 0;
    Hash256 saved_hash_{};
};

}  // namespace

std::string ScenarioResultName(uint16_t result_code) {
    const std::string_view camel = ResultName(static_cast<ResultCode>(result_code));
    std::string snake;
    for (char c : camel) {
        if (c >= 'A' && c <= 'Z') {
            if (!snake.empty()) snake += '_';
            snake += static_cast<char>(c - 'A' + 'a');
        } else {
            snake += c;
        }
    }
    return snake;
}

void RunScenarioFile(const std::string& path) { Runner(path).Run(); }

}  // namespace bursar::payments::testing
