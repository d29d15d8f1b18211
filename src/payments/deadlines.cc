#include "payments/deadlines.h"

namespace bursar::payments {

std::optional<uint64_t> DeadlineQueue::Earliest() const {
    if (deadlines_.empty()) return std::nullopt;
    return deadlines_.begin()->time;
}

std::optional<Deadline> DeadlineQueue::PopDue(uint64_t timestamp) {
    if (deadlines_.empty() || deadlines_.begin()->time > timestamp) return std::nullopt;
    Deadline first = *deadlines_.begin();
    deadlines_.erase(deadlines_.begin());
    return first;
}

}  // namespace bursar::payments
