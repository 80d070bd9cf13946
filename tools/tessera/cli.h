// tools/tessera/cli.h — the tessera command line, callable from tests.
//
// RunTessera parses `args` (args[0] is the program name), runs the command and writes its output to
// `out` and its errors to `err`. Exit codes: 0 success; 1 a user error (bad flag or input, missing
// driver, differences found by `gpus verify`), with a message that says what to fix; 2 an internal
// error.
#ifndef TESSERA_TOOLS_CLI_H_
#define TESSERA_TOOLS_CLI_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"

namespace tessera::cli {

int RunTessera(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// What every command prints and returns for a failed Status.
int ReportError(const absl::Status& status, std::ostream& err);

// A CLI11 callback that runs `run` (returning absl::Status) and turns a failed Status into the exit
// code, through ReportError.
template <typename Run>
std::function<void()> Callback(Run run, std::ostream& err, int& exit_code) {
  return [run, &err, &exit_code] {
    absl::Status status = run();
    if (!status.ok()) exit_code = ReportError(status, err);
  };
}

// Registers `tessera gpus ...` on `app`. The callbacks write to `out`/`err` and store the exit code
// in `exit_code`.
void AddGpusCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

// `tessera profiles import|show` (profiles_command.cc).
void AddProfilesCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera profiles plan|fit|predict` (predict_command.cc), registered under `profiles`: active
// profiling and latency predictors.
void AddProfilesPredictCommands(CLI::App* profiles, std::ostream& out, std::ostream& err,
                                int& exit_code);
// `tessera profiles measure` (measure_command.cc), registered under `profiles`: latency and memory
// measured with the CUDA engine.
void AddProfilesMeasureCommand(CLI::App* profiles, std::ostream& out, std::ostream& err,
                               int& exit_code);
// `tessera validate` (validate_command.cc): check a plan against catalog, profiles and workload.
void AddValidateCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera plan` (plan_command.cc): make a plan with a named planner.
void AddPlanCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera compare` (compare_command.cc): every planner, every plan simulated.
void AddCompareCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera simulate` (simulate_command.cc).
void AddSimulateCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_CLI_H_
