#pragma once

// Strict decoding of JSON request bodies: the body must be one object whose fields are all
// declared; each field has a kind and bounds. A violation is an ApiError naming the field
// (400 INVALID_REQUEST), never an exception or a partial result. simdjson stays in the .cc file.
// This header and json_input.cc avoid <expected> (base/status.h) so that the libFuzzer target,
// built with Debian's clang 14, compiles them: that clang cannot use libstdc++ 12's <expected>.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "payments/error_codes.h"

namespace bursar::api {

struct ApiError {
    payments::ErrorCode code = payments::ErrorCode::kInvalidRequest;
    std::string message;
    std::string param;
};

enum class FieldKind {
    kString,   // a JSON string of at most `bytes_max` bytes (and at least `bytes_min`)
    kAmount,   // a JSON integer from 1 to kAmountMinorMax
    kInteger,  // a JSON integer from `bytes_min` to `bytes_max` (the bounds of the value)
    kBoolean,  // true or false
};

inline constexpr uint64_t kAmountMinorMax =
    1'000'000'000'000'000'000ull;  // = payments::kAmountMinorMax

struct FieldSpec {
    std::string_view name;
    FieldKind kind;
    bool required;
    size_t bytes_min = 0;
    size_t bytes_max = 0;
};

class ParsedFields;

class JsonFields {
  public:
    static ParsedFields Parse(std::string_view body, std::span<const FieldSpec> specs);
    static ParsedFields Parse(std::string_view body, std::initializer_list<FieldSpec> specs);
    std::optional<std::string> String(std::string_view name) const;
    std::optional<uint64_t> Amount(std::string_view name) const;  // kAmount and kInteger
    std::optional<bool> Boolean(std::string_view name) const;
    // The fields in name order, each `name=s<length>:value` or `name=n<value>` on its own line:
    // the same parameters give the same text whatever the body's spacing and key order.
    std::string Canonical() const;

  private:
    std::map<std::string, std::string, std::less<>> strings_;
    std::map<std::string, uint64_t, std::less<>> amounts_;
    std::map<std::string, bool, std::less<>> booleans_;
};

// The fields, or the error (the subset of std::expected's interface the handlers use).
class ParsedFields {
  public:
    ParsedFields(JsonFields fields) : fields_(std::move(fields)), ok_(true) {}  // NOLINT
    ParsedFields(ApiError error) : error_(std::move(error)) {}                  // NOLINT
    explicit operator bool() const { return ok_; }
    const JsonFields* operator->() const { return &fields_; }
    const JsonFields& operator*() const { return fields_; }
    const ApiError& error() const { return error_; }

  private:
    JsonFields fields_;
    ApiError error_;
    bool ok_ = false;
};

}  // namespace bursar::api
