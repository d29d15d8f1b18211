#include "base/status.h"

namespace bursar {

const char* StatusCodeName(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return "ok";
        case StatusCode::kIoError:
            return "io_error";
        case StatusCode::kCorruption:
            return "corruption";
        case StatusCode::kNotFound:
            return "not_found";
        case StatusCode::kInvalidArgument:
            return "invalid_argument";
        case StatusCode::kBusy:
            return "busy";
        case StatusCode::kStopped:
            return "stopped";
        case StatusCode::kUnsupported:
            return "unsupported";
        case StatusCode::kResourceExhausted:
            return "resource_exhausted";
    }
    return "unknown";
}

std::string Status::ToString() const {
    if (ok()) return "ok";
    return std::string(StatusCodeName(code_)) + ": " + message_;
}

}  // namespace bursar
