#include "base/sha256.h"

#include <openssl/evp.h>

#include "base/assert.h"

namespace bursar {

std::string HashToHex(const Hash256& hash) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text;
    text.reserve(64);
    for (uint8_t byte : hash) {
        text.push_back(kHex[byte >> 4]);
        text.push_back(kHex[byte & 0xF]);
    }
    return text;
}

namespace {

// The algorithm, fetched once: EVP_sha256() in an init fetches it again, under a lock, each time.
const EVP_MD* Algorithm() {
    static const EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    BURSAR_ASSERT(algorithm != nullptr);
    return algorithm;
}

}  // namespace

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
    BURSAR_ASSERT(context_ != nullptr);
    BURSAR_ASSERT(EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(context_), Algorithm(), nullptr) ==
                  1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_)); }

void Sha256::Update(const void* data, size_t size) {
    BURSAR_ASSERT(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(context_), data, size) == 1);
}

Hash256 Sha256::Finish() {
    Hash256 hash{};
    unsigned int length = 0;
    BURSAR_ASSERT(EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(context_), hash.data(), &length) ==
                  1);
    BURSAR_ASSERT(length == hash.size());
    return hash;
}

Hash256 Sha256::Of(const void* data, size_t size) {
    // One context per thread, reset by each init, instead of one allocated per hash.
    struct Context {
        Context() : context(EVP_MD_CTX_new()) { BURSAR_ASSERT(context != nullptr); }
        ~Context() { EVP_MD_CTX_free(context); }
        EVP_MD_CTX* const context;
    };
    thread_local Context local;
    Hash256 hash{};
    unsigned int length = 0;
    BURSAR_ASSERT(EVP_DigestInit_ex2(local.context, Algorithm(), nullptr) == 1);
    BURSAR_ASSERT(EVP_DigestUpdate(local.context, data, size) == 1);
    BURSAR_ASSERT(EVP_DigestFinal_ex(local.context, hash.data(), &length) == 1);
    BURSAR_ASSERT(length == hash.size());
    return hash;
}

}  // namespace bursar
