#pragma once

// Routes a request to a handler by method and path pattern. Patterns are '/'-separated segments,
// each either literal or `{name}`, which matches one non-empty segment: `/v1/users/{id}/wallet`.
// When several patterns match, the one with a literal segment where the others have a parameter
// wins, earliest segment first. An unknown path gets 404 NOT_FOUND; a known path without the
// method gets 405 METHOD_NOT_ALLOWED with an Allow header.
//
// Threads: Add() only before serving; Dispatch() from any thread concurrently.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http.h"

namespace bursar::api {

// The values of a matched pattern's `{name}` segments, percent-decoded.
class PathParams {
  public:
    // The value of the segment named `name`, which must be in the route's pattern.
    std::string_view Get(std::string_view name) const;
    // The value, or null when the pattern has no such segment.
    const std::string* Find(std::string_view name) const;
    size_t size() const { return values_.size(); }

  private:
    friend class Router;
    std::vector<std::pair<std::string, std::string>> values_;
};

using RouteHandler = std::function<void(HttpRequest&&, const PathParams&, Responder)>;

struct RouteInfo {
    std::string method;
    std::string pattern;
};

class Router {
  public:
    static constexpr size_t kRoutesMax = 1024;
    // Paths with more segments than this match no route: no pattern is that long.
    static constexpr size_t kPathSegmentsMax = 32;

    // A malformed pattern or a repeated (method, pattern) pair is a programming error: asserted.
    void Add(std::string method, std::string pattern, RouteHandler handler);
    void Dispatch(HttpRequest&& request, Responder responder) const;
    // In the order added, e.g. to check that an API description covers every route.
    std::vector<RouteInfo> Routes() const;
    // A Handler for HttpServer that dispatches to this router, which must outlive the server.
    Handler AsHandler() const;

  private:
    struct Segment {
        std::string text;  // the literal, or the parameter's name
        bool is_parameter = false;
    };
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<Segment> segments;
        RouteHandler handler;
    };

    static bool Matches(const Route& route, const std::vector<std::string>& segments);
    // True when `a` has a literal segment where `b` has a parameter, before the reverse happens.
    static bool MoreSpecific(const Route& a, const Route& b);

    std::vector<Route> routes_;
};

}  // namespace bursar::api
