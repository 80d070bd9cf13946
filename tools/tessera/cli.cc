#include "cli.h"

#include <sstream>

#include "fmt/core.h"

namespace tessera::cli {

// `tessera generate planning-case` (generate_command.cc).
void AddGenerateCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera interference fit` (interference_command.cc).
void AddInterferenceCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera apply` (apply_command.cc): MIG transitions from the current layouts to a plan's.
void AddApplyCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera adapt` (adapt_command.cc): adaptation policies over a workload's traces.
void AddAdaptCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera serve` (serve_command.cc): the HTTP inference server.
void AddServeCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera load` (load_command.cc): the open-loop load generator.
void AddLoadCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera check-engine` (check_engine_command.cc): the CUDA engine against the CPU reference.
void AddCheckEngineCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);
// `tessera worker` (measure_command.cc, hidden): the process that serves one MIG instance.
void AddWorkerCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

int ReportError(const absl::Status& status, std::ostream& err) {
  err << "tessera: error: " << status.message() << "\n";
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnimplemented:
      err << "(this is a bug in tessera; please report it with the command line)\n";
      return 2;
    default:
      return 1;
  }
}

int RunTessera(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app(
      "tessera: cut GPUs into MIG instances and SM partitions, and place inference models "
      "on them so every latency SLO holds with the fewest GPUs.",
      "tessera");
  app.require_subcommand(1);
  app.set_version_flag("--version", "tessera 0.1.0");
  int exit_code = 0;
  AddGpusCommands(app, out, err, exit_code);
  AddProfilesCommands(app, out, err, exit_code);
  AddPlanCommand(app, out, err, exit_code);
  AddCompareCommand(app, out, err, exit_code);
  AddValidateCommand(app, out, err, exit_code);
  AddSimulateCommand(app, out, err, exit_code);
  AddGenerateCommands(app, out, err, exit_code);
  AddInterferenceCommands(app, out, err, exit_code);
  AddApplyCommand(app, out, err, exit_code);
  AddAdaptCommand(app, out, err, exit_code);
  AddServeCommand(app, out, err, exit_code);
  AddLoadCommand(app, out, err, exit_code);
  AddCheckEngineCommand(app, out, err, exit_code);
  AddWorkerCommand(app, out, err, exit_code);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();  // the program name
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // Help, --version and parse errors; CLI11 prints help for the selected subcommand.
    if (app.exit(e, out, err) == 0) return 0;
    err << "Run the command with --help to see its flags.\n";
    return 1;
  } catch (const std::exception& e) {
    err << "tessera: internal error: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}

}  // namespace tessera::cli
