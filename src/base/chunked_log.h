#pragma once

// An append-only byte log whose oldest bytes can be dropped, kept in chunks that never change once
// full. A frozen copy (for a snapshot thread) shares the full chunks and copies only the last,
// partly filled one: freezing costs O(chunks) + at most kChunkBytes, whatever the log holds.
//
// The payments state keeps its idempotency records' serialized form here, so a snapshot does not
// re-serialize every stored response while the engine waits (it did: 184 ms at 96 MB).
//
// Not thread-safe: one owner (the engine thread) appends, drops and freezes; a Frozen copy may then
// be read by another thread while the owner goes on.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bursar {

class ChunkedLog {
  public:
    static constexpr size_t kChunkBytes = 1 << 20;

    struct Frozen {
        std::vector<std::shared_ptr<const std::string>> chunks;
        uint64_t begin = 0;  // first byte held in chunks.front()
        uint64_t size = 0;   // bytes held

        // Calls fn(std::string_view) for the held bytes, oldest first, in one or more pieces.
        template <typename Fn>
        void ForEachPiece(Fn&& fn) const {
            uint64_t left = size;
            uint64_t offset = begin;
            for (const auto& chunk : chunks) {
                if (left == 0) break;
                const uint64_t take = std::min<uint64_t>(left, chunk->size() - offset);
                fn(std::string_view(chunk->data() + offset, take));
                left -= take;
                offset = 0;
            }
        }
    };

    void Append(std::string_view bytes);
    // Drops the `bytes` oldest bytes (at most size()).
    void DropFront(uint64_t bytes);
    uint64_t size() const { return size_; }
    void FreezeInto(Frozen* frozen) const;

  private:
    // Every chunk but the last is full and never written again; frozen copies share those.
    std::deque<std::shared_ptr<std::string>> chunks_;
    uint64_t begin_ = 0;  // first byte held in chunks_.front()
    uint64_t size_ = 0;
};

}  // namespace bursar
