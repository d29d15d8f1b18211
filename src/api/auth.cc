#include "api/auth.h"

#include <argon2.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/assert.h"

namespace bursar::api {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kEncodedBytesMax = 128;

void RandomBytes(void* out, size_t size) {
    auto* p = static_cast<uint8_t*>(out);
    while (size > 0) {
        ssize_t n = ::getrandom(p, size, 0);
        if (n < 0 && errno == EINTR) continue;
        BURSAR_ASSERT(n > 0);  // getrandom does not fail once the pool is initialized
        p += n;
        size -= static_cast<size_t>(n);
    }
}

}  // namespace

std::string HashPassword(std::string_view password) {
    uint8_t salt[kSaltBytes];
    RandomBytes(salt, sizeof(salt));
    char encoded[kEncodedBytesMax];
    int result =
        argon2id_hash_encoded(kArgon2Passes, kArgon2MemoryKib, 1, password.data(), password.size(),
                              salt, sizeof(salt), kHashBytes, encoded, sizeof(encoded));
    BURSAR_ASSERT(result == ARGON2_OK);
    return encoded;
}

bool VerifyPassword(std::string_view encoded_hash, std::string_view password) {
    const std::string encoded(encoded_hash);
    return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string RandomSecret(std::string_view prefix) {
    uint8_t bytes[32];
    RandomBytes(bytes, sizeof(bytes));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string secret(prefix);
    for (uint8_t b : bytes) {
        secret.push_back(kHex[b >> 4]);
        secret.push_back(kHex[b & 0xF]);
    }
    return secret;
}

Hash256 HashSecret(std::string_view secret) { return Sha256::Of(secret.data(), secret.size()); }

Result<std::string> LoadOrCreateAdminToken(const std::string& data_dir, bool* created) {
    const std::string path = data_dir + "/admin-token";
    *created = false;
    std::ifstream existing(path);
    if (existing) {
        std::string token;
        std::getline(existing, token);
        if (token.size() < 32) return Error(StatusCode::kCorruption, path + " is too short");
        return token;
    }
    const std::string token = RandomSecret("adm_");
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return Error(StatusCode::kIoError, "cannot create " + path + ": " + std::strerror(errno));
    const std::string line = token + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return Error(StatusCode::kIoError, "cannot write " + path);
    *created = true;
    return token;
}

}  // namespace bursar::api
