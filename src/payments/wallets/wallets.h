#pragma once

// Wallets (SPEC.md P3, P5): a user's money per currency, in a ledger account that may not go below
// zero; top-ups from the channel's clearing account and P2P transfers between users, each one
// ledger entry. README.md beside this file: result codes in check order.

#include <cstdint>

#include "ledger/state_machine.h"
#include "payments/authorization.h"
#include "payments/command.h"
#include "payments/outcome.h"
#include "payments/users/users.h"

namespace bursar::payments::wallets {

// What a money-moving command works on: the ledger and the shared transaction counter.
struct Books {
    ledger::StateMachine& ledger;
    uint64_t& next_txn_id;
    uint64_t timestamp;
};

Outcome Topup(const Command& c, const Caller& caller, const users::Users& users, Books books);
Outcome Transfer(const Command& c, const Caller& caller, const users::Users& users, Books books);

// The wallet's posted balance (zero when it has no account in `currency`).
u128 Balance(const ledger::StateMachine& ledger, uint64_t user_id, uint32_t currency);

// The checks every money-moving command of a user starts with, in order: signed in, the user
// exists, the caller may act for them, the amount is from 1 to kAmountMinorMax, the currency is
// known. kOk when all pass.
ResultCode CheckPayer(const Command& c, const Caller& caller, const users::Users& users);

}  // namespace bursar::payments::wallets
