#pragma once

// IdSet: a set of 64-bit ids (users) for the live metrics, which insert into such sets on every
// event. Open addressing with linear probing in one array, a power of two in size and at most half
// full, so an insert is a multiplication and usually one probe in one cache line, where a std::set
// walks a tree of separately allocated nodes. Ids are never removed: the figures that hold a set
// are dropped whole.

#include <bit>
#include <cstdint>
#include <vector>

namespace bursar::analytics {

class IdSet {
  public:
    IdSet() : slots_(kSlotsMin, kFree), shift_(ShiftFor(kSlotsMin)) {}

    // True when `id` was not in the set yet.
    bool Insert(uint64_t id) {
        if (id == kFree) {  // id 0 cannot sit in a slot: a flag holds it
            if (holds_zero_) return false;
            holds_zero_ = true;
            ++size_;
            return true;
        }
        uint64_t* slot = Find(id);
        if (*slot == id) return false;
        if ((size_ + 1) * kLoadDenominator > slots_.size()) {
            Grow();
            slot = Find(id);
        }
        *slot = id;
        ++size_;
        return true;
    }
    uint64_t size() const { return size_; }

  private:
    static constexpr uint64_t kFree = 0;
    static constexpr uint64_t kLoadDenominator = 2;  // at most 1/2 of the slots hold an id
    static constexpr uint64_t kSlotsMin = 16;
    static constexpr uint64_t kFibonacci = 0x9E3779B97F4A7C15ull;  // 2^64 / the golden ratio

    static uint32_t ShiftFor(uint64_t slots) { return 64 - std::countr_zero(slots); }

    // The slot holding `id`, or the free one where it goes.
    uint64_t* Find(uint64_t id) {
        const uint64_t mask = slots_.size() - 1;
        uint64_t index = (id * kFibonacci) >> shift_;  // the product's top bits mix best
        while (slots_[index] != kFree && slots_[index] != id) index = (index + 1) & mask;
        return &slots_[index];
    }

    void Grow() {
        std::vector<uint64_t> old(slots_.size() * 2, kFree);
        old.swap(slots_);
        shift_ = ShiftFor(slots_.size());
        for (uint64_t id : old) {
            if (id != kFree) *Find(id) = id;
        }
    }

    std::vector<uint64_t> slots_;  // kFree or an id
    uint32_t shift_;               // 64 - log2(slots): the hash's top bits index the slots
    uint64_t size_ = 0;            // ids held, 0 included
    bool holds_zero_ = false;
};

}  // namespace bursar::analytics
