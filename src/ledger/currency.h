#pragma once

// The currencies the ledger knows: ISO 4217 numeric codes for fiat money, ids from 1001 up for
// crypto assets. The exponent is the number of minor-unit digits (JPY 0, USD 2, BTC 8, ETH 18).

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace bursar::ledger {

struct CurrencyInfo {
    uint32_t id;
    std::string_view code;
    uint8_t exponent;
};

std::span<const CurrencyInfo> Currencies();
// The dense index (0 .. Currencies().size() - 1) of a currency id, or -1 when unknown.
int CurrencyIndex(uint32_t id);
const CurrencyInfo* FindCurrency(uint32_t id);
const CurrencyInfo* FindCurrencyByCode(std::string_view code);

inline constexpr size_t kCurrenciesMax = 32;

}  // namespace bursar::ledger
