#include "api/json_input.h"

#include <simdjson.h>

namespace bursar::api {
namespace {

ApiError Invalid(std::string message, std::string param = {}) {
    return ApiError{payments::ErrorCode::kInvalidRequest, std::move(message), std::move(param)};
}

constexpr std::string_view kAmountRange = "Must be a whole number of minor units from 1 to 10^18.";

// A number the parser cannot hold (beyond 64 bits) fails the whole parse: the amount field it
// belongs to, when one of `specs` is written "name": <digits> in the body, is named instead.
std::optional<std::string_view> OversizedAmount(std::string_view body,
                                                std::span<const FieldSpec> specs) {
    for (const FieldSpec& spec : specs) {
        if (spec.kind != FieldKind::kAmount) continue;
        const std::string quoted = "\"" + std::string(spec.name) + "\"";
        size_t at = body.find(quoted);
        if (at == std::string_view::npos) continue;
        at += quoted.size();
        while (at < body.size() && (body[at] == ' ' || body[at] == ':' || body[at] == '\t' ||
                                    body[at] == '\n' || body[at] == '\r')) {
            ++at;
        }
        size_t digits = 0;
        while (at + digits < body.size() && body[at + digits] >= '0' && body[at + digits] <= '9') {
            ++digits;
        }
        if (digits > 19) return spec.name;
    }
    return std::nullopt;
}

}  // namespace

ParsedFields JsonFields::Parse(std::string_view body, std::initializer_list<FieldSpec> specs) {
    return Parse(body, std::span<const FieldSpec>(specs.begin(), specs.size()));
}

ParsedFields JsonFields::Parse(std::string_view body, std::span<const FieldSpec> specs) {
    // One parser per thread: parsers are not thread-safe and are costly to create.
    thread_local simdjson::dom::parser parser;
    simdjson::padded_string padded(body);
    simdjson::dom::element document;
    if (const auto error = parser.parse(padded).get(document); error != simdjson::SUCCESS) {
        if (error == simdjson::NUMBER_ERROR) {
            if (auto name = OversizedAmount(body, specs)) {
                return (Invalid(std::string(kAmountRange), std::string(*name)));
            }
        }
        return (Invalid("The body is not valid JSON."));
    }
    simdjson::dom::object object;
    if (document.get_object().get(object) != simdjson::SUCCESS) {
        return (Invalid("The body must be a JSON object."));
    }
    JsonFields fields;
    for (auto field : object) {
        const std::string_view key = field.key;
        const FieldSpec* spec = nullptr;
        for (const FieldSpec& candidate : specs) {
            if (candidate.name == key) spec = &candidate;
        }
        if (spec == nullptr) {
            return (Invalid("Unknown field '" + std::string(key) + "'.", std::string(key)));
        }
        if (fields.strings_.contains(key) || fields.amounts_.contains(key) ||
            fields.booleans_.contains(key)) {
            return (Invalid("Duplicate field.", std::string(key)));
        }
        if (spec->kind == FieldKind::kString) {
            std::string_view value;
            if (field.value.get_string().get(value) != simdjson::SUCCESS) {
                return (Invalid("Must be a string.", std::string(key)));
            }
            if (value.size() < spec->bytes_min || value.size() > spec->bytes_max) {
                return (Invalid("Must be " + std::to_string(spec->bytes_min) + " to " +
                                    std::to_string(spec->bytes_max) + " bytes long.",
                                std::string(key)));
            }
            fields.strings_.emplace(std::string(key), std::string(value));
        } else if (spec->kind == FieldKind::kBoolean) {
            bool value = false;
            if (field.value.get_bool().get(value) != simdjson::SUCCESS) {
                return (Invalid("Must be true or false.", std::string(key)));
            }
            fields.booleans_.emplace(std::string(key), value);
        } else if (spec->kind == FieldKind::kInteger) {
            uint64_t value = 0;
            const bool integer = field.value.is_uint64() || field.value.is_int64();
            if (!integer || field.value.get_uint64().get(value) != simdjson::SUCCESS ||
                value < spec->bytes_min || value > spec->bytes_max) {
                return (Invalid("Must be a whole number from " + std::to_string(spec->bytes_min) +
                                    " to " + std::to_string(spec->bytes_max) + ".",
                                std::string(key)));
            }
            fields.amounts_.emplace(std::string(key), value);
        } else {
            uint64_t value = 0;
            const bool integer = field.value.is_uint64() || field.value.is_int64();
            if (!integer || field.value.get_uint64().get(value) != simdjson::SUCCESS ||
                value == 0 || value > kAmountMinorMax) {
                return (Invalid(std::string(kAmountRange), std::string(key)));
            }
            fields.amounts_.emplace(std::string(key), value);
        }
    }
    for (const FieldSpec& spec : specs) {
        if (spec.required && !fields.strings_.contains(spec.name) &&
            !fields.amounts_.contains(spec.name) && !fields.booleans_.contains(spec.name)) {
            return (Invalid("Missing field.", std::string(spec.name)));
        }
    }
    return fields;
}

std::optional<std::string> JsonFields::String(std::string_view name) const {
    auto it = strings_.find(name);
    if (it == strings_.end()) return std::nullopt;
    return it->second;
}

std::optional<uint64_t> JsonFields::Amount(std::string_view name) const {
    auto it = amounts_.find(name);
    if (it == amounts_.end()) return std::nullopt;
    return it->second;
}

std::optional<bool> JsonFields::Boolean(std::string_view name) const {
    auto it = booleans_.find(name);
    if (it == booleans_.end()) return std::nullopt;
    return it->second;
}

std::string JsonFields::Canonical() const {
    // The maps are each in name order and a name is in one of them: their lines, sorted by name.
    std::map<std::string_view, std::string> lines;
    for (const auto& [name, value] : strings_) {
        lines[name] = "=s" + std::to_string(value.size()) + ":" + value;
    }
    for (const auto& [name, value] : amounts_) lines[name] = "=n" + std::to_string(value);
    for (const auto& [name, value] : booleans_) lines[name] = value ? "=btrue" : "=bfalse";
    std::string out;
    for (const auto& [name, line] : lines) out.append(name).append(line).append("\n");
    return out;
}

}  // namespace bursar::api
