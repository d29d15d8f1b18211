#pragma once

// Declared configuration (SPEC.md O3): every setting has a key, an environment variable, a
// default, bounds and a description. Sources, later ones winning: defaults, a file of
// `key = value` lines, BURSAR_* environment variables. Unknown keys in the file and unknown
// BURSAR_* variables are errors (BURSAR_TEST_* is left to tests); every value is checked at start.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace bursar::config {

struct Setting {
    std::string key;  // in files: listen, data_dir, ...
    std::string env;  // BURSAR_LISTEN, ...
    std::string default_value;
    std::string description;
    uint64_t minimum = 0;  // for numbers
    uint64_t maximum = 0;  // 0: not a number
};

const std::vector<Setting>& Settings();

// "+09:00" -> 540 minutes; nullopt when malformed or outside -12:00..+14:00.
std::optional<int32_t> ParseUtcOffset(const std::string& text);

class Config {
  public:
    // `file` may be empty (no file). `environment` is the process's environment (environ).
    static Result<Config> Load(const std::string& file, char** environment);
    const std::string& Get(const std::string& key) const;
    uint64_t Number(const std::string& key) const;
    // A description of every setting, for --help and docs.
    static std::string Describe();

  private:
    std::map<std::string, std::string> values_;
};

}  // namespace bursar::config
