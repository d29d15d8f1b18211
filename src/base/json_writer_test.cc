#include "base/json_writer.h"

#include <gtest/gtest.h>

namespace bursar {
namespace {

TEST(JsonWriterTest, WritesNestedObjectsAndArraysWithCommas) {
    JsonWriter json;
    json.BeginObject();
    json.Key("id").String("txn_1");
    json.Key("items").BeginArray();
    json.BeginObject().Key("n").Number(uint64_t{1}).EndObject();
    json.BeginObject().Key("n").Number(uint64_t{2}).EndObject();
    json.EndArray();
    json.Key("ok").Bool(true);
    json.Key("none").Null();
    json.EndObject();
    EXPECT_EQ(json.text(), R"({"id":"txn_1","items":[{"n":1},{"n":2}],"ok":true,"none":null})");
}

TEST(JsonWriterTest, WritesNumbersAcrossTheirRange) {
    JsonWriter json;
    json.BeginArray();
    json.Number(uint64_t{0});
    json.Number(UINT64_MAX);
    json.Number(u128{UINT64_MAX});
    json.Number(u128{UINT64_MAX} + 1);
    json.Number(~u128{0});
    json.EndArray();
    EXPECT_EQ(json.text(),
              "[0,18446744073709551615,18446744073709551615,18446744073709551616,"
              "340282366920938463463374607431768211455]");
}

TEST(JsonWriterTest, WritesSignedNumbers) {
    JsonWriter json;
    json.BeginArray().Signed(0).Signed(-5).Signed(INT64_MAX).Signed(INT64_MIN).EndArray();
    EXPECT_EQ(json.text(), "[0,-5,9223372036854775807,-9223372036854775808]");
}

TEST(JsonWriterTest, EscapesKeysAndStrings) {
    JsonWriter json;
    json.BeginObject();
    json.Key("a\"b").String("line\nbreak\\ and \x01");
    json.EndObject();
    EXPECT_EQ(json.text(), R"({"a\"b":"line\nbreak\\ and \u0001"})");
}

TEST(JsonWriterTest, TakeLeavesTheWrittenText) {
    JsonWriter json;
    json.BeginObject().Key("k").String(std::string(2000, 'x')).EndObject();
    const std::string text = json.Take();
    EXPECT_EQ(text.size(), 2000u + 8u);
    EXPECT_EQ(text.substr(0, 6), R"({"k":")");
}

}  // namespace
}  // namespace bursar
