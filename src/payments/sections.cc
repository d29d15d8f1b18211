#include "payments/sections.h"

namespace bursar::payments {

const char* SectionName(uint32_t id) {
    switch (static_cast<SectionId>(id)) {
        case SectionId::kLedger:
            return "ledger";
        case SectionId::kTxns:
            return "txns";
        case SectionId::kUsers:
            return "users";
        case SectionId::kMerchants:
            return "merchants";
        case SectionId::kIdempotency:
            return "idempotency";
        case SectionId::kRefunds:
            return "refunds";
        case SectionId::kHolds:
            return "holds";
        case SectionId::kLimits:
            return "limits";
    }
    return "unknown";
}

Hash256 CombineSectionHashes(const std::vector<SectionHash>& sections) {
    Sha256 sha;
    for (const SectionHash& section : sections) {
        sha.Update(&section.id, sizeof(section.id));
        sha.Update(&section.version, sizeof(section.version));
        sha.Update(section.hash.data(), section.hash.size());
    }
    return sha.Finish();
}

}  // namespace bursar::payments
