#include "ledger/id_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace bursar::ledger {
namespace {

TEST(IdIndex, InsertFindEraseAgainstMap) {
    IdIndex index(16);
    std::map<u128, uint32_t> model;
    std::mt19937_64 random(7);
    for (int step = 0; step < 20000; ++step) {
        // A small key space so that probe runs collide and wrap around.
        u128 id = MakeU128(random() % 3, 1 + random() % 500);
        if (model.contains(id)) {
            ASSERT_EQ(index.Find(id), model[id]);
            if (random() % 2 == 0) {
                index.Erase(id);
                model.erase(id);
            }
        } else {
            ASSERT_EQ(index.Find(id), IdIndex::kNotFound);
            auto value = static_cast<uint32_t>(random() % 1000);
            index.Insert(id, value);
            model[id] = value;
        }
        ASSERT_EQ(index.size(), model.size());
    }
    for (const auto& [id, value] : model) EXPECT_EQ(index.Find(id), value);
}

// Growth is spread over inserts: the index passes through preparing and migrating states, and
// finds, erases (rollbacks) and ForEach must see exactly the live entries in each of them.
TEST(IdIndex, GrowsIncrementallyAgainstMap) {
    IdIndex index(16);
    std::map<u128, uint32_t> model;
    std::mt19937_64 random(11);
    uint64_t steps_migrating = 0;
    uint64_t erases_migrating = 0;
    const uint64_t initial_capacity = index.capacity();
    for (int step = 0; step < 200000; ++step) {
        const bool migrating = index.migrating();
        steps_migrating += migrating ? 1 : 0;
        // Mostly new ids (the index grows), some erased again soon after (linked-chain rollback),
        // some of them inserted again.
        const uint64_t roll = random() % 10;
        if (roll < 7 || model.empty()) {
            u128 id = MakeU128(random() % 4, 1 + random() % 2000000);
            if (model.contains(id)) {
                ASSERT_EQ(index.Find(id), model[id]);
                continue;
            }
            ASSERT_EQ(index.Find(id), IdIndex::kNotFound);
            auto value = static_cast<uint32_t>(random() % 100000);
            index.Insert(id, value);
            model[id] = value;
        } else if (roll < 9) {
            auto it = model.lower_bound(MakeU128(random() % 4, random() % 2000000));
            if (it == model.end()) it = model.begin();
            index.Erase(it->first);
            ASSERT_EQ(index.Find(it->first), IdIndex::kNotFound);
            model.erase(it);
            erases_migrating += migrating ? 1 : 0;
        } else {
            auto it = model.lower_bound(MakeU128(random() % 4, random() % 2000000));
            if (it == model.end()) it = model.begin();
            ASSERT_EQ(index.Find(it->first), it->second);
        }
        ASSERT_EQ(index.size(), model.size());
        if (step % 20000 == 0 || (migrating && step % 997 == 0)) {
            std::map<u128, uint32_t> seen;
            index.ForEach([&](u128 id, uint32_t value) {
                ASSERT_TRUE(seen.emplace(id, value).second) << "an entry twice";
            });
            ASSERT_EQ(seen, model);
        }
    }
    for (const auto& [id, value] : model) EXPECT_EQ(index.Find(id), value);
    EXPECT_GT(index.capacity(), initial_capacity * 1000);
    EXPECT_GT(steps_migrating, 1000u);
    EXPECT_GT(erases_migrating, 100u);
    // At most kLoadPercentMax full, and never below the prepare threshold's half after growing.
    EXPECT_LE(index.size() * 100, index.capacity() * IdIndex::kLoadPercentMax);
}

// Every growth finishes moving the old table before the next one starts, and the moved index
// answers like one built at full size.
TEST(IdIndex, MigrationFinishesBeforeTheNextGrowth) {
    IdIndex small(16);
    IdIndex large(1 << 20);
    uint64_t growths = 0;
    bool was_migrating = false;
    for (uint32_t i = 1; i <= 500000; ++i) {
        const u128 id = MakeU128(i * 0x9e3779b9ull, i);
        small.Insert(id, i);
        large.Insert(id, i);
        if (small.migrating() && !was_migrating) ++growths;
        was_migrating = small.migrating();
    }
    EXPECT_GE(growths, 14u);  // 16 slots -> 1 Mi slots and beyond
    for (uint32_t i = 1; i <= 500000; i += 7) {
        const u128 id = MakeU128(i * 0x9e3779b9ull, i);
        ASSERT_EQ(small.Find(id), i);
        ASSERT_EQ(large.Find(id), i);
    }
    EXPECT_EQ(small.Find(MakeU128(1, 0)), IdIndex::kNotFound);
}

// An index sized for its entries never reserves a second table (bursar bench sizes the transfer
// index for 10 M: a second table there would be 768 MiB).
TEST(IdIndex, SizedIndexHoldsOneTable) {
    for (uint64_t expected : {1000u, 10000u, 65536u, 88000u, 600000u, 1u << 20}) {
        IdIndex index(expected);
        const uint64_t bytes = index.MemoryBytes();
        for (uint64_t i = 1; i <= expected; ++i) index.Insert(MakeU128(7, i), 1);
        EXPECT_EQ(index.MemoryBytes(), bytes) << expected;
        EXPECT_FALSE(index.migrating());
        index.Insert(MakeU128(8, 1), 1);
    }
}

}  // namespace
}  // namespace bursar::ledger
