#include "payments/result_codes.h"

#include <array>

#include "base/assert.h"

namespace bursar::payments {
namespace {

struct ResultInfo {
    uint16_t number;
    std::string_view name;
    ResultError error;
};

#define BURSAR_RESULT_INFO(name, number, error, message, param) \
    ResultInfo{number, #name, ResultError{ErrorCode::error, message, param}},
constexpr std::array kResults = {BURSAR_RESULT_CODES(BURSAR_RESULT_INFO)};
#undef BURSAR_RESULT_INFO

const ResultInfo* Find(uint16_t number) {
    for (const ResultInfo& info : kResults) {
        if (info.number == number) return &info;
    }
    return nullptr;
}

}  // namespace

bool IsKnownResult(uint16_t number) { return Find(number) != nullptr; }

std::string_view ResultName(ResultCode code) {
    const ResultInfo* info = Find(static_cast<uint16_t>(code));
    BURSAR_ASSERT(info != nullptr);
    return info->name.substr(1);  // without the k
}

const ResultError& ErrorOf(ResultCode code) {
    const ResultInfo* info = Find(static_cast<uint16_t>(code));
    BURSAR_ASSERT(info != nullptr);
    return info->error;
}

uint16_t HttpStatusOf(ResultCode code, uint16_t ok_status) {
    return code == ResultCode::kOk ? ok_status : GetError(ErrorOf(code).error).status;
}

bool StoredForIdempotencyKey(ResultCode code) {
    if (code == ResultCode::kOk) return true;
    const ErrorCode error = ErrorOf(code).error;
    return error != ErrorCode::kInvalidRequest && GetError(error).status < 500;
}

}  // namespace bursar::payments
