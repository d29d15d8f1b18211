#pragma once

// The ledger's fixed-size records (the TigerBeetle model): 128 bytes each, u128 ids and amounts
// in minor units, pending and posted balances. These exact bytes are what the journal stores.

#include <cstdint>

#include "base/u128.h"

namespace bursar::ledger {

// Account kinds (Account::kind). The ledger only requires a non-zero kind; the meaning is the
// domain's (SPEC.md L1).
enum class AccountKind : uint16_t {
    kUserWallet = 1,
    kMerchant = 2,
    kPspClearing = 3,
    kFeeRevenue = 4,
    kSettlementPayable = 5,
    kFxLiquidity = 6,
};

namespace account_flags {
inline constexpr uint16_t kLinked = 1 << 0;
inline constexpr uint16_t kDebitsMustNotExceedCredits = 1 << 1;
inline constexpr uint16_t kCreditsMustNotExceedDebits = 1 << 2;
inline constexpr uint16_t kAll =
    kLinked | kDebitsMustNotExceedCredits | kCreditsMustNotExceedDebits;
}  // namespace account_flags

namespace transfer_flags {
inline constexpr uint16_t kLinked = 1 << 0;
inline constexpr uint16_t kPending = 1 << 1;
inline constexpr uint16_t kPostPendingTransfer = 1 << 2;
inline constexpr uint16_t kVoidPendingTransfer = 1 << 3;
inline constexpr uint16_t kBalancingDebit = 1 << 4;
inline constexpr uint16_t kBalancingCredit = 1 << 5;
inline constexpr uint16_t kAll = kLinked | kPending | kPostPendingTransfer | kVoidPendingTransfer |
                                 kBalancingDebit | kBalancingCredit;
}  // namespace transfer_flags

struct Account {
    u128 id;
    u128 debits_pending;
    u128 debits_posted;
    u128 credits_pending;
    u128 credits_posted;
    u128 user_data_128;
    uint64_t user_data_64;
    uint32_t user_data_32;
    uint32_t reserved;   // must be zero
    uint32_t currency;   // a currency id of currency.h
    uint16_t kind;       // AccountKind, non-zero
    uint16_t flags;      // account_flags
    uint64_t timestamp;  // assigned by the state machine; zero when submitted
};
static_assert(sizeof(Account) == 128);
static_assert(alignof(Account) == 16);

struct Transfer {
    u128 id;
    u128 debit_account_id;
    u128 credit_account_id;
    u128 amount;      // minor units of `currency`
    u128 pending_id;  // the pending transfer a post or void resolves; zero otherwise
    u128 user_data_128;
    uint64_t user_data_64;
    uint32_t user_data_32;
    uint32_t timeout;    // seconds; pending transfers only; zero = never expires
    uint32_t currency;   // a currency id of currency.h
    uint16_t code;       // what the transfer is for (domain-defined), non-zero
    uint16_t flags;      // transfer_flags
    uint64_t timestamp;  // assigned by the state machine; zero when submitted
};
static_assert(sizeof(Transfer) == 128);
static_assert(alignof(Transfer) == 16);

// What became of a pending transfer. Stored beside the transfer, not in its record.
enum class PendingStatus : uint8_t {
    kNone = 0,  // not a pending transfer
    kPending = 1,
    kPosted = 2,
    kVoided = 3,
    kExpired = 4,
};

const char* PendingStatusName(PendingStatus status);

// Non-ok results of a batch of events: the event's index in its request and its result code.
// Events not listed succeeded (as in TigerBeetle's replies).
struct EventResult {
    uint32_t index;
    uint32_t result;
};
static_assert(sizeof(EventResult) == 8);

inline constexpr uint64_t kNanosecondsPerSecond = 1'000'000'000ull;

}  // namespace bursar::ledger
