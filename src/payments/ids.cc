#include "payments/ids.h"

#include <charconv>

namespace bursar::payments {

std::string FormatUserId(uint64_t id) { return "usr_" + std::to_string(id); }
std::string FormatMerchantId(uint64_t id) { return "mch_" + std::to_string(id); }
std::string FormatTxnId(uint64_t id) { return "txn_" + std::to_string(id); }
std::string FormatHoldId(uint64_t id) { return "pa_" + std::to_string(id); }

std::optional<uint64_t> ParsePrefixedId(std::string_view text, std::string_view prefix) {
    if (text.size() <= prefix.size() || text.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    uint64_t value = 0;
    const char* begin = text.data() + prefix.size();
    const char* end = text.data() + text.size();
    auto [ptr, error] = std::from_chars(begin, end, value);
    if (error != std::errc() || ptr != end || value == 0 || *begin == '0') return std::nullopt;
    return value;
}

std::optional<uint64_t> ParseUserId(std::string_view text) { return ParsePrefixedId(text, "usr_"); }
std::optional<uint64_t> ParseMerchantId(std::string_view text) {
    return ParsePrefixedId(text, "mch_");
}
std::optional<uint64_t> ParseTxnId(std::string_view text) { return ParsePrefixedId(text, "txn_"); }
std::optional<uint64_t> ParseHoldId(std::string_view text) { return ParsePrefixedId(text, "pa_"); }

}  // namespace bursar::payments
