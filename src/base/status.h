#pragma once

// Expected failures are values. Status carries a subsystem-neutral code and a message meant for
// an operator (file names, offsets); Result<T> is a value or a Status.

#include <expected>
#include <string>
#include <utility>

namespace bursar {

enum class StatusCode : int {
    kOk = 0,
    kIoError = 1,     // a read, write, fsync, rename or directory operation failed
    kCorruption = 2,  // bytes on disk are not what was written (checksum, chain, framing)
    kNotFound = 3,    // a file or object does not exist
    kInvalidArgument = 4,
    kBusy = 5,         // a bounded queue is full; retry later
    kStopped = 6,      // the component is stopped or failed (fail-stop)
    kUnsupported = 7,  // a format version this build does not read
    kResourceExhausted =
        8,  // a named bound of memory or storage is reached; retrying will not help
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status Ok() { return Status(); }
    bool ok() const { return code_ == StatusCode::kOk; }
    StatusCode code() const { return code_; }
    const std::string& message() const { return message_; }
    std::string ToString() const;

  private:
    StatusCode code_ = StatusCode::kOk;
    std::string message_;
};

template <typename T>
using Result = std::expected<T, Status>;

inline std::unexpected<Status> Error(StatusCode code, std::string message) {
    return std::unexpected<Status>(Status(code, std::move(message)));
}
inline std::unexpected<Status> Error(Status status) {
    return std::unexpected<Status>(std::move(status));
}

// Converts to Status or to any Result<T>, so one macro serves functions returning either.
struct PropagatedError {
    Status status;
    operator Status() const { return status; }  // NOLINT(google-explicit-constructor)
    template <typename T>
    operator Result<T>() const {  // NOLINT(google-explicit-constructor)
        return std::unexpected<Status>(status);
    }
};

}  // namespace bursar

#define BURSAR_RETURN_IF_ERROR(expression)                            \
    do {                                                              \
        ::bursar::Status status_ = (expression);                      \
        if (!status_.ok()) return ::bursar::PropagatedError{status_}; \
    } while (0)
