#include "base/chunked_log.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace bursar {
namespace {

std::string Contents(const ChunkedLog::Frozen& frozen) {
    std::string out;
    frozen.ForEachPiece([&](std::string_view piece) { out.append(piece); });
    return out;
}

std::string Contents(const ChunkedLog& log) {
    ChunkedLog::Frozen frozen;
    log.FreezeInto(&frozen);
    return Contents(frozen);
}

// Random appends and drops across chunk boundaries, checked against a plain string; frozen copies
// keep their contents while the log goes on.
TEST(ChunkedLogTest, MatchesAStringAndFrozenCopiesStayPut) {
    std::mt19937_64 random(7);
    ChunkedLog log;
    std::string model;
    std::vector<std::pair<ChunkedLog::Frozen, std::string>> frozen;
    for (int step = 0; step < 2000; ++step) {
        const int action = static_cast<int>(random() % 10);
        if (action < 6) {
            std::string bytes(random() % (ChunkedLog::kChunkBytes / 3), '\0');
            for (char& c : bytes) c = static_cast<char>('a' + random() % 26);
            log.Append(bytes);
            model += bytes;
        } else if (action < 9) {
            const uint64_t drop = model.empty() ? 0 : random() % (model.size() + 1);
            log.DropFront(drop);
            model.erase(0, drop);
        } else if (frozen.size() < 8) {
            ChunkedLog::Frozen copy;
            log.FreezeInto(&copy);
            frozen.emplace_back(std::move(copy), model);
        }
        ASSERT_EQ(log.size(), model.size());
        if (step % 50 == 0) {
            ASSERT_EQ(Contents(log), model);
        }
    }
    EXPECT_EQ(Contents(log), model);
    for (const auto& [copy, contents] : frozen) EXPECT_EQ(Contents(copy), contents);
}

TEST(ChunkedLogTest, DroppingEverythingThenAppending) {
    ChunkedLog log;
    log.Append(std::string(ChunkedLog::kChunkBytes + 5, 'x'));
    log.DropFront(log.size());
    EXPECT_EQ(log.size(), 0u);
    EXPECT_EQ(Contents(log), "");
    log.Append("abc");
    EXPECT_EQ(Contents(log), "abc");
}

}  // namespace
}  // namespace bursar
