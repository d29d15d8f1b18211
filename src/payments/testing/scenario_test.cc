// Runs every scenario file under src/payments/*/scenarios/ (docs/testing.md), one test each.

#include "payments/testing/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "payments/result_codes.h"

namespace bursar::payments::testing {
namespace {

std::vector<std::string> ScenarioFiles() {
    std::vector<std::string> files;
    const std::filesystem::path root = std::string(BURSAR_SOURCE_DIR) + "/src/payments";
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.path().extension() == ".test" &&
            entry.path().parent_path().filename() == "scenarios") {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, Passes) { RunScenarioFile(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Files, Scenario, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             // <module>_<file>, letters, digits and underscores only.
                             const std::filesystem::path path(info.param);
                             std::string name =
                                 path.parent_path().parent_path().filename().string() + "_" +
                                 path.stem().string();
                             for (char& c : name) {
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             }
                             return name;
                         });

TEST(ScenarioFiles, EveryModuleHasScenarios) {
    const std::vector<std::string> files = ScenarioFiles();
    for (const char* module :
         {"users", "merchants", "wallets", "charges", "refunds", "holds", "limits"}) {
        EXPECT_TRUE(std::any_of(files.begin(), files.end(), [&](const std::string& f) {
            return f.find("/" + std::string(module) + "/scenarios/") != std::string::npos;
        })) << module;
    }
}

TEST(ScenarioResultName, IsSnakeCase) {
    EXPECT_EQ(ScenarioResultName(static_cast<uint16_t>(ResultCode::kInsufficientFunds)),
              "insufficient_funds");
    EXPECT_EQ(ScenarioResultName(static_cast<uint16_t>(ResultCode::kOk)), "ok");
}

}  // namespace
}  // namespace bursar::payments::testing
