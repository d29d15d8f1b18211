#pragma once

// The scenario runner (docs/testing.md): small declarative files of commands and expectations,
// run over the real engine on the simulated file system and a manual clock, with every invariant
// checked after every step. Expectations name result codes, never JSON.

#include <string>

namespace bursar::payments::testing {

// Runs the scenario file at `path`; each failed step is a test failure naming the file and line.
void RunScenarioFile(const std::string& path);

// `kInsufficientFunds` as a scenario names it: "insufficient_funds".
std::string ScenarioResultName(uint16_t result_code);

}  // namespace bursar::payments::testing
