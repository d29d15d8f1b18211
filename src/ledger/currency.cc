#include "ledger/currency.h"

#include <array>

namespace bursar::ledger {
namespace {

constexpr std::array<CurrencyInfo, 14> kCurrencies = {{
    {392, "JPY", 0},
    {840, "USD", 2},
    {978, "EUR", 2},
    {826, "GBP", 2},
    {156, "CNY", 2},
    {410, "KRW", 0},
    {702, "SGD", 2},
    {756, "CHF", 2},
    {344, "HKD", 2},
    {48, "BHD", 3},
    {1001, "BTC", 8},
    {1002, "ETH", 18},
    {1003, "USDC", 6},
    {1004, "USDT", 6},
}};
static_assert(kCurrencies.size() <= kCurrenciesMax);

}  // namespace

std::span<const CurrencyInfo> Currencies() { return kCurrencies; }

int CurrencyIndex(uint32_t id) {
    for (size_t i = 0; i < kCurrencies.size(); ++i) {
        if (kCurrencies[i].id == id) return static_cast<int>(i);
    }
    return -1;
}

const CurrencyInfo* FindCurrency(uint32_t id) {
    int index = CurrencyIndex(id);
    return index < 0 ? nullptr : &kCurrencies[static_cast<size_t>(index)];
}

const CurrencyInfo* FindCurrencyByCode(std::string_view code) {
    for (const auto& currency : kCurrencies) {
        if (currency.code == code) return &currency;
    }
    return nullptr;
}

}  // namespace bursar::ledger
