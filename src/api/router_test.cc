#include "api/router.h"

#include <gtest/gtest.h>

#include <optional>

namespace bursar::api {
namespace {

HttpRequest Request(std::string method, std::string path) {
    HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.target = request.path;
    return request;
}

// Dispatches and returns the answer, given synchronously by every handler here.
HttpResponse Dispatch(const Router& router, std::string method, std::string path) {
    std::optional<HttpResponse> answer;
    router.Dispatch(Request(std::move(method), std::move(path)),
                    [&](HttpResponse response) { answer = std::move(response); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(HttpResponse{});
}

RouteHandler Answer(std::string name) {
    return [name](HttpRequest&&, const PathParams& params, Responder responder) {
        std::string body = name;
        for (const std::string_view key : {"id", "wallet"}) {
            if (const std::string* value = params.Find(key)) {
                body += " " + std::string(key) + "=" + *value;
            }
        }
        responder(HttpResponse{.body = body});
    };
}

class RouterTest : public ::testing::Test {
  protected:
    RouterTest() {
        router_.Add("GET", "/v1/users/{id}", Answer("get-user"));
        router_.Add("DELETE", "/v1/users/{id}", Answer("delete-user"));
        router_.Add("GET", "/v1/users/me", Answer("get-me"));
        router_.Add("GET", "/v1/users/{id}/wallets/{wallet}", Answer("get-wallet"));
        router_.Add("POST", "/v1/users", Answer("create-user"));
        router_.Add("GET", "/", Answer("root"));
    }
    Router router_;
};

TEST_F(RouterTest, MatchesLiteralsAndParameters) {
    EXPECT_EQ(Dispatch(router_, "GET", "/v1/users/42").body, "get-user id=42");
    EXPECT_EQ(Dispatch(router_, "DELETE", "/v1/users/42").body, "delete-user id=42");
    EXPECT_EQ(Dispatch(router_, "GET", "/v1/users/7/wallets/w%2F1").body,
              "get-wallet id=7 wallet=w/1");
    EXPECT_EQ(Dispatch(router_, "POST", "/v1/users").body, "create-user");
    EXPECT_EQ(Dispatch(router_, "GET", "/").body, "root");
}

TEST_F(RouterTest, LiteralSegmentWinsOverParameter) {
    EXPECT_EQ(Dispatch(router_, "GET", "/v1/users/me").body, "get-me");
    // Only the parameter route has DELETE.
    EXPECT_EQ(Dispatch(router_, "DELETE", "/v1/users/me").body, "delete-user id=me");
}

TEST_F(RouterTest, UnknownPathIs404) {
    for (const char* path : {"/v1/user/42", "/v1/users/42/extra", "/v1/users/", "/v2", "/v1//"}) {
        const HttpResponse response = Dispatch(router_, "GET", path);
        EXPECT_EQ(response.status, 404) << path;
        EXPECT_EQ(response.body, ErrorResponse(kNotFound, "No route matches the path.").body);
    }
    std::string deep;
    for (size_t i = 0; i <= Router::kPathSegmentsMax; i++) deep += "/a";
    EXPECT_EQ(Dispatch(router_, "GET", deep).status, 404);
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
    HttpResponse response = Dispatch(router_, "PUT", "/v1/users/42");
    EXPECT_EQ(response.status, 405);
    ASSERT_EQ(response.headers.size(), 1u);
    EXPECT_EQ(response.headers[0].first, "Allow");
    EXPECT_EQ(response.headers[0].second, "DELETE, GET");
    EXPECT_NE(response.body.find("\"METHOD_NOT_ALLOWED\""), std::string::npos);

    response = Dispatch(router_, "GET", "/v1/users");
    EXPECT_EQ(response.status, 405);
    EXPECT_EQ(response.headers[0].second, "POST");
}

TEST_F(RouterTest, MalformedEscapeInPathIs400) {
    EXPECT_EQ(Dispatch(router_, "GET", "/v1/users/%zz").status, 400);
}

TEST_F(RouterTest, RoutesListsEveryRouteInOrder) {
    const std::vector<RouteInfo> routes = router_.Routes();
    ASSERT_EQ(routes.size(), 6u);
    EXPECT_EQ(routes[0].method, "GET");
    EXPECT_EQ(routes[0].pattern, "/v1/users/{id}");
    EXPECT_EQ(routes[4].method, "POST");
    EXPECT_EQ(routes[4].pattern, "/v1/users");
}

}  // namespace
}  // namespace bursar::api
