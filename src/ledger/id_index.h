#pragma once

// Open-addressing hash index from a u128 id to a u32 value (a record index or a result code):
// linear probing, power-of-two capacity, backward-shift deletion (needed to roll back a linked
// chain). A slot is 24 bytes: the id and the value. It grows by doubling at kLoadPercentMax;
// a growth rehashes everything at once, so the expected size is given up front.

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
    static constexpr uint32_t kNotFound = UINT32_MAX;

    explicit IdIndex(uint64_t expected = 1024) { Reset(expected); }
    ~IdIndex() { FreeLarge(slots_, capacity_ * sizeof(Slot)); }
    IdIndex(const IdIndex&) = delete;
    IdIndex& operator=(const IdIndex&) = delete;

    // Brings the slot where `id` would be into the cache ahead of Find or Insert.
    void Prefetch(u128 id) const { __builtin_prefetch(&slots_[Hash(id) & mask_]); }

    // Ids 0 and 2^128 - 1 are never stored: 0 marks an empty slot.
    uint32_t Find(u128 id) const {
        BURSAR_DASSERT(id != 0);
        uint64_t slot = Hash(id) & mask_;
        while (true) {
            const Slot& s = slots_[slot];
            if (s.id() == id) return s.value;
            if (s.empty()) return kNotFound;
            slot = (slot + 1) & mask_;
        }
    }

    // Inserts an id that is not present.
    void Insert(u128 id, uint32_t value) {
        BURSAR_ASSERT(id != 0);
        BURSAR_ASSERT(value != kNotFound);
        if ((size_ + 1) * 100 > capacity_ * kLoadPercentMax) Grow();
        uint64_t slot = Hash(id) & mask_;
        while (!slots_[slot].empty()) {
            BURSAR_DASSERT(slots_[slot].id() != id);
            slot = (slot + 1) & mask_;
        }
        slots_[slot] = MakeSlot(id, value);
        ++size_;
    }

    void Erase(u128 id) {
        uint64_t slot = Hash(id) & mask_;
        while (slots_[slot].id() != id) {
            BURSAR_ASSERT(!slots_[slot].empty());
            slot = (slot + 1) & mask_;
        }
        // Backward-shift deletion: move later entries of the probe run into the hole.
        uint64_t hole = slot;
        uint64_t next = (hole + 1) & mask_;
        while (!slots_[next].empty()) {
            uint64_t home = Hash(slots_[next].id()) & mask_;
            // Move the entry when its home is not cyclically within (hole, next].
            bool stays =
                hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
            if (!stays) {
                slots_[hole] = slots_[next];
                hole = next;
            }
            next = (next + 1) & mask_;
        }
        slots_[hole] = Slot{};
        --size_;
    }

    uint64_t size() const { return size_; }
    uint64_t MemoryBytes() const { return capacity_ * sizeof(Slot); }

    void Reset(uint64_t expected) {
        uint64_t capacity = 16;
        while (capacity * kLoadPercentMax < expected * 100) capacity *= 2;
        Allocate(capacity);
        size_ = 0;
    }

    // Calls fn(id, value) for every entry, in slot order (not a deterministic order across
    // histories: callers that need one sort).
    template <typename Fn>
    void ForEach(Fn&& fn) const {
        for (uint64_t i = 0; i < capacity_; ++i) {
            if (!slots_[i].empty()) fn(slots_[i].id(), slots_[i].value);
        }
    }

  private:
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

    // Slots come zeroed (empty) from AllocateLarge.
    void Allocate(uint64_t capacity) {
        FreeLarge(slots_, capacity_ * sizeof(Slot));
        slots_ = static_cast<Slot*>(AllocateLarge(capacity * sizeof(Slot), /*populate=*/true));
        if (slots_ == nullptr) throw std::bad_alloc();
        capacity_ = capacity;
        mask_ = capacity - 1;
    }

    void Grow() {
        Slot* old = slots_;
        const uint64_t old_capacity = capacity_;
        slots_ = nullptr;
        capacity_ = 0;
        Allocate(old_capacity * 2);
        size_ = 0;
        for (uint64_t i = 0; i < old_capacity; ++i) {
            if (!old[i].empty()) Insert(old[i].id(), old[i].value);
        }
        FreeLarge(old, old_capacity * sizeof(Slot));
    }

    Slot* slots_ = nullptr;
    uint64_t capacity_ = 0;
    uint64_t mask_ = 0;
    uint64_t size_ = 0;
};

}  // namespace bursar::ledger
