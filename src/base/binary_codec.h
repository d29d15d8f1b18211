#pragma once

// Little-endian binary encoding of domain commands and results for the journal and snapshots:
// fixed-width integers and length-prefixed strings. The reader never reads past its input and
// reports a short or malformed input instead of asserting (journal bytes are input too).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "base/u128.h"

namespace bursar {

class BinaryWriter {
  public:
    explicit BinaryWriter(std::string* out) : out_(out) {}
    void U8(uint8_t v) { Raw(&v, 1); }
    void U16(uint16_t v) { Raw(&v, 2); }
    void U32(uint32_t v) { Raw(&v, 4); }
    void U64(uint64_t v) { Raw(&v, 8); }
    void U128(u128 v) { Raw(&v, 16); }
    void Hash(const Hash256& v) { Raw(v.data(), v.size()); }
    void String(std::string_view v) {
        U32(static_cast<uint32_t>(v.size()));
        Raw(v.data(), v.size());
    }
    void Raw(const void* data, size_t size) { out_->append(static_cast<const char*>(data), size); }

  private:
    std::string* out_;
};

class BinaryReader {
  public:
    explicit BinaryReader(std::string_view in) : in_(in) {}
    bool U8(uint8_t* v) { return Raw(v, 1); }
    bool U16(uint16_t* v) { return Raw(v, 2); }
    bool U32(uint32_t* v) { return Raw(v, 4); }
    bool U64(uint64_t* v) { return Raw(v, 8); }
    bool U128(u128* v) { return Raw(v, 16); }
    bool Hash(Hash256* v) { return Raw(v->data(), v->size()); }
    // Strings are at most `size_max` bytes.
    bool String(std::string* v, uint32_t size_max = 1 << 20) {
        uint32_t size = 0;
        if (!U32(&size) || size > size_max || size > in_.size() - position_) return false;
        v->assign(in_.data() + position_, size);
        position_ += size;
        return true;
    }
    bool Raw(void* data, size_t size) {
        if (size > in_.size() - position_) return false;
        std::memcpy(data, in_.data() + position_, size);
        position_ += size;
        return true;
    }
    bool done() const { return position_ == in_.size(); }
    size_t remaining() const { return in_.size() - position_; }

  private:
    std::string_view in_;
    size_t position_ = 0;
};

}  // namespace bursar
