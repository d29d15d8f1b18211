#pragma once

// Append-only storage of fixed-size records in segments of kSegmentRecords, so that growing never
// moves a record (no reallocation copy, no pause proportional to the size) and a record's address
// is stable. Segments are allocated on demand; the segment table grows by doubling (it holds only
// pointers).

#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <vector>

#include "base/assert.h"
#include "base/huge_pages.h"

namespace bursar::ledger {

template <typename T>
class SegmentedArray {
    static_assert(std::is_trivially_copyable_v<T>);

  public:
    static constexpr uint32_t kSegmentShift = 16;
    static constexpr uint32_t kSegmentRecords = 1u << kSegmentShift;  // 65 536 records a segment
    static constexpr uint64_t kRecordsMax = UINT32_MAX - 1;           // indexes are u32
    static constexpr size_t kSegmentBytes = sizeof(T) * kSegmentRecords;
    // Segments of 2 MiB and more go on huge pages; smaller ones (one-byte records) on the heap.
    static constexpr bool kLarge = kSegmentBytes >= (2u << 20);

    SegmentedArray() = default;
    SegmentedArray(const SegmentedArray&) = delete;
    SegmentedArray& operator=(const SegmentedArray&) = delete;
    ~SegmentedArray() {
        for (T* segment : segments_) {
            if constexpr (kLarge) {
                FreeLarge(segment, kSegmentBytes);
            } else {
                std::free(segment);
            }
        }
    }

    uint64_t size() const { return size_; }

    T& operator[](uint64_t index) {
        BURSAR_DASSERT(index < size_);
        return segments_[index >> kSegmentShift][index & (kSegmentRecords - 1)];
    }
    const T& operator[](uint64_t index) const {
        BURSAR_DASSERT(index < size_);
        return segments_[index >> kSegmentShift][index & (kSegmentRecords - 1)];
    }

    // Returns the new record's index.
    uint32_t PushBack(const T& value) {
        BURSAR_ASSERT(size_ < kRecordsMax);
        if ((size_ >> kSegmentShift) == segments_.size()) {
            void* memory = kLarge ? AllocateLarge(kSegmentBytes, /*populate=*/false)
                                  : std::aligned_alloc(64, kSegmentBytes);
            if (memory == nullptr) throw std::bad_alloc();
            segments_.push_back(static_cast<T*>(memory));
        }
        auto index = static_cast<uint32_t>(size_);
        ++size_;
        (*this)[index] = value;
        return index;
    }

    void PopBack() {
        BURSAR_ASSERT(size_ > 0);
        --size_;
    }

    uint64_t MemoryBytes() const {
        return segments_.size() * kSegmentBytes + segments_.capacity() * sizeof(T*);
    }

    // Calls fn(pointer, count) for consecutive runs of records, in order.
    template <typename Fn>
    void ForEachRun(Fn&& fn) const {
        ForEachRun(segments_, size_, fn);
    }

    // The segments' addresses: records below size() never move, so a copy of this list and the
    // size is a view of the records that stays valid while records are appended (not popped
    // below the view's size, and not after the array is destroyed).
    std::vector<const T*> Segments() const {
        return std::vector<const T*>(segments_.begin(), segments_.end());
    }

    template <typename Segment, typename Fn>
    static void ForEachRun(const std::vector<Segment*>& segments, uint64_t size, Fn&& fn) {
        uint64_t remaining = size;
        for (Segment* segment : segments) {
            if (remaining == 0) break;
            uint64_t count = remaining < kSegmentRecords ? remaining : kSegmentRecords;
            fn(static_cast<const T*>(segment), count);
            remaining -= count;
        }
    }

  private:
    std::vector<T*> segments_;
    uint64_t size_ = 0;
};

}  // namespace bursar::ledger
