#include "payments/error_codes.h"

#include "base/json_writer.h"

namespace bursar::payments {
namespace {

#define BURSAR_ERROR_INFO(name, code, status, message) {code, status, message},
constexpr ErrorInfo kErrors[] = {BURSAR_ERROR_CODES(BURSAR_ERROR_INFO)};
#undef BURSAR_ERROR_INFO

}  // namespace

const ErrorInfo& GetError(ErrorCode code) { return kErrors[static_cast<size_t>(code)]; }

std::string ErrorBody(ErrorCode code, std::string_view message, std::string_view param) {
    const ErrorInfo& info = GetError(code);
    JsonWriter json;
    json.BeginObject().Key("error").BeginObject();
    json.Key("code").String(info.code);
    json.Key("message").String(message.empty() ? info.message : message);
    json.Key("param");
    if (param.empty()) {
        json.Null();
    } else {
        json.String(param);
    }
    json.EndObject().EndObject();
    return json.Take();
}

}  // namespace bursar::payments
