#pragma once

// The limits' commands and the payments' check (SPEC.md R1, R2), over risk::Limits (the counting
// and the windows, src/risk/limits.h): the admin configures the risk settings (the server does at
// start, from its configuration), sets a merchant's or a user's overrides; Pay and Capture check
// a payment against the limits in the same batch as its entry and count it once committed; a
// refund gives the quota back. README.md beside this file.

#include <cstdint>

#include "ledger/state_machine.h"
#include "payments/authorization.h"
#include "payments/command.h"
#include "payments/merchants/merchants.h"
#include "payments/outcome.h"
#include "payments/users/users.h"
#include "risk/limits.h"

namespace bursar::payments::limits {

// A tier's limits (major units).
risk::MerchantLimits TierLimits(Tier tier);

// The result code of the first limit a payment would pass (kOk: none).
ResultCode CheckPayment(const risk::Limits& limits, const merchants::Merchants& merchants,
                        uint64_t user, uint64_t merchant, uint32_t currency, u128 amount,
                        uint64_t timestamp);
// Counts a payment once committed, at `paid_at`: its first leg's time (Entry::Commit's answer: the
// time the ledger, FindTxn and a later refund see).
void RecordPayment(risk::Limits& limits, uint64_t paid_at, uint64_t user, uint64_t merchant,
                   uint32_t currency, u128 amount);

Outcome ConfigureRisk(const Command& c, const Caller& caller, risk::Limits& limits,
                      uint64_t timestamp);
Outcome SetMerchantLimits(const Command& c, const Caller& caller,
                          const merchants::Merchants& merchants, risk::Limits& limits);
Outcome SetUserLimits(const Command& c, const Caller& caller, const users::Users& users,
                      risk::Limits& limits);

}  // namespace bursar::payments::limits
