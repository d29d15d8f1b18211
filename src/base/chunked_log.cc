#include "base/chunked_log.h"

#include <algorithm>

#include "base/assert.h"

namespace bursar {

void ChunkedLog::Append(std::string_view bytes) {
    size_ += bytes.size();
    while (!bytes.empty()) {
        if (chunks_.empty() || chunks_.back()->size() == kChunkBytes) {
            auto chunk = std::make_shared<std::string>();
            chunk->reserve(kChunkBytes);
            chunks_.push_back(std::move(chunk));
        }
        std::string& last = *chunks_.back();
        const size_t take = std::min(bytes.size(), kChunkBytes - last.size());
        last.append(bytes.data(), take);
        bytes.remove_prefix(take);
    }
}

void ChunkedLog::DropFront(uint64_t bytes) {
    BURSAR_ASSERT(bytes <= size_);
    size_ -= bytes;
    begin_ += bytes;
    while (!chunks_.empty() && begin_ >= chunks_.front()->size() &&
           (chunks_.size() > 1 || size_ == 0)) {
        begin_ -= chunks_.front()->size();
        chunks_.pop_front();
    }
    if (chunks_.empty()) begin_ = 0;
}

void ChunkedLog::FreezeInto(Frozen* frozen) const {
    frozen->chunks.clear();
    frozen->begin = begin_;
    frozen->size = size_;
    for (size_t i = 0; i < chunks_.size(); ++i) {
        if (i + 1 < chunks_.size()) {
            frozen->chunks.push_back(chunks_[i]);  // full: never written again
        } else {
            // The last chunk takes more appends: the frozen copy gets its own bytes.
            frozen->chunks.push_back(std::make_shared<const std::string>(*chunks_[i]));
        }
    }
}

}  // namespace bursar
