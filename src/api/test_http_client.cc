#include "api/test_http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace bursar::api {
namespace {

std::string Lowercase(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return lower;
}

std::string_view Trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

Status ErrnoStatus(const std::string& what) {
    return Status(StatusCode::kIoError, what + ": " + std::strerror(errno));
}

}  // namespace

const std::string* HttpResult::Header(std::string_view name) const {
    const std::string lower = Lowercase(name);
    for (const auto& [header_name, value] : headers) {
        if (header_name == lower) return &value;
    }
    return nullptr;
}

uint64_t TestNowMs() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

std::string TestLowercase(std::string_view text) { return Lowercase(text); }

Result<int> TestConnect(const std::string& host, uint16_t port, int receive_buffer_bytes) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    const std::string port_text = std::to_string(port);
    const int resolved = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &addresses);
    if (resolved != 0) {
        return Error(StatusCode::kIoError,
                     "resolve " + host + ": " + std::string(::gai_strerror(resolved)));
    }
    Status status(StatusCode::kIoError, "no address for " + host);
    int connected = -1;
    for (addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
        const int fd =
            ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
        if (fd < 0) {
            status = ErrnoStatus("socket");
            continue;
        }
        if (receive_buffer_bytes > 0) {
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes,
                         sizeof(receive_buffer_bytes));
        }
        if (::connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
            status = ErrnoStatus("connect " + host + ":" + port_text);
            ::close(fd);
            continue;
        }
        const int enable = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &enable, sizeof(enable));
        connected = fd;
        break;
    }
    ::freeaddrinfo(addresses);
    if (connected < 0) return Error(status);
    return connected;
}

Status TestSendAll(int fd, std::string_view bytes, uint64_t deadline_ms) {
    while (!bytes.empty()) {
        pollfd poll_fd{.fd = fd, .events = POLLOUT};
        const uint64_t now_ms = TestNowMs();
        if (now_ms >= deadline_ms) return Status(StatusCode::kIoError, "send timed out");
        const int ready = ::poll(&poll_fd, 1, static_cast<int>(deadline_ms - now_ms));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return ErrnoStatus("poll");
        if (ready == 0) return Status(StatusCode::kIoError, "send timed out");
        const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (sent < 0) return ErrnoStatus("send");
        bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return Status::Ok();
}

Status TestReadMore(int fd, std::string* pending, uint64_t deadline_ms) {
    char chunk[TestHttpClient::kReadChunkBytes];
    while (true) {
        pollfd poll_fd{.fd = fd, .events = POLLIN};
        const uint64_t now_ms = TestNowMs();
        if (now_ms >= deadline_ms)
            return Status(StatusCode::kIoError, std::string(kTestReadTimedOut));
        const int ready = ::poll(&poll_fd, 1, static_cast<int>(deadline_ms - now_ms));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return ErrnoStatus("poll");
        if (ready == 0) return Status(StatusCode::kIoError, std::string(kTestReadTimedOut));
        const ssize_t received = ::recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (received < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (received < 0 && errno == ECONNRESET) {
            return Status(StatusCode::kNotFound, "end of stream: connection reset");
        }
        if (received < 0) return ErrnoStatus("recv");
        if (received == 0) return Status(StatusCode::kNotFound, "end of stream");
        pending->append(chunk, static_cast<size_t>(received));
        return Status::Ok();
    }
}

Status TestReadHead(int fd, std::string* pending, uint64_t deadline_ms, size_t head_bytes_max,
                    HttpResult* result) {
    size_t header_end = pending->find("\r\n\r\n");
    while (header_end == std::string::npos) {
        if (pending->size() > head_bytes_max) {
            return Status(StatusCode::kCorruption, "response head too large");
        }
        BURSAR_RETURN_IF_ERROR(TestReadMore(fd, pending, deadline_ms));
        header_end = pending->find("\r\n\r\n");
    }
    const std::string head = pending->substr(0, header_end);
    pending->erase(0, header_end + 4);
    size_t line_end = head.find("\r\n");
    const std::string_view status_line = std::string_view(head).substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
        return Status(StatusCode::kCorruption, "bad status line: " + std::string(status_line));
    }
    result->status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    while (line_end != std::string::npos) {
        const size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        const std::string_view line = std::string_view(head).substr(start, line_end - start);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        result->headers.emplace_back(Lowercase(Trim(line.substr(0, colon))),
                                     std::string(Trim(line.substr(colon + 1))));
    }
    return Status::Ok();
}

TestHttpClient::TestHttpClient(std::string host, uint16_t port, uint32_t timeout_ms)
    : host_(std::move(host)), port_(port), timeout_ms_(timeout_ms) {}

TestHttpClient::~TestHttpClient() { Close(); }

void TestHttpClient::Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    send_failed_ = false;
    pending_.clear();
}

Status TestHttpClient::Connect() {
    Close();
    auto fd = TestConnect(host_, port_);
    if (!fd) return fd.error();
    fd_ = *fd;
    return Status::Ok();
}

Status TestHttpClient::SendRaw(std::string_view bytes) {
    if (fd_ < 0) BURSAR_RETURN_IF_ERROR(Connect());
    Status status = TestSendAll(fd_, bytes, TestNowMs() + timeout_ms_);
    if (!status.ok()) send_failed_ = true;
    return status;
}

Result<HttpResult> TestHttpClient::ReadResponse() {
    if (fd_ < 0) return Error(StatusCode::kInvalidArgument, "not connected");
    const uint64_t deadline_ms = TestNowMs() + timeout_ms_;
    HttpResult result;
    Status head = TestReadHead(fd_, &pending_, deadline_ms, kResponseHeaderBytesMax, &result);
    if (!head.ok()) {
        Close();
        return Error(head);
    }
    if (result.status >= 100 && result.status < 200) return result;  // interim: no body

    if (result.Header("transfer-encoding") != nullptr) {
        Close();
        return Error(StatusCode::kUnsupported, "chunked responses are not supported");
    }
    const std::string* length_header = result.Header("content-length");
    if (length_header == nullptr) {  // the body ends with the connection
        while (true) {
            if (pending_.size() > kResponseBodyBytesMax) {
                Close();
                return Error(StatusCode::kCorruption, "response body too large");
            }
            Status status = TestReadMore(fd_, &pending_, deadline_ms);
            if (status.code() == StatusCode::kNotFound) break;
            if (!status.ok()) {
                Close();
                return Error(status);
            }
        }
        result.body = std::move(pending_);
        Close();
        return result;
    }
    const uint64_t length = std::strtoull(length_header->c_str(), nullptr, 10);
    if (length > kResponseBodyBytesMax) {
        Close();
        return Error(StatusCode::kCorruption, "response body too large");
    }
    while (pending_.size() < length) {
        Status status = TestReadMore(fd_, &pending_, deadline_ms);
        if (!status.ok()) {
            Close();
            return Error(status);
        }
    }
    result.body = pending_.substr(0, length);
    pending_.erase(0, length);
    const std::string* connection = result.Header("connection");
    if ((connection != nullptr && Lowercase(*connection) == "close") || send_failed_) Close();
    return result;
}

Result<HttpResult> TestHttpClient::Send(std::string_view method, std::string_view path,
                                        const HttpHeaders& headers, std::string_view body) {
    std::string request;
    request.reserve(256 + body.size());
    request.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
    request.append("Host: ").append(host_).append(":").append(std::to_string(port_));
    request.append("\r\n");
    for (const auto& [name, value] : headers) {
        request.append(name).append(": ").append(value).append("\r\n");
    }
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    request.append("\r\n").append(body);
    // A failed send is not the end: the server may have answered (e.g. 413) before closing.
    Status sent = SendRaw(request);
    if (fd_ < 0) return Error(sent);
    Result<HttpResult> result = ReadResponse();
    while (result && result->status < 200 && connected()) result = ReadResponse();  // 100 Continue
    if (!result && !sent.ok()) return Error(sent);
    return result;
}

bool TestHttpClient::WaitForServerClose() {
    if (fd_ < 0) return true;
    const uint64_t deadline_ms = TestNowMs() + timeout_ms_;
    while (true) {
        Status status = TestReadMore(fd_, &pending_, deadline_ms);
        if (status.code() == StatusCode::kNotFound) {
            Close();
            return true;
        }
        if (!status.ok()) return false;
    }
}

}  // namespace bursar::api
