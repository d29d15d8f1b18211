#include "ledger/types.h"

namespace bursar::ledger {

const char* PendingStatusName(PendingStatus status) {
    switch (status) {
        case PendingStatus::kNone:
            return "none";
        case PendingStatus::kPending:
            return "pending";
        case PendingStatus::kPosted:
            return "posted";
        case PendingStatus::kVoided:
            return "voided";
        case PendingStatus::kExpired:
            return "expired";
    }
    return "unknown";
}

}  // namespace bursar::ledger
