// A real-process crash test (SPEC.md L7): a driver feeds chains of linked transfers to
// `bursar pipe`, records which were acknowledged, and kill -9s the process at random moments.
// After every kill a restarted process must hold every acknowledged transfer, no chain may be
// half applied, the invariants must hold, and `bursar verify` must print the restarted engine's
// state hash. Snapshots are taken often, so kills also land during snapshots.
//
// BURSAR_TEST_CRASH_ROUNDS (default 20) and BURSAR_TEST_CRASH_SEED (default: time) control the run;
// the seed is printed so a failure can be replayed.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "process.h"

namespace bursar::testing {
namespace {

constexpr int kAccounts = 16;

struct Leg {
    uint64_t id, debit, credit, amount;
};

struct Chain {
    std::vector<Leg> legs;
};

uint64_t EnvOr(const char* name, uint64_t fallback) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

std::vector<std::string> Words(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream stream(line);
    for (std::string word; stream >> word;) words.push_back(word);
    return words;
}

std::vector<std::string> Pipe(const std::string& dir) {
    return {BURSAR_BINARY, "pipe", dir, "--snapshot-interval=25"};
}

// What a restarted engine says about a transfer: missing, or its fields.
struct Seen {
    bool present = false;
    uint64_t debit = 0, credit = 0, amount = 0;
};

TEST(Crash, KillNineKeepsEveryAcknowledgedWrite) {
    ::signal(SIGPIPE, SIG_IGN);
    const uint64_t rounds = EnvOr("BURSAR_TEST_CRASH_ROUNDS", 20);
    const uint64_t seed =
        EnvOr("BURSAR_TEST_CRASH_SEED",
              static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
    std::printf("crash test: seed %llu (BURSAR_TEST_CRASH_SEED to repeat), %llu rounds\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(rounds));
    std::mt19937_64 random(seed);
    const std::string dir =
        (std::filesystem::temp_directory_path() / ("bursar-crash-" + std::to_string(seed)))
            .string();
    std::filesystem::remove_all(dir);

    std::map<std::string, Chain> acknowledged;  // tag -> chain, over all rounds
    uint64_t next_id = 1;
    uint64_t total_sent = 0;

    for (uint64_t round = 0; round < rounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
        std::map<std::string, Chain> sent;
        std::set<std::string> acked_now;
        std::mutex mutex;
        {
            Process bursar(Pipe(dir));
            std::string line;
            ASSERT_TRUE(bursar.ReadLine(&line));
            ASSERT_EQ(line.rfind("ready", 0), 0u) << line;
            if (round == 0) {
                std::string accounts = "accounts setup";
                for (int a = 1; a <= kAccounts; ++a) accounts += " " + std::to_string(a);
                ASSERT_TRUE(bursar.WriteLine(accounts));
                ASSERT_TRUE(bursar.ReadLine(&line));
                ASSERT_EQ(line.rfind("ack setup", 0), 0u) << line;
                ASSERT_EQ(Words(line).at(3), "0") << line;
            }
            std::thread reader([&] {
                std::string reply;
                while (bursar.ReadLine(&reply)) {
                    auto words = Words(reply);
                    if (words.size() >= 4 && words[0] == "ack") {
                        EXPECT_EQ(words[3], "0") << "a valid chain failed: " << reply;
                        std::lock_guard lock(mutex);
                        acked_now.insert(words[1]);
                    }
                }
            });
            std::atomic<bool> stop{false};
            std::thread writer([&] {
                std::mt19937_64 local(seed + round);
                for (uint64_t n = 0; !stop.load(); ++n) {
                    Chain chain;
                    const int length = 1 + static_cast<int>(local() % 3);
                    std::string command =
                        "transfers r" + std::to_string(round) + "-" + std::to_string(n);
                    const std::string tag = Words(command)[1];
                    for (int k = 0; k < length; ++k) {
                        Leg leg{next_id++, 1 + local() % kAccounts, 0, 1 + local() % 100};
                        leg.credit = 1 + (leg.debit + local() % (kAccounts - 1)) % kAccounts;
                        chain.legs.push_back(leg);
                        command += " " + std::to_string(leg.id) + "," + std::to_string(leg.debit) +
                                   "," + std::to_string(leg.credit) + "," +
                                   std::to_string(leg.amount) + "," + (k + 1 < length ? "1" : "0");
                    }
                    {
                        std::lock_guard lock(mutex);
                        sent[tag] = chain;
                    }
                    if (!bursar.WriteLine(command)) break;
                    if (local() % 64 == 0)
                        std::this_thread::sleep_for(std::chrono::microseconds(200));
                }
            });
            std::this_thread::sleep_for(std::chrono::milliseconds(30 + random() % 400));
            bursar.Kill(SIGKILL);
            EXPECT_EQ(bursar.Wait(), 128 + SIGKILL);
            stop = true;
            writer.join();
            reader.join();
        }
        total_sent += sent.size();
        for (const auto& tag : acked_now) acknowledged[tag] = sent.at(tag);

        // Restart and look at every transfer sent in this round.
        Process bursar(Pipe(dir));
        std::string line;
        ASSERT_TRUE(bursar.ReadLine(&line));
        ASSERT_EQ(line.rfind("ready", 0), 0u) << line;
        std::thread asker([&] {
            for (const auto& [tag, chain] : sent) {
                for (const Leg& leg : chain.legs) {
                    bursar.WriteLine("transfer q " + std::to_string(leg.id));
                }
            }
            bursar.WriteLine("hash h");
            bursar.WriteLine("check c");
        });
        std::map<uint64_t, Seen> seen;
        std::string state_hash, check;
        while (bursar.ReadLine(&line)) {
            auto words = Words(line);
            if (words[0] == "transfer") {
                seen[std::stoull(words[2])] = {true, std::stoull(words[3]), std::stoull(words[4]),
                                               std::stoull(words[5])};
            } else if (words[0] == "missing") {
                seen[std::stoull(words[2])] = {};
            } else if (words[0] == "hash") {
                state_hash = words[2];
            } else if (words[0] == "check") {
                check = line.substr(8);
                break;
            } else {
                ADD_FAILURE() << "unexpected reply: " << line;
            }
        }
        asker.join();
        bursar.CloseInput();
        EXPECT_EQ(bursar.Wait(), 0);
        EXPECT_EQ(check, "ok");

        uint64_t present_chains = 0;
        for (const auto& [tag, chain] : sent) {
            size_t present = 0;
            for (const Leg& leg : chain.legs) {
                const Seen& s = seen[leg.id];
                if (!s.present) continue;
                ++present;
                EXPECT_EQ(s.debit, leg.debit);
                EXPECT_EQ(s.credit, leg.credit);
                EXPECT_EQ(s.amount, leg.amount);
            }
            EXPECT_TRUE(present == 0 || present == chain.legs.size())
                << "chain " << tag << " half applied";
            if (acked_now.contains(tag)) {
                EXPECT_EQ(present, chain.legs.size()) << "acknowledged chain " << tag << " lost";
            }
            present_chains += present != 0;
        }
        std::printf("round %llu: %zu chains sent, %zu acknowledged, %llu present after restart\n",
                    static_cast<unsigned long long>(round), sent.size(), acked_now.size(),
                    static_cast<unsigned long long>(present_chains));

        std::string output;
        ASSERT_EQ(RunCommand({BURSAR_BINARY, "verify", dir}, &output), 0) << output;
        EXPECT_NE(output.find("state hash: " + state_hash), std::string::npos)
            << "verify disagrees with the restarted engine\n"
            << output;
        if (::testing::Test::HasFailure()) break;
    }

    // Finally, every chain acknowledged in any round is still there.
    Process bursar(Pipe(dir));
    std::string line;
    ASSERT_TRUE(bursar.ReadLine(&line));
    std::thread asker([&] {
        for (const auto& [tag, chain] : acknowledged) {
            for (const Leg& leg : chain.legs)
                bursar.WriteLine("transfer f " + std::to_string(leg.id));
        }
        bursar.CloseInput();
    });
    uint64_t missing = 0, answers = 0;
    while (bursar.ReadLine(&line)) {
        ++answers;
        if (line.rfind("missing", 0) == 0) ++missing;
    }
    asker.join();
    EXPECT_EQ(bursar.Wait(), 0);
    EXPECT_EQ(missing, 0u);
    EXPECT_GT(acknowledged.size(), 0u);
    std::printf("crash test: %llu chains sent, %zu acknowledged, %llu transfers rechecked\n",
                static_cast<unsigned long long>(total_sent), acknowledged.size(),
                static_cast<unsigned long long>(answers));
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bursar::testing
