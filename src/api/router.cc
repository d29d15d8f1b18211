#include "api/router.h"

#include <algorithm>

#include "base/assert.h"

namespace bursar::api {
namespace {

// Splits what follows the leading '/' at every '/': "/" is one empty segment, "/a//b" three.
std::vector<std::string_view> SplitPath(std::string_view path, size_t segments_max) {
    BURSAR_ASSERT(!path.empty() && path[0] == '/');
    std::vector<std::string_view> segments;
    std::string_view rest = path.substr(1);
    while (segments.size() <= segments_max) {
        const size_t slash = rest.find('/');
        segments.push_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    return segments;
}

bool IsToken(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !digit && c != '_' && c != '-') return false;
    }
    return true;
}

}  // namespace

std::string_view PathParams::Get(std::string_view name) const {
    const std::string* value = Find(name);
    BURSAR_ASSERT(value != nullptr);
    return *value;
}

const std::string* PathParams::Find(std::string_view name) const {
    for (const auto& [param_name, value] : values_) {
        if (param_name == name) return &value;
    }
    return nullptr;
}

void Router::Add(std::string method, std::string pattern, RouteHandler handler) {
    BURSAR_ASSERT(routes_.size() < kRoutesMax);
    BURSAR_ASSERT(IsToken(method));
    BURSAR_ASSERT(handler != nullptr);
    BURSAR_ASSERT(!pattern.empty() && pattern[0] == '/');
    Route route;
    for (const std::string_view text : SplitPath(pattern, kPathSegmentsMax)) {
        Segment segment;
        if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
            segment.text = std::string(text.substr(1, text.size() - 2));
            segment.is_parameter = true;
            BURSAR_ASSERT(IsToken(segment.text));
            for (const Segment& other : route.segments) {
                BURSAR_ASSERT(!other.is_parameter || other.text != segment.text);
            }
        } else {
            BURSAR_ASSERT(text.find_first_of("{}%?") == std::string_view::npos);
            segment.text = std::string(text);
        }
        route.segments.push_back(std::move(segment));
    }
    BURSAR_ASSERT(route.segments.size() <= kPathSegmentsMax);
    for (const Route& other : routes_) {
        BURSAR_ASSERT(other.method != method || other.pattern != pattern);
    }
    route.method = std::move(method);
    route.pattern = std::move(pattern);
    route.handler = std::move(handler);
    routes_.push_back(std::move(route));
}

bool Router::Matches(const Route& route, const std::vector<std::string>& segments) {
    if (route.segments.size() != segments.size()) return false;
    for (size_t i = 0; i < segments.size(); i++) {
        const Segment& segment = route.segments[i];
        if (segment.is_parameter ? segments[i].empty() : segment.text != segments[i]) return false;
    }
    return true;
}

bool Router::MoreSpecific(const Route& a, const Route& b) {
    BURSAR_DASSERT(a.segments.size() == b.segments.size());
    for (size_t i = 0; i < a.segments.size(); i++) {
        if (a.segments[i].is_parameter != b.segments[i].is_parameter) {
            return !a.segments[i].is_parameter;
        }
    }
    return false;
}

void Router::Dispatch(HttpRequest&& request, Responder responder) const {
    if (request.path.empty() || request.path[0] != '/') {
        responder(ErrorResponse(kNotFound, "No route matches the path."));
        return;
    }
    const std::vector<std::string_view> raw_segments = SplitPath(request.path, kPathSegmentsMax);
    if (raw_segments.size() > kPathSegmentsMax) {
        responder(ErrorResponse(kNotFound, "No route matches the path."));
        return;
    }
    std::vector<std::string> segments;
    segments.reserve(raw_segments.size());
    for (const std::string_view raw : raw_segments) {
        std::optional<std::string> decoded = PercentDecode(raw, /*plus_is_space=*/false);
        if (!decoded) {
            responder(ErrorResponse(kInvalidRequest, "the path has a malformed percent-escape"));
            return;
        }
        segments.push_back(std::move(*decoded));
    }

    const Route* best = nullptr;
    std::vector<std::string_view> allowed_methods;
    for (const Route& route : routes_) {
        if (!Matches(route, segments)) continue;
        allowed_methods.push_back(route.method);
        if (route.method != request.method) continue;
        if (best == nullptr || MoreSpecific(route, *best)) best = &route;
    }
    if (best == nullptr) {
        if (allowed_methods.empty()) {
            responder(ErrorResponse(kNotFound, "No route matches the path."));
            return;
        }
        std::sort(allowed_methods.begin(), allowed_methods.end());
        allowed_methods.erase(std::unique(allowed_methods.begin(), allowed_methods.end()),
                              allowed_methods.end());
        std::string allow;
        for (const std::string_view method : allowed_methods) {
            if (!allow.empty()) allow += ", ";
            allow += method;
        }
        HttpResponse response =
            ErrorResponse(kMethodNotAllowed, "The path does not accept this method.");
        response.headers.emplace_back("Allow", std::move(allow));
        responder(std::move(response));
        return;
    }

    PathParams params;
    for (size_t i = 0; i < segments.size(); i++) {
        if (best->segments[i].is_parameter) {
            params.values_.emplace_back(best->segments[i].text, std::move(segments[i]));
        }
    }
    best->handler(std::move(request), params, std::move(responder));
}

std::vector<RouteInfo> Router::Routes() const {
    std::vector<RouteInfo> routes;
    routes.reserve(routes_.size());
    for (const Route& route : routes_) routes.push_back({route.method, route.pattern});
    return routes;
}

Handler Router::AsHandler() const {
    return [this](HttpRequest&& request, Responder responder) {
        Dispatch(std::move(request), std::move(responder));
    };
}

}  // namespace bursar::api
