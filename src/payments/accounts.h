#pragma once

// The ledger layout of the domain: which ledger account holds whose money, and how a transaction's
// transfers are numbered. Stable: these ids are in every journal and snapshot.
//
// Ledger account ids (kind in the top byte; currencies by ledger id):
//   wallet of user U in C        (1 << 120) | U << 32 | C   debits_must_not_exceed_credits
//   merchant M in C              (2 << 120) | M << 32 | C
//   PSP clearing in C            (3 << 120) | C            (the channel's side of top-ups)
//   fee revenue in C             (4 << 120) | C
// A transaction (txn) is one entry: transfer ids (5 << 120) | txn << 8 | leg, every leg carrying
// user_data_64 = txn id, user_data_32 = type << 8 | leg kind, user_data_128 = user << 64 | other.
// A refund's legs: merchant → wallet (kRefundNet) and fee revenue → wallet (kRefundFee), user the
// payer and other the merchant; the payment it refunds is in the refunds module. A
// pre-authorization reserves with a pending transfer wallet → merchant, ids HoldTransferId.

#include <cstdint>

#include "base/u128.h"

namespace bursar::payments {

enum class LegKind : uint8_t {
    kTopup = 1,
    kNet = 2,
    kFee = 3,
    kTransfer = 4,
    kRefundNet = 5,  // merchant → wallet: a refund's part the merchant gives back
    kRefundFee = 6,  // fee revenue → wallet: a refund's fee returned
    kHold = 7,       // wallet → merchant, pending: a pre-authorization's reserve
    kHoldVoid = 8,   // the void of a reserve (released, or replaced after a capture)
};

// Ledger transfer codes of the legs.
inline constexpr uint16_t kCodeTopup = 1;
inline constexpr uint16_t kCodePayNet = 2;
inline constexpr uint16_t kCodeFee = 3;
inline constexpr uint16_t kCodeTransfer = 4;
inline constexpr uint16_t kCodeRefund = 5;
inline constexpr uint16_t kCodeRefundFee = 6;
inline constexpr uint16_t kCodeHold = 7;

u128 WalletAccountId(uint64_t user_id, uint32_t currency);
u128 MerchantAccountId(uint64_t merchant_id, uint32_t currency);
u128 ClearingAccountId(uint32_t currency);
u128 FeeAccountId(uint32_t currency);
u128 TxnTransferId(uint64_t txn_id, uint32_t leg);
// The transfers of pre-authorization H: (6 << 120) | H << 16 | n, n = 0, 1, ... in order (a
// reserve, then per capture the void of the reserve and a new reserve of what is left).
u128 HoldTransferId(uint64_t hold_id, uint32_t n);

}  // namespace bursar::payments
