#include "payments/accounts.h"

namespace bursar::payments {
namespace {

constexpr u128 kKindShift = 120;

}  // namespace

u128 WalletAccountId(uint64_t user_id, uint32_t currency) {
    return (u128{1} << kKindShift) | (u128{user_id} << 32) | currency;
}
u128 MerchantAccountId(uint64_t merchant_id, uint32_t currency) {
    return (u128{2} << kKindShift) | (u128{merchant_id} << 32) | currency;
}
u128 ClearingAccountId(uint32_t currency) { return (u128{3} << kKindShift) | currency; }
u128 FeeAccountId(uint32_t currency) { return (u128{4} << kKindShift) | currency; }
u128 TxnTransferId(uint64_t txn_id, uint32_t leg) {
    return (u128{5} << kKindShift) | (u128{txn_id} << 8) | leg;
}

u128 HoldTransferId(uint64_t hold_id, uint32_t n) {
    return (u128{6} << kKindShift) | (u128{hold_id} << 16) | n;
}

}  // namespace bursar::payments
