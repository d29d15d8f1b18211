#pragma once

// Secrets of the API layer: argon2id password hashes (slow on purpose: run them on the worker
// pool, never on the engine thread), random tokens and API keys, and the admin token file.

#include <string>
#include <string_view>

#include "base/sha256.h"
#include "base/status.h"

namespace bursar::api {

// argon2id with OWASP's minimum: 19 MiB, 2 passes, 1 lane, 16-byte random salt.
inline constexpr uint32_t kArgon2MemoryKib = 19 * 1024;
inline constexpr uint32_t kArgon2Passes = 2;
inline constexpr size_t kPasswordBytesMin = 8;
inline constexpr size_t kPasswordBytesMax = 128;

std::string HashPassword(std::string_view password);
bool VerifyPassword(std::string_view encoded_hash, std::string_view password);

// `prefix` followed by 32 random bytes in hex (from the kernel's random source).
std::string RandomSecret(std::string_view prefix);
Hash256 HashSecret(std::string_view secret);

// The admin token in <data dir>/admin-token (mode 0600): read, or created when missing.
Result<std::string> LoadOrCreateAdminToken(const std::string& data_dir, bool* created);

}  // namespace bursar::api
