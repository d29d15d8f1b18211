#pragma once

// Result codes of the ledger, with stable numbers: a number is never reused or renumbered.
// Checks run in the documented order (docs/ledger/result-codes.md); the first that fails decides.

#include <cstdint>

namespace bursar::ledger {

#define BURSAR_CREATE_ACCOUNT_RESULTS(X)                                          \
    X(kOk, 0, "ok")                                                               \
    X(kLinkedEventFailed, 1, "linked_event_failed")                               \
    X(kLinkedEventChainOpen, 2, "linked_event_chain_open")                        \
    X(kTimestampMustBeZero, 3, "timestamp_must_be_zero")                          \
    X(kReservedField, 4, "reserved_field")                                        \
    X(kReservedFlag, 5, "reserved_flag")                                          \
    X(kIdMustNotBeZero, 6, "id_must_not_be_zero")                                 \
    X(kIdMustNotBeIntMax, 7, "id_must_not_be_int_max")                            \
    X(kFlagsAreMutuallyExclusive, 8, "flags_are_mutually_exclusive")              \
    X(kDebitsPendingMustBeZero, 9, "debits_pending_must_be_zero")                 \
    X(kDebitsPostedMustBeZero, 10, "debits_posted_must_be_zero")                  \
    X(kCreditsPendingMustBeZero, 11, "credits_pending_must_be_zero")              \
    X(kCreditsPostedMustBeZero, 12, "credits_posted_must_be_zero")                \
    X(kCurrencyMustNotBeZero, 13, "currency_must_not_be_zero")                    \
    X(kCurrencyUnknown, 14, "currency_unknown")                                   \
    X(kKindMustNotBeZero, 15, "kind_must_not_be_zero")                            \
    X(kExistsWithDifferentFlags, 16, "exists_with_different_flags")               \
    X(kExistsWithDifferentUserData128, 17, "exists_with_different_user_data_128") \
    X(kExistsWithDifferentUserData64, 18, "exists_with_different_user_data_64")   \
    X(kExistsWithDifferentUserData32, 19, "exists_with_different_user_data_32")   \
    X(kExistsWithDifferentCurrency, 20, "exists_with_different_currency")         \
    X(kExistsWithDifferentKind, 21, "exists_with_different_kind")                 \
    X(kExists, 22, "exists")

#define BURSAR_CREATE_TRANSFER_RESULTS(X)                                                  \
    X(kOk, 0, "ok")                                                                        \
    X(kLinkedEventFailed, 1, "linked_event_failed")                                        \
    X(kLinkedEventChainOpen, 2, "linked_event_chain_open")                                 \
    X(kTimestampMustBeZero, 3, "timestamp_must_be_zero")                                   \
    X(kReservedFlag, 4, "reserved_flag")                                                   \
    X(kIdMustNotBeZero, 5, "id_must_not_be_zero")                                          \
    X(kIdMustNotBeIntMax, 6, "id_must_not_be_int_max")                                     \
    X(kExistsWithDifferentFlags, 7, "exists_with_different_flags")                         \
    X(kExistsWithDifferentPendingId, 8, "exists_with_different_pending_id")                \
    X(kExistsWithDifferentTimeout, 9, "exists_with_different_timeout")                     \
    X(kExistsWithDifferentDebitAccountId, 10, "exists_with_different_debit_account_id")    \
    X(kExistsWithDifferentCreditAccountId, 11, "exists_with_different_credit_account_id")  \
    X(kExistsWithDifferentAmount, 12, "exists_with_different_amount")                      \
    X(kExistsWithDifferentUserData128, 13, "exists_with_different_user_data_128")          \
    X(kExistsWithDifferentUserData64, 14, "exists_with_different_user_data_64")            \
    X(kExistsWithDifferentUserData32, 15, "exists_with_different_user_data_32")            \
    X(kExistsWithDifferentCurrency, 16, "exists_with_different_currency")                  \
    X(kExistsWithDifferentCode, 17, "exists_with_different_code")                          \
    X(kExists, 18, "exists")                                                               \
    X(kIdAlreadyFailed, 19, "id_already_failed")                                           \
    X(kFlagsAreMutuallyExclusive, 20, "flags_are_mutually_exclusive")                      \
    X(kDebitAccountIdMustNotBeZero, 21, "debit_account_id_must_not_be_zero")               \
    X(kDebitAccountIdMustNotBeIntMax, 22, "debit_account_id_must_not_be_int_max")          \
    X(kCreditAccountIdMustNotBeZero, 23, "credit_account_id_must_not_be_zero")             \
    X(kCreditAccountIdMustNotBeIntMax, 24, "credit_account_id_must_not_be_int_max")        \
    X(kAccountsMustBeDifferent, 25, "accounts_must_be_different")                          \
    X(kPendingIdMustBeZero, 26, "pending_id_must_be_zero")                                 \
    X(kPendingIdMustNotBeZero, 27, "pending_id_must_not_be_zero")                          \
    X(kPendingIdMustNotBeIntMax, 28, "pending_id_must_not_be_int_max")                     \
    X(kPendingIdMustBeDifferent, 29, "pending_id_must_be_different")                       \
    X(kTimeoutReservedForPendingTransfer, 30, "timeout_reserved_for_pending_transfer")     \
    X(kAmountMustNotBeZero, 31, "amount_must_not_be_zero")                                 \
    X(kCurrencyMustNotBeZero, 32, "currency_must_not_be_zero")                             \
    X(kCodeMustNotBeZero, 33, "code_must_not_be_zero")                                     \
    X(kDebitAccountNotFound, 34, "debit_account_not_found")                                \
    X(kCreditAccountNotFound, 35, "credit_account_not_found")                              \
    X(kAccountsMustHaveTheSameCurrency, 36, "accounts_must_have_the_same_currency")        \
    X(kTransferMustHaveTheSameCurrencyAsAccounts, 37,                                      \
      "transfer_must_have_the_same_currency_as_accounts")                                  \
    X(kPendingTransferNotFound, 38, "pending_transfer_not_found")                          \
    X(kPendingTransferNotPending, 39, "pending_transfer_not_pending")                      \
    X(kPendingTransferHasDifferentDebitAccountId, 40,                                      \
      "pending_transfer_has_different_debit_account_id")                                   \
    X(kPendingTransferHasDifferentCreditAccountId, 41,                                     \
      "pending_transfer_has_different_credit_account_id")                                  \
    X(kPendingTransferHasDifferentCurrency, 42, "pending_transfer_has_different_currency") \
    X(kPendingTransferHasDifferentCode, 43, "pending_transfer_has_different_code")         \
    X(kExceedsPendingTransferAmount, 44, "exceeds_pending_transfer_amount")                \
    X(kPendingTransferHasDifferentAmount, 45, "pending_transfer_has_different_amount")     \
    X(kPendingTransferAlreadyPosted, 46, "pending_transfer_already_posted")                \
    X(kPendingTransferAlreadyVoided, 47, "pending_transfer_already_voided")                \
    X(kPendingTransferExpired, 48, "pending_transfer_expired")                             \
    X(kOverflowsDebitsPending, 49, "overflows_debits_pending")                             \
    X(kOverflowsCreditsPending, 50, "overflows_credits_pending")                           \
    X(kOverflowsDebitsPosted, 51, "overflows_debits_posted")                               \
    X(kOverflowsCreditsPosted, 52, "overflows_credits_posted")                             \
    X(kOverflowsDebits, 53, "overflows_debits")                                            \
    X(kOverflowsCredits, 54, "overflows_credits")                                          \
    X(kOverflowsTimeout, 55, "overflows_timeout")                                          \
    X(kExceedsCredits, 56, "exceeds_credits")                                              \
    X(kExceedsDebits, 57, "exceeds_debits")

#define BURSAR_RESULT_ENUM_ENTRY(name, number, text) name = number,

enum class CreateAccountResult : uint32_t {
    BURSAR_CREATE_ACCOUNT_RESULTS(BURSAR_RESULT_ENUM_ENTRY)
};
enum class CreateTransferResult : uint32_t {
    BURSAR_CREATE_TRANSFER_RESULTS(BURSAR_RESULT_ENUM_ENTRY)
};

#undef BURSAR_RESULT_ENUM_ENTRY

inline constexpr uint32_t kCreateAccountResultMax = 22;
inline constexpr uint32_t kCreateTransferResultMax = 57;

const char* CreateAccountResultName(CreateAccountResult result);
const char* CreateTransferResultName(CreateTransferResult result);

// Failures found after looking up state (accounts, a pending transfer, balances) are recorded:
// the same id submitted again answers id_already_failed instead of being tried again.
bool IsStateDependentFailure(CreateTransferResult result);

}  // namespace bursar::ledger
