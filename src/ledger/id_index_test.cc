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

}  // namespace
}  // namespace bursar::ledger
