#include "api/http.h"

#include <cstdint>

#include "base/json_writer.h"

namespace bursar::api {
namespace {

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++) {
        if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
    }
    return true;
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view name) const {
    for (const auto& [header_name, value] : headers) {
        if (EqualsIgnoringCase(header_name, name)) return &value;
    }
    return nullptr;
}

std::optional<std::string> HttpRequest::QueryParam(std::string_view name) const {
    std::string_view rest = query;
    while (!rest.empty()) {
        const size_t end = rest.find('&');
        const std::string_view pair = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        const size_t equals = pair.find('=');
        const std::optional<std::string> key =
            PercentDecode(pair.substr(0, equals), /*plus_is_space=*/true);
        if (!key || *key != name) continue;
        if (equals == std::string_view::npos) return std::string();
        std::optional<std::string> value =
            PercentDecode(pair.substr(equals + 1), /*plus_is_space=*/true);
        if (value) return value;
    }
    return std::nullopt;
}

std::string AsSentence(std::string_view message) {
    std::string sentence(message);
    if (sentence.empty()) return sentence;
    if (sentence[0] >= 'a' && sentence[0] <= 'z') sentence[0] = static_cast<char>(sentence[0] - 32);
    const char last = sentence.back();
    if (last != '.' && last != '?' && last != '!') sentence += '.';
    return sentence;
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message_text,
                           std::string_view param) {
    const std::string message = AsSentence(message_text);
    HttpResponse response;
    response.status = status;
    std::string& body = response.body;
    body.reserve(code.size() + message.size() + param.size() + 64);
    body += R"({"error":{"code":)";
    AppendJsonString(body, code);
    body += R"(,"message":)";
    AppendJsonString(body, message);
    body += R"(,"param":)";
    if (param.empty()) {
        body += "null";
    } else {
        AppendJsonString(body, param);
    }
    body += "}}";
    return response;
}

HttpResponse ErrorResponse(const HttpError& error, std::string_view message,
                           std::string_view param) {
    return ErrorResponse(error.status, error.code, message, param);
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
    std::string decoded;
    decoded.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        const char c = text[i];
        if (c == '%') {
            if (text.size() - i < 3) return std::nullopt;  // '%' and two hex digits
            const int high = HexValue(text[i + 1]);
            const int low = HexValue(text[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            decoded += static_cast<char>(high * 16 + low);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            decoded += ' ';
        } else {
            decoded += c;
        }
    }
    return decoded;
}

}  // namespace bursar::api
