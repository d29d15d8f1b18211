#pragma once

// Command-line flags of the subcommands: declared with a default and a description, parsed from
// `--name=value`, `--name value` or `--switch`. Unknown flags and malformed numbers are errors.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace bursar::app {

struct FlagSpec {
    std::string name;           // without the leading dashes
    std::string default_value;  // for a switch: "false"
    std::string description;
    bool is_switch = false;
};

class Flags {
  public:
    static Result<Flags> Parse(const std::vector<std::string>& args,
                               const std::vector<FlagSpec>& specs);
    static std::string Usage(const std::vector<FlagSpec>& specs);

    const std::string& Get(const std::string& name) const;
    bool Switch(const std::string& name) const { return Get(name) == "true"; }
    // A decimal number within [minimum, maximum], or an error naming the flag.
    Result<uint64_t> Number(const std::string& name, uint64_t minimum, uint64_t maximum) const;
    const std::vector<std::string>& positional() const { return positional_; }

  private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

}  // namespace bursar::app
