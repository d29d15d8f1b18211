#include "journal/format.h"

#include <cstdio>

namespace bursar::journal {

std::string SegmentName(uint64_t first_seq) {
    char name[64];
    std::snprintf(name, sizeof(name), "%s%020llu%s", kSegmentPrefix,
                  static_cast<unsigned long long>(first_seq), kSegmentSuffix);
    return name;
}

uint64_t ParseSegmentName(const std::string& name) {
    const std::string prefix = kSegmentPrefix;
    const std::string suffix = kSegmentSuffix;
    if (name.size() != prefix.size() + 20 + suffix.size()) return 0;
    if (name.compare(0, prefix.size(), prefix) != 0) return 0;
    if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return 0;
    uint64_t seq = 0;
    for (size_t i = prefix.size(); i < prefix.size() + 20; ++i) {
        if (name[i] < '0' || name[i] > '9') return 0;
        seq = seq * 10 + static_cast<uint64_t>(name[i] - '0');
    }
    return seq;
}

}  // namespace bursar::journal
