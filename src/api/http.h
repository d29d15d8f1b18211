#pragma once

// The plain types of the HTTP layer: a request as a handler sees it, the response it gives back,
// and the error body every answer of the API uses. No Boost here: many files include this one.
//
// Threads: a Handler runs on one of the server's io threads; its Responder may be called later
// from any thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json_writer.h"

namespace bursar::api {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method;   // as received, e.g. "GET"
    std::string target;   // as received: path and query, e.g. "/v1/users/7?expand=wallet"
    std::string path;     // target up to '?', not percent-decoded
    std::string query;    // target after '?', not percent-decoded; empty when there is none
    HttpHeaders headers;  // names lowercased, in the order received
    std::string body;
    std::string remote_address;  // the peer's IP address, without the port
    std::string request_id;      // the client's valid X-Request-Id, or one the server made

    // The first header with this name (any case), or null.
    const std::string* Header(std::string_view name) const;
    // The first query parameter with this name, percent-decoded ('+' is a space); a parameter
    // without '=' has an empty value. Parameters with malformed percent-encoding are skipped.
    std::optional<std::string> QueryParam(std::string_view name) const;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";  // no Content-Type header when empty
    // Extra headers. The server owns Content-Length, Transfer-Encoding, Connection and
    // X-Request-Id: handler values for those are ignored.
    HttpHeaders headers;
    std::string body;
};

// Answers one request. Call it once, from any thread, at any time: after the handler returned,
// after the request timed out, after the connection closed, even after the server stopped (late
// answers are dropped). Later calls are ignored. Destroying every copy without calling it answers
// 500 INTERNAL_ERROR at once.
using Responder = std::function<void(HttpResponse)>;

// Called on an io thread, concurrently for different requests: it must be thread-safe and must
// not block; slow work goes elsewhere and answers through the Responder.
using Handler = std::function<void(HttpRequest&&, Responder)>;

// The errors the HTTP layer itself answers with. Codes are part of the API: never renamed or
// reused.
struct HttpError {
    int status;
    std::string_view code;
};
inline constexpr HttpError kInvalidRequest{400, "INVALID_REQUEST"};  // malformed HTTP
inline constexpr HttpError kNotFound{404, "NOT_FOUND"};              // no route for the path
inline constexpr HttpError kMethodNotAllowed{405, "METHOD_NOT_ALLOWED"};
inline constexpr HttpError kRequestTimeout{408, "REQUEST_TIMEOUT"};  // request not received in time
inline constexpr HttpError kPayloadTooLarge{413, "PAYLOAD_TOO_LARGE"};
inline constexpr HttpError kHeadersTooLarge{431, "HEADERS_TOO_LARGE"};
inline constexpr HttpError kInternalError{500, "INTERNAL_ERROR"};  // a handler failed
inline constexpr HttpError kServerBusy{503, "SERVER_BUSY"};        // over connections_max
inline constexpr HttpError kHandlerTimeout{504, "HANDLER_TIMEOUT"};

// {"error":{"code":"...","message":"...","param":"..."}}, with "param":null when `param` is
// empty. Every message is a sentence (AsSentence): one style for the server's and the API's.
// `message` with a capital first letter and a full stop: "no route" -> "No route.".
std::string AsSentence(std::string_view message);
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message,
                           std::string_view param = {});
HttpResponse ErrorResponse(const HttpError& error, std::string_view message,
                           std::string_view param = {});

// Decodes %XX escapes (and '+' as a space when `plus_is_space`); nullopt when an escape is
// malformed.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace bursar::api
