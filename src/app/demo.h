#pragma once

// The demo of `bursar serve --demo`: its users and merchants, thirty days of history on a new
// data directory (so that the dashboard's charts show something real), and a simulator of modest
// live traffic. Both move the money of the demo's own users only, never of a user a person
// registered on the demo server.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "engine/engine.h"

namespace bursar::app {

struct Demo {
    std::string user_email;
    std::string password;
    std::string merchant_key;  // the first merchant's API key; empty unless this start made it
    std::vector<uint64_t> user_ids;      // the demo's users: the only ones it moves money of
    std::vector<uint64_t> merchant_ids;  // the demo's merchants
};

// What the demo's first start tops up each user with, and the payment it makes.
inline constexpr uint64_t kDemoOpeningTopupMinor = 100'000;
inline constexpr uint64_t kDemoOpeningPaymentMinor = 480;

// Creates the demo's users and merchants on `engine`, each with an opening top-up, and a first
// payment; a later start finds them (registering answers 409) and leaves them as they are.
Demo CreateDemoData(engine::Engine& engine, uint32_t currency);

// True when `data_dir` holds no journal segment yet.
bool JournalIsEmpty(FileSystem& fs, const std::string& data_dir);

inline constexpr uint32_t kDemoHistoryDays = 30;  // today and the 29 days before it
inline constexpr uint64_t kDemoHistorySeed = 20'261'208;
// Moments of a day with traffic, and the movements of money at each: one engine batch (one
// fsync) per moment keeps the seeding well under a second.
inline constexpr uint32_t kDemoHistoryMomentsPerDay = 6;
inline constexpr uint32_t kDemoHistoryMovementsPerMomentMax = 12;

// Seeds a data directory without a journal with the demo and its history: an engine on a
// manual clock set kDemoHistoryDays back creates the demo's data, then runs a deterministic
// (kDemoHistorySeed) day-by-day history of top-ups, payments and transfers among the demo's
// users, moving the clock through the days up to a minute before `now_ns`, and stops. The
// journal's batches are stamped by that engine from its clock, strictly increasing, so the
// engine started next (on the system clock) continues them; the read model and the metrics
// derive the history from the journal as usual. Days begin at midnight `utc_offset_minutes`.
Result<Demo> SeedDemoHistory(const engine::EngineOptions& options, uint32_t currency,
                             int32_t utc_offset_minutes, uint64_t now_ns);

// How many of the demo's users open the live day: each tops up kDemoOpeningTopupMinor / 10 and
// pays a merchant kDemoOpeningPaymentMinor.
inline constexpr size_t kDemoDayOpeners = 3;

// Moves some of the demo's money on `engine` now, so that a demo seeded just after midnight
// (when the history has nothing for today yet) still shows today's figures without the
// simulator: kDemoDayOpeners top-ups and payments.
void OpenDemoDay(engine::Engine& engine, uint32_t currency, const Demo& demo);

// Modest, random live traffic: new users now and then, top-ups, payments and transfers among
// the demo's users (and those it registered itself) and merchants.
class TrafficSimulator {
  public:
    static constexpr uint64_t kIntervalMs = 400;  // about 2.5 money movements a second

    TrafficSimulator(engine::Engine& engine, uint32_t currency, const Demo& demo);
    ~TrafficSimulator() { Stop(); }

    void Start();
    void Stop();

  private:
    void Run();
    void Step(const std::string& password_hash);

    engine::Engine& engine_;
    uint32_t currency_;
    std::mt19937_64 random_;
    std::vector<uint64_t> users_;  // its own: the demo's, and those it registered
    std::vector<uint64_t> merchants_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace bursar::app
