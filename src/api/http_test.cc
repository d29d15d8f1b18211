#include "api/http.h"

#include <gtest/gtest.h>

namespace bursar::api {
namespace {

TEST(ErrorResponseTest, HasTheErrorShapeWithNullParam) {
    const HttpResponse response = ErrorResponse(kNotFound, "No route matches the path.");
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(
        response.body,
        R"({"error":{"code":"NOT_FOUND","message":"No route matches the path.","param":null}})");
}

TEST(ErrorResponseTest, EscapesMessageAndParam) {
    const HttpResponse response =
        ErrorResponse(400, "INVALID_AMOUNT", "Say \"hi\"\\\n\t\x01 café.", "amount\x1f");
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(response.body,
              "{\"error\":{\"code\":\"INVALID_AMOUNT\","
              "\"message\":\"Say \\\"hi\\\"\\\\\\n\\t\\u0001 café.\","
              "\"param\":\"amount\\u001f\"}}");
}

TEST(AppendJsonStringTest, ReplacesInvalidUtf8) {
    std::string out;
    // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, a valid emoji.
    AppendJsonString(out,
                     "a\x80"
                     "b\xE2\x82"
                     "c\xC0\xAF"
                     "d\xED\xA0\x80"
                     "e\xF0\x9F\x92\xB8");
    EXPECT_EQ(out,
              "\"a\xEF\xBF\xBD"
              "b\xEF\xBF\xBD\xEF\xBF\xBD"
              "c\xEF\xBF\xBD\xEF\xBF\xBD"
              "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
              "e\xF0\x9F\x92\xB8\"");
}

TEST(PercentDecodeTest, DecodesAndRejectsMalformedEscapes) {
    EXPECT_EQ(PercentDecode("a%20b%2Fc%2f", false), "a b/c/");
    EXPECT_EQ(PercentDecode("a+b", false), "a+b");
    EXPECT_EQ(PercentDecode("a+b", true), "a b");
    EXPECT_EQ(PercentDecode("", true), "");
    EXPECT_EQ(PercentDecode("%", true), std::nullopt);
    EXPECT_EQ(PercentDecode("%4", true), std::nullopt);
    EXPECT_EQ(PercentDecode("%zz", true), std::nullopt);
}

TEST(HttpRequestTest, QueryParamDecodes) {
    HttpRequest request;
    request.query = "name=J%C3%BCrgen+M&empty=&flag&bad=%zz&amount=10%2C5&name=second";
    EXPECT_EQ(request.QueryParam("name"), "Jürgen M");
    EXPECT_EQ(request.QueryParam("empty"), "");
    EXPECT_EQ(request.QueryParam("flag"), "");
    EXPECT_EQ(request.QueryParam("bad"), std::nullopt);
    EXPECT_EQ(request.QueryParam("amount"), "10,5");
    EXPECT_EQ(request.QueryParam("missing"), std::nullopt);
}

TEST(HttpRequestTest, HeaderIgnoresCase) {
    HttpRequest request;
    request.headers = {{"content-type", "text/plain"}, {"x-a", "1"}, {"x-a", "2"}};
    ASSERT_NE(request.Header("Content-Type"), nullptr);
    EXPECT_EQ(*request.Header("Content-Type"), "text/plain");
    EXPECT_EQ(*request.Header("X-A"), "1");
    EXPECT_EQ(request.Header("x-b"), nullptr);
}

}  // namespace
}  // namespace bursar::api
