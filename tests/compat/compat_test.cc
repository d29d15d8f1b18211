// Nothing is lost on upgrade: the data directories that earlier binaries wrote (tests/compat/v1 by
// the journal-v1 binary cd46059; tests/compat/v2 by the journal-v2 binary a58a017, merchants
// section 2 and a refund; see make_v1_fixture.py) open with this binary, replay, pass
// `bursar verify`, keep every balance, and answer every stored Idempotency-Key as they did.
//
// The fixture's stored answers are kept 24 hours from when they were written, by the state
// machine's clock: the engine here runs on a manual clock set just after the fixture's last
// record, so the test means the same on any day.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <future>
#include <map>
#include <set>

#include "api/platform_api.h"
#include "api/router.h"
#include "base/clock.h"
#include "base/file_system.h"
#include "engine/engine.h"
#include "ledger/currency.h"
#include "payments/accounts.h"
#include "process.h"
#include "projection/projector.h"

namespace bursar {
namespace {

namespace fs = std::filesystem;

std::string FixtureDir(const std::string& fixture) {
    return std::string(BURSAR_SOURCE_DIR) + "/tests/compat/" + fixture;
}

std::string CopyFixture(const std::string& fixture, const std::string& name) {
    const fs::path target = fs::temp_directory_path() / ("bursar-compat-" + fixture + "-" + name);
    fs::remove_all(target);
    fs::copy(FixtureDir(fixture) + "/data", target, fs::copy_options::recursive);
    return target.string();
}

std::string ReadFile(const std::string& path) {
    std::string out;
    FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) return out;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) out.append(buffer, n);
    std::fclose(file);
    return out;
}

// The state hash `bursar verify DIR` prints, or the whole output when it fails.
std::string Verify(const std::string& dir) {
    std::string output;
    const int code = testing::RunCommand({BURSAR_BINARY, "verify", dir}, &output);
    const size_t at = output.find("state hash: ");
    if (code != 0 || at == std::string::npos) return "FAILED: " + output;
    return output.substr(at + 12, 64);
}

struct Keyed {
    std::string key, token, method, path, body, response;
    int status = 0;
};

class CompatTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        simdjson::padded_string text(ReadFile(FixtureDir(GetParam()) + "/manifest.json"));
        ASSERT_EQ(parser_.parse(text).get(manifest_), simdjson::SUCCESS);
        simdjson::dom::array keyed;
        ASSERT_EQ(manifest_["keyed"].get_array().get(keyed), simdjson::SUCCESS);
        for (simdjson::dom::element entry : keyed) {
            Keyed k;
            std::string_view view;
            ASSERT_EQ(entry["key"].get_string().get(view), simdjson::SUCCESS);
            k.key = view;
            if (entry["token"].get_string().get(view) == simdjson::SUCCESS) k.token = view;
            ASSERT_EQ(entry["method"].get_string().get(view), simdjson::SUCCESS);
            k.method = view;
            ASSERT_EQ(entry["path"].get_string().get(view), simdjson::SUCCESS);
            k.path = view;
            ASSERT_EQ(entry["body"].get_string().get(view), simdjson::SUCCESS);
            k.body = view;
            ASSERT_EQ(entry["response"].get_string().get(view), simdjson::SUCCESS);
            k.response = view;
            int64_t status = 0;
            ASSERT_EQ(entry["status"].get_int64().get(status), simdjson::SUCCESS);
            k.status = static_cast<int>(status);
            keyed_.push_back(k);
        }
        ASSERT_GT(keyed_.size(), 20u);
    }

    simdjson::dom::parser parser_;
    simdjson::dom::element manifest_;
    std::vector<Keyed> keyed_;
};

TEST_P(CompatTest, VerifyReplaysTheJournalAndChecksItsSnapshot) {
    const std::string dir = CopyFixture(GetParam(), "verify");
    const std::string hash = Verify(dir);
    ASSERT_EQ(hash.find("FAILED"), std::string::npos) << hash;
    std::string output;
    ASSERT_EQ(testing::RunCommand({BURSAR_BINARY, "verify", dir}, &output), 0);
    EXPECT_NE(output.find("snapshots checked: 1"), std::string::npos) << output;
    // No session token or API key of the fixture's is printed by a journal dump.
    ASSERT_EQ(testing::RunCommand({BURSAR_BINARY, "journal", "dump", dir, "--events"}, &output), 0);
    EXPECT_EQ(output.find("ses_"), std::string::npos);
    EXPECT_EQ(output.find("sk_"), std::string::npos);
    fs::remove_all(dir);
}

TEST_P(CompatTest, OpensWithEveryBalanceAndAnswersEveryStoredKeyAsBefore) {
    const std::string dir = CopyFixture(GetParam(), "open");
    const std::string hash_before = Verify(dir);
    ASSERT_EQ(hash_before.find("FAILED"), std::string::npos) << hash_before;

    ManualClock clock(1);
    engine::EngineOptions options;
    options.data_dir = dir;
    auto opened = engine::Engine::Open(PosixFileSystem(), clock, options);
    ASSERT_TRUE(opened) << opened.error().ToString();
    engine::Engine& engine = **opened;
    // A minute after the fixture's last record: every stored answer is within its 24 hours.
    clock.Set(engine.state().last_timestamp() + 60ull * 1'000'000'000);
    EXPECT_EQ(HashToHex(engine.platform().StateHash()), hash_before);
    engine.Start();

    // Every wallet as the old binary showed it.
    simdjson::dom::object wallets;
    ASSERT_EQ(manifest_["wallets"].get_object().get(wallets), simdjson::SUCCESS);
    size_t checked = 0, listed = 0;
    for (auto [user, balances] : wallets) {
        listed += simdjson::dom::array(balances.get_array()).size();
        const uint64_t user_id = *payments::ParseUserId(user);
        for (simdjson::dom::element balance : balances.get_array()) {
            std::string_view code;
            int64_t minor = 0;
            ASSERT_EQ(balance["currency"].get_string().get(code), simdjson::SUCCESS);
            ASSERT_EQ(balance["balance_minor"].get_int64().get(minor), simdjson::SUCCESS);
            const uint32_t currency = ledger::FindCurrencyByCode(code)->id;
            const ledger::Account* account =
                engine.state().FindAccount(payments::WalletAccountId(user_id, currency));
            ASSERT_NE(account, nullptr) << user << " " << code;
            EXPECT_EQ(account->credits_posted - account->debits_posted, static_cast<u128>(minor))
                << user << " " << code;
            ++checked;
        }
    }
    EXPECT_EQ(checked, listed);
    EXPECT_GE(checked, 5u);

    // Every stored key, sent again through the API exactly as the client sent it then.
    projection::Projector projector(PosixFileSystem(), engine, dir, nullptr);
    api::WorkerPool workers(1);
    api::PlatformApiOptions api_options;
    api_options.admin_token = ReadFile(dir + "/admin-token");
    while (!api_options.admin_token.empty() && api_options.admin_token.back() == '\n') {
        api_options.admin_token.pop_back();
    }
    api_options.data_dir = dir;
    api::PlatformApi platform_api(engine, clock, workers, projector, api_options);
    api::Router router;
    platform_api.AddRoutes(router);
    const api::Handler handler = router.AsHandler();
    const std::string admin_token = api_options.admin_token;
    // Carol logged out at the end of the fixture's session: her token answers 401, as it did.
    std::set<std::string> revoked;
    for (const Keyed& k : keyed_) {
        if (k.token.empty()) continue;
        engine::Request query;
        query.operation = engine::Operation::kQuery;
        bool valid = false;
        query.query = [&](const payments::Platform& p) {
            valid = p.Authenticate(platform_api.PrincipalOfToken(k.token), clock.RealtimeNs())
                        .has_value();
        };
        ASSERT_TRUE(engine::SubmitAndWait(engine, query).ok());
        if (!valid) revoked.insert(k.token);
    }
    EXPECT_EQ(revoked.size(), 1u);
    for (const Keyed& k : keyed_) {
        SCOPED_TRACE(k.key);
        api::HttpRequest request;
        request.method = k.method;
        request.target = request.path = k.path;
        request.body = k.body;
        request.headers.emplace_back("idempotency-key", k.key);
        // The admin's requests were made with the admin token; a user's with their session.
        const bool by_admin = k.token.empty() && (k.path == "/v1/merchants" ||
                                                  k.path.find("/wallets/") != std::string::npos ||
                                                  k.path.find("/refunds") != std::string::npos);
        const std::string token = by_admin ? admin_token : k.token;
        if (!token.empty()) request.headers.emplace_back("authorization", "Bearer " + token);
        std::promise<api::HttpResponse> answered;
        handler(std::move(request), [&](api::HttpResponse r) { answered.set_value(std::move(r)); });
        api::HttpResponse response = answered.get_future().get();
        if (revoked.contains(k.token)) {
            EXPECT_EQ(response.status, 401);
            continue;
        }
        EXPECT_EQ(response.status, k.status);
        // As before, but for a new API key or session token: not kept, so not shown again
        // (docs/formats/compatibility.md).
        EXPECT_EQ(response.body, payments::WithoutSecrets(k.response));
        bool replayed = false;
        for (const auto& [name, value] : response.headers) {
            replayed = replayed || (name == "Idempotent-Replayed" && value == "true");
        }
        EXPECT_TRUE(replayed);
    }
    workers.Stop();
    engine.Stop();
    // Nothing moved: every balance is as before, and a restart and verify agree.
    const Hash256 after = engine.platform().StateHash();
    opened->reset();
    const std::string verified = Verify(dir);
    EXPECT_EQ(verified, HashToHex(after));
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CompatTest, ::testing::Values("v1", "v2"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

}  // namespace
}  // namespace bursar
