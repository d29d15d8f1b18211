#pragma once

// SHA-256 for the journal's hash chain and the state hash (OpenSSL, which uses the processor's
// SHA extensions where present).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bursar {

using Hash256 = std::array<uint8_t, 32>;

std::string HashToHex(const Hash256& hash);

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void Update(const void* data, size_t size);
    Hash256 Finish();  // The object may not be updated again after Finish.

    static Hash256 Of(const void* data, size_t size);

  private:
    void* context_;  // EVP_MD_CTX*, kept opaque so OpenSSL's headers stay out of includers.
};

}  // namespace bursar
