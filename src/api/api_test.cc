#include <gtest/gtest.h>

#include "api/auth.h"
#include "api/json_input.h"

namespace bursar::api {
namespace {

TEST(JsonFields, AcceptsDeclaredFields) {
    auto fields = JsonFields::Parse(
        R"({"name":"A \"B\"","amount_minor":42})",
        {{"name", FieldKind::kString, true, 1, 10}, {"amount_minor", FieldKind::kAmount, true}});
    ASSERT_TRUE(fields);
    EXPECT_EQ(fields->String("name"), "A \"B\"");
    EXPECT_EQ(fields->Amount("amount_minor"), 42u);
}

TEST(JsonFields, RejectsWithTheField) {
    const std::initializer_list<FieldSpec> specs = {{"name", FieldKind::kString, true, 1, 5},
                                                    {"amount_minor", FieldKind::kAmount, false}};
    struct Case {
        const char* body;
        const char* param;
    };
    for (const Case& c :
         std::vector<Case>{{"{", ""},
                           {"[]", ""},
                           {R"({"name":"x","extra":1})", "extra"},
                           {R"({"name":7})", "name"},
                           {R"({"name":"toolong"})", "name"},
                           {R"({"name":""})", "name"},
                           {R"({})", "name"},
                           {R"({"name":"x","amount_minor":-5})", "amount_minor"},
                           {R"({"name":"x","amount_minor":0})", "amount_minor"},
                           {R"({"name":"x","amount_minor":1.5})", "amount_minor"},
                           {R"({"name":"x","amount_minor":"5"})", "amount_minor"},
                           {R"({"name":"x","amount_minor":1000000000000000001})", "amount_minor"},
                           {R"({"name":"x","amount_minor":99999999999999999999999})", ""},
                           {R"({"name":"x","name":"y"})", "name"}}) {
        auto fields = JsonFields::Parse(c.body, specs);
        ASSERT_FALSE(fields) << c.body;
        EXPECT_EQ(fields.error().code, payments::ErrorCode::kInvalidRequest);
        EXPECT_EQ(fields.error().param, c.param) << c.body;
    }
}

TEST(Auth, PasswordHashVerifies) {
    const std::string hash = HashPassword("correct horse");
    EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
    EXPECT_TRUE(VerifyPassword(hash, "correct horse"));
    EXPECT_FALSE(VerifyPassword(hash, "correct horsf"));
    EXPECT_NE(HashPassword("correct horse"), hash);  // salted
}

TEST(Auth, SecretsAreRandomAndPrefixed) {
    const std::string a = RandomSecret("sk_"), b = RandomSecret("sk_");
    EXPECT_EQ(a.size(), 3u + 64u);
    EXPECT_EQ(a.rfind("sk_", 0), 0u);
    EXPECT_NE(a, b);
}

}  // namespace
}  // namespace bursar::api
