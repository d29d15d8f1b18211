#pragma once

// Who is calling, and what they may see or act on: the one place for these rules. The state
// machine decides with them (commands and reads), and so does the API for the read model's lists.

#include <cstdint>

#include "payments/outcome.h"

namespace bursar::payments {

// Who is calling, once the credential has been checked.
struct Caller {
    enum class Kind : uint8_t { kAnonymous, kAdmin, kUser, kMerchant } kind = Kind::kAnonymous;
    uint64_t id = 0;
};

// The admin, or the user themselves.
bool MayActForUser(const Caller& caller, uint64_t user_id);
// The admin, the payer (or the user refunded), the merchant paid (or refunding), or the
// recipient of a transfer.
bool MaySeeTxn(const Caller& caller, const Txn& txn);

}  // namespace bursar::payments
