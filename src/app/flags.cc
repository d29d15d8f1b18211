#include "app/flags.h"

#include "base/assert.h"
#include "base/u128.h"

namespace bursar::app {

Result<Flags> Flags::Parse(const std::vector<std::string>& args,
                           const std::vector<FlagSpec>& specs) {
    Flags flags;
    std::map<std::string, const FlagSpec*> by_name;
    for (const FlagSpec& spec : specs) {
        by_name[spec.name] = &spec;
        flags.values_[spec.name] = spec.default_value;
    }
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.rfind("--", 0) != 0) {
            flags.positional_.push_back(arg);
            continue;
        }
        std::string name = arg.substr(2);
        std::string value;
        bool has_value = false;
        if (size_t equals = name.find('='); equals != std::string::npos) {
            value = name.substr(equals + 1);
            name = name.substr(0, equals);
            has_value = true;
        }
        auto it = by_name.find(name);
        if (it == by_name.end())
            return Error(StatusCode::kInvalidArgument, "unknown flag --" + name);
        if (it->second->is_switch) {
            if (has_value && value != "true" && value != "false") {
                return Error(StatusCode::kInvalidArgument, "--" + name + " takes true or false");
            }
            flags.values_[name] = has_value ? value : "true";
            continue;
        }
        if (!has_value) {
            if (i + 1 >= args.size()) {
                return Error(StatusCode::kInvalidArgument, "--" + name + " needs a value");
            }
            value = args[++i];
        }
        flags.values_[name] = value;
    }
    return flags;
}

std::string Flags::Usage(const std::vector<FlagSpec>& specs) {
    std::string text;
    for (const FlagSpec& spec : specs) {
        text += "  --" + spec.name;
        if (!spec.is_switch)
            text += "=" + (spec.default_value.empty() ? "VALUE" : spec.default_value);
        text += "\n      " + spec.description + "\n";
    }
    return text;
}

const std::string& Flags::Get(const std::string& name) const {
    auto it = values_.find(name);
    BURSAR_ASSERT(it != values_.end());  // a flag the command did not declare is a program error
    return it->second;
}

Result<uint64_t> Flags::Number(const std::string& name, uint64_t minimum, uint64_t maximum) const {
    auto value = U128FromString(Get(name));
    if (!value || *value < minimum || *value > maximum) {
        return Error(StatusCode::kInvalidArgument, "--" + name + " must be a whole number from " +
                                                       std::to_string(minimum) + " to " +
                                                       std::to_string(maximum));
    }
    return static_cast<uint64_t>(*value);
}

}  // namespace bursar::app
