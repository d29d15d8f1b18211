#pragma once

// Open-addressing hash index from a u128 id to a u32 value (a record index or a result code):
// linear probing, power-of-two capacity, backward-shift deletion (needed to roll back a linked
// chain). A slot is 24 bytes: the id and the value.
//
// Growth never pauses the caller for more than a small, fixed amount of work. From
// kPreparePercent of the capacity on, each insert faults in a share of the next table (twice the
// size) so that it is fully populated when kLoadPercentMax is reached: faulting in and zeroing a
// 48 MiB table at once stopped the engine for 60 ms. An index sized for `expected` entries stays
// below kPreparePercent with them, so that it never holds a second table. Then the next table takes
// the inserts and each insert moves kMigrateSlotsPerInsert slots of the old table into it; lookups
// look in both until the old one is empty. Slots erased from the old table meanwhile become
// tombstones, so that no entry moves there while it is being walked.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

#include "base/assert.h"
#include "base/huge_pages.h"
#include "base/u128.h"

namespace bursar::ledger {

class IdIndex {
  public:
    static constexpr uint32_t kLoadPercentMax = 70;
    static constexpr uint32_t kPreparePercent = 65;
    static constexpr uint64_t kMigrateSlotsPerInsert = 16;
    static constexpr uint32_t kNotFound = UINT32_MAX;

    explicit IdIndex(uint64_t expected = 1024) { Reset(expected); }
    ~IdIndex() { FreeAll(); }
    IdIndex(const IdIndex&) = delete;
    IdIndex& operator=(const IdIndex&) = delete;

    // Brings the slot where `id` would be into the cache ahead of Find or Insert.
    void Prefetch(u128 id) const {
        __builtin_prefetch(&table_.slots[Hash(id) & table_.mask]);
        if (migrating()) __builtin_prefetch(&old_.slots[Hash(id) & old_.mask]);
    }

    // Ids 0 and 2^128 - 1 are never stored: 0 marks an empty slot, 2^128 - 1 an erased one in
    // the table being migrated.
    uint32_t Find(u128 id) const {
        BURSAR_DASSERT(id != 0);
        uint64_t slot = table_.Locate(id);
        if (slot != kNoSlot) return table_.slots[slot].value;
        if (migrating()) {
            slot = old_.Locate(id);
            if (slot != kNoSlot) return old_.slots[slot].value;
        }
        return kNotFound;
    }

    // Inserts an id that is not present.
    void Insert(u128 id, uint32_t value) {
        BURSAR_ASSERT(id != 0 && id != kTombstone);
        BURSAR_ASSERT(value != kNotFound);
        if (migrating()) {
            Migrate(kMigrateSlotsPerInsert);
        } else if ((size_ + 1) * 100 > table_.capacity * kPreparePercent) {
            Prepare();
        }
        table_.Place(id, value);
        ++size_;
    }

    void Erase(u128 id) {
        uint64_t slot = table_.Locate(id);
        bool found = slot != kNoSlot;
        if (found) table_.EraseAt(slot);
        if (migrating()) {
            // Entries already moved are in both tables; the old copy must not be found again.
            slot = old_.Locate(id);
            if (slot != kNoSlot) {
                old_.slots[slot] = MakeSlot(kTombstone, 0);
                found = true;
            }
        }
        BURSAR_ASSERT(found);
        --size_;
    }

    uint64_t size() const { return size_; }
    uint64_t capacity() const { return table_.capacity; }
    bool migrating() const { return old_.slots != nullptr; }
    uint64_t MemoryBytes() const {
        return (table_.capacity + old_.capacity + next_.capacity) * sizeof(Slot);
    }

    void Reset(uint64_t expected) {
        FreeAll();
        uint64_t capacity = 16;
        while (capacity * kPreparePercent < expected * 100) capacity *= 2;
        table_ = Table::Allocate(capacity, /*populate=*/true);
        size_ = 0;
    }

    // Calls fn(id, value) for every entry, in slot order (not a deterministic order across
    // histories: callers that need one sort).
    template <typename Fn>
    void ForEach(Fn&& fn) const {
        for (uint64_t i = 0; i < table_.capacity; ++i) {
            if (!table_.slots[i].empty()) fn(table_.slots[i].id(), table_.slots[i].value);
        }
        // Slots before the cursor were moved into table_.
        for (uint64_t i = migrated_; migrating() && i < old_.capacity; ++i) {
            const Slot& s = old_.slots[i];
            if (!s.empty() && s.id() != kTombstone) fn(s.id(), s.value);
        }
    }

  private:
    static constexpr u128 kTombstone = ~u128{0};
    static constexpr uint64_t kNoSlot = UINT64_MAX;
    static constexpr uint64_t kPopulateBytes = 2u << 20;  // a huge page

    // Two 64-bit halves rather than a u128 keep the slot at 24 bytes (a u128 would align it to 32).
    struct Slot {
        uint64_t id_low = 0;
        uint64_t id_high = 0;
        uint32_t value = 0;
        u128 id() const { return MakeU128(id_high, id_low); }
        bool empty() const { return (id_low | id_high) == 0; }
    };
    static_assert(sizeof(Slot) == 24);
    static Slot MakeSlot(u128 id, uint32_t value) { return Slot{Low64(id), High64(id), value}; }

    static uint64_t Hash(u128 id) {
        // Ids are often sequential or random; mix both halves (a 64-bit finalizer of murmur3).
        uint64_t h = Low64(id) ^ (High64(id) * 0x9e3779b97f4a7c15ull);
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 33;
        return h;
    }

    struct Table {
        Slot* slots = nullptr;
        uint64_t capacity = 0;
        uint64_t mask = 0;

        // Slots come zeroed (empty) from AllocateLarge.
        static Table Allocate(uint64_t capacity, bool populate) {
            void* memory = AllocateLarge(capacity * sizeof(Slot), populate);
            if (memory == nullptr) throw std::bad_alloc();
            return Table{static_cast<Slot*>(memory), capacity, capacity - 1};
        }
        void Free() {
            FreeLarge(slots, capacity * sizeof(Slot));
            *this = Table{};
        }
        uint64_t bytes() const { return capacity * sizeof(Slot); }

        uint64_t Locate(u128 id) const {
            uint64_t slot = Hash(id) & mask;
            while (true) {
                const Slot& s = slots[slot];
                if (s.id() == id) return slot;
                if (s.empty()) return kNoSlot;
                slot = (slot + 1) & mask;
            }
        }

        void Place(u128 id, uint32_t value) {
            uint64_t slot = Hash(id) & mask;
            while (!slots[slot].empty()) {
                BURSAR_DASSERT(slots[slot].id() != id);
                slot = (slot + 1) & mask;
            }
            slots[slot] = MakeSlot(id, value);
        }

        // Backward-shift deletion: move later entries of the probe run into the hole.
        void EraseAt(uint64_t hole) {
            uint64_t next = (hole + 1) & mask;
            while (!slots[next].empty()) {
                uint64_t home = Hash(slots[next].id()) & mask;
                // Move the entry when its home is not cyclically within (hole, next].
                bool stays =
                    hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
                if (!stays) {
                    slots[hole] = slots[next];
                    hole = next;
                }
                next = (next + 1) & mask;
            }
            slots[hole] = Slot{};
        }
    };

    // Past kPreparePercent: reserve the next table, then fault in the share of it that is due, so
    // that the last share is done when the load reaches kLoadPercentMax; there the tables switch.
    void Prepare() {
        const uint64_t start = table_.capacity * kPreparePercent / 100;
        const uint64_t end = table_.capacity * kLoadPercentMax / 100;
        if (next_.slots == nullptr) {
            next_ = Table::Allocate(table_.capacity * 2, /*populate=*/false);
            populated_ = 0;
        }
        const uint64_t due =
            size_ + 1 >= end ? next_.bytes() : next_.bytes() / (end - start) * (size_ + 1 - start);
        while (populated_ < due && populated_ < next_.bytes()) {
            const uint64_t bytes = std::min<uint64_t>(kPopulateBytes, next_.bytes() - populated_);
            PopulateLarge(reinterpret_cast<char*>(next_.slots) + populated_, bytes);
            populated_ += bytes;
        }
        if ((size_ + 1) * 100 > table_.capacity * kLoadPercentMax) {
            old_ = table_;
            table_ = next_;
            next_ = Table{};
            migrated_ = 0;
            Migrate(kMigrateSlotsPerInsert);
        }
    }

    void Migrate(uint64_t slots) {
        const uint64_t end = std::min(old_.capacity, migrated_ + slots);
        for (; migrated_ < end; ++migrated_) {
            const Slot& s = old_.slots[migrated_];
            if (!s.empty() && s.id() != kTombstone) table_.Place(s.id(), s.value);
        }
        if (migrated_ == old_.capacity) old_.Free();
    }

    void FreeAll() {
        table_.Free();
        old_.Free();
        next_.Free();
    }

    Table table_;  // takes the inserts
    Table old_;    // being moved into table_ from slot migrated_ on; empty otherwise
    Table next_;   // being faulted in, up to populated_ bytes
    uint64_t migrated_ = 0;
    uint64_t populated_ = 0;
    uint64_t size_ = 0;
};

}  // namespace bursar::ledger
