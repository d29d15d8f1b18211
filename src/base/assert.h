#pragma once

// Always-on assertions for invariants (BURSAR_ASSERT) and debug-only ones for expensive checks
// (BURSAR_DASSERT). User input never reaches an assertion: it gets an error value instead.

namespace bursar {

[[noreturn]] void AssertFail(const char* expression, const char* file, int line);

}  // namespace bursar

#define BURSAR_ASSERT(condition)                                  \
    do {                                                          \
        if (__builtin_expect(!(condition), 0)) {                  \
            ::bursar::AssertFail(#condition, __FILE__, __LINE__); \
        }                                                         \
    } while (0)

#ifdef NDEBUG
#define BURSAR_DASSERT(condition) \
    do {                          \
    } while (0)
#else
#define BURSAR_DASSERT(condition) BURSAR_ASSERT(condition)
#endif
