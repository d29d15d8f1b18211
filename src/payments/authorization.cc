#include "payments/authorization.h"

namespace bursar::payments {

bool MayActForUser(const Caller& caller, uint64_t user_id) {
    return caller.kind == Caller::Kind::kAdmin ||
           (caller.kind == Caller::Kind::kUser && caller.id == user_id);
}

bool MaySeeTxn(const Caller& caller, const Txn& txn) {
    switch (caller.kind) {
        case Caller::Kind::kAnonymous:
            return false;
        case Caller::Kind::kAdmin:
            return true;
        case Caller::Kind::kUser:
            return caller.id == txn.user_id ||
                   (txn.type == TxnType::kTransfer && caller.id == txn.to_user_id);
        case Caller::Kind::kMerchant:
            return (txn.type == TxnType::kPay || txn.type == TxnType::kRefund) &&
                   caller.id == txn.merchant_id;
    }
    return false;
}

}  // namespace bursar::payments
