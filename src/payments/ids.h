#pragma once

// The ids the API shows: a prefix and a positive decimal (usr_1, mch_2, txn_3). One place for
// every prefix, so that parsing and formatting agree.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bursar::payments {

std::string FormatUserId(uint64_t id);      // usr_<n>
std::string FormatMerchantId(uint64_t id);  // mch_<n>
std::string FormatTxnId(uint64_t id);       // txn_<n>
std::string FormatHoldId(uint64_t id);      // pa_<n> (a pre-authorization)
std::optional<uint64_t> ParseUserId(std::string_view text);
std::optional<uint64_t> ParseMerchantId(std::string_view text);
std::optional<uint64_t> ParseTxnId(std::string_view text);
std::optional<uint64_t> ParseHoldId(std::string_view text);
// <prefix><n>, n a positive decimal without leading zeros: n; otherwise nullopt.
std::optional<uint64_t> ParsePrefixedId(std::string_view text, std::string_view prefix);

}  // namespace bursar::payments
