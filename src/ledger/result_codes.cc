#include "ledger/result_codes.h"

namespace bursar::ledger {

#define BURSAR_RESULT_NAME_CASE(name, number, text) \
    case Enum::name:                                \
        return text;

const char* CreateAccountResultName(CreateAccountResult result) {
    using Enum = CreateAccountResult;
    switch (result) { BURSAR_CREATE_ACCOUNT_RESULTS(BURSAR_RESULT_NAME_CASE) }
    return "unknown";
}

const char* CreateTransferResultName(CreateTransferResult result) {
    using Enum = CreateTransferResult;
    switch (result) { BURSAR_CREATE_TRANSFER_RESULTS(BURSAR_RESULT_NAME_CASE) }
    return "unknown";
}

#undef BURSAR_RESULT_NAME_CASE

bool IsStateDependentFailure(CreateTransferResult result) {
    return static_cast<uint32_t>(result) >=
           static_cast<uint32_t>(CreateTransferResult::kDebitAccountNotFound);
}

}  // namespace bursar::ledger
