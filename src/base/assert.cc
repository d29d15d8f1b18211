#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace bursar {

void AssertFail(const char* expression, const char* file, int line) {
    std::fprintf(stderr, "bursar: assertion failed: %s at %s:%d\n", expression, file, line);
    std::fflush(stderr);
    std::abort();
}

}  // namespace bursar
