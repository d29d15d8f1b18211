#pragma once

// Charges (SPEC.md P4): a user pays a merchant from their wallet; the merchant bears the tier's
// fee. One ledger entry: the net to the merchant, the fee to the platform's fee account.
// README.md beside this file: result codes in check order.

#include <cstdint>

#include "payments/merchants/merchants.h"
#include "payments/users/users.h"
#include "payments/wallets/wallets.h"
#include "risk/limits.h"

namespace bursar::payments::charges {

// Fee of a payment: amount * basis points / 10 000, rounded half up to the minor unit.
u128 Fee(u128 amount, uint32_t basis_points);

Outcome Pay(const Command& c, const Caller& caller, const users::Users& users,
            const merchants::Merchants& merchants, risk::Limits& limits, wallets::Books books);

}  // namespace bursar::payments::charges
