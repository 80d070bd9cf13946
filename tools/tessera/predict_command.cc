// `tessera profiles plan`, `profiles fit`, `profiles predict`: active profiling and learned latency
// predictors (predict/active.h, predict/predictor.h) from the command line.
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "fmt/ranges.h"
#include "nlohmann/json.hpp"
#include "tessera/base/csv.h"
#include "tessera/base/status.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/partition.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/predict/active.h"
#include "tessera/predict/predictor.h"

namespace tessera::cli {
namespace {

struct PlanOptions {
  std::string profiles;
  std::string gpu;
  std::string budget;
  std::string predictor = "learned";
  uint64_t seed = 1;
  int rounds = 4;
  std::string output;
};

struct FitOptions {
  std::string profiles;
  std::string gpu;
  std::string predictor = "learned";
  std::string only;
  std::string output;
};

struct PredictOptions {
  std::string model;
  std::string gpu;
  std::string profiles;
  std::string output;
};

// The catalog, registry and one GPU's measured rows of a profile table.
struct Context {
  hw::Catalog catalog;
  models::ModelRegistry registry;
  std::string gpu;  // canonical
  perf::ProfileTable table;
  std::vector<perf::ProfileRow> measured;  // the grid: `table`'s measured rows of `gpu`

  predict::PredictorInputs Inputs() const { return {&catalog, &registry}; }
};

// `need_measured`: the file must have measured rows of `gpu` (plan, fit); else any row of it
// (predict, where the file only says which configurations to cover).
absl::StatusOr<std::unique_ptr<Context>> LoadContext(const std::string& gpu,
                                                     const std::string& profiles,
                                                     bool need_measured = true) {
  auto c = std::make_unique<Context>();
  ASSIGN_OR_RETURN(c->catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(c->registry, models::LoadDefaultModelRegistry());
  ASSIGN_OR_RETURN(const hw::GpuModel* model, c->catalog.Find(gpu));
  c->gpu = model->name;
  if (profiles.empty()) return c;
  ASSIGN_OR_RETURN(c->table, perf::LoadProfileCsv(profiles, c->catalog, c->registry));
  std::set<std::string> gpus;
  size_t of_gpu = 0;
  for (const auto& [key, row] : c->table.rows()) {
    gpus.insert(key.gpu);
    if (key.gpu != c->gpu) continue;
    ++of_gpu;
    if (row.source == perf::ProfileSource::kMeasured) c->measured.push_back(row);
  }
  if (need_measured ? c->measured.empty() : of_gpu == 0) {
    return absl::InvalidArgumentError(fmt::format(
        "--profiles {}: no {}rows of {} (the file has rows of: {}); pick one of its GPUs", profiles,
        need_measured ? "measured " : "", c->gpu, fmt::join(gpus, ", ")));
  }
  return c;
}

absl::Status CheckPredictorName(const std::string& name) {
  for (const std::string& known : predict::PredictorNames()) {
    if (known == name) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(fmt::format("--predictor {}: unknown; expected one of {}", name,
                                                fmt::join(predict::PredictorNames(), ", ")));
}

// Writes `text` to `path`; InvalidArgument naming the flag when it cannot.
absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  file.close();
  if (!file) {
    return absl::InvalidArgumentError(
        fmt::format("-o {}: cannot write the file; check that its folder exists", path));
  }
  return absl::OkStatus();
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string ConfigsCsv(const predict::ActivePlan& plan) {
  std::string out = "gpu,partition,model,input,batch,procs,phase,round,reason\n";
  for (const predict::ChosenConfiguration& c : plan.chosen) {
    const perf::ProfileKey& k = c.key;
    out += fmt::format("{},{},{},{},{},{},{},{},{}\n", k.gpu, k.partition.ToString(), k.model,
                       k.input, k.batch, k.procs, predict::SelectionPhaseName(c.phase), c.round,
                       CsvField(c.reason));
  }
  return out;
}

double ExhaustiveSeconds(const std::vector<perf::ProfileRow>& grid,
                         const predict::MeasurementCost& cost) {
  double total = 0;
  for (const perf::ProfileRow& row : grid)
    total += predict::MeasurementSeconds(row.latency_ms, cost);
  return total;
}

absl::Status RunPlan(const PlanOptions& options, std::ostream& out) {
  predict::ActiveOptions active;
  ASSIGN_OR_RETURN(active.budget, predict::ParseMeasurementBudget(options.budget));
  RETURN_IF_ERROR(CheckPredictorName(options.predictor));
  active.predictor = options.predictor;
  active.seed = options.seed;
  active.rounds = options.rounds;
  ASSIGN_OR_RETURN(std::unique_ptr<Context> c, LoadContext(options.gpu, options.profiles));
  std::vector<perf::ProfileKey> grid;
  for (const perf::ProfileRow& row : c->measured) grid.push_back(row.key);
  const perf::ProfileTable& table = c->table;
  auto replay = [&table](const perf::ProfileKey& key) -> absl::StatusOr<perf::ProfileRow> {
    const perf::ProfileRow* row = table.Find(key);
    if (row == nullptr) {
      return absl::NotFoundError(fmt::format("{}: not a row of --profiles", key.ToString()));
    }
    return *row;
  };
  ASSIGN_OR_RETURN(
      predict::ActivePlan plan,
      predict::ChooseMeasurements(grid, c->catalog, active,
                                  predict::DefaultPredictorFactory(c->Inputs()), replay));
  RETURN_IF_ERROR(WriteText(options.output, ConfigsCsv(plan)));
  std::map<std::string, int> by_phase;
  for (const predict::ChosenConfiguration& chosen : plan.chosen) {
    ++by_phase[predict::SelectionPhaseName(chosen.phase)];
  }
  std::vector<std::string> phases;
  for (const auto& [phase, n] : by_phase) phases.push_back(fmt::format("{} {}", n, phase));
  double exhaustive = ExhaustiveSeconds(c->measured, active.cost);
  out << fmt::format("chose {} of {} configurations of {} ({:.1f}%) into {}: {}\n",
                     plan.chosen.size(), grid.size(), c->gpu,
                     100.0 * plan.chosen.size() / grid.size(), options.output,
                     fmt::join(phases, ", "));
  out << fmt::format(
      "estimated GPU time: {:.0f} s to measure them, against {:.0f} s for the whole grid "
      "({:.0f}% saved; {:g} s set-up + {} iterations per configuration)\n",
      plan.gpu_seconds, exhaustive, 100 * (1 - plan.gpu_seconds / exhaustive), active.cost.setup_s,
      active.cost.warmup_iterations + active.cost.timed_iterations);
  out << fmt::format("stopped: {}\n", plan.stop_reason);
  out << fmt::format(
      "the grid is the {} measured rows of {} in {}; each chosen configuration was read from it "
      "(replayed), not run\n",
      grid.size(), c->gpu, options.profiles);
  return absl::OkStatus();
}

// The keys listed in a configs.csv (docs/formats.md), resolved to canonical names.
absl::StatusOr<std::set<perf::ProfileKey>> ReadConfigs(const std::string& path, const Context& c) {
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
  RETURN_IF_ERROR(reader.RequireColumns({"gpu", "partition", "model", "input", "batch", "procs"}));
  std::set<perf::ProfileKey> keys;
  CsvRow row;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(row));
    if (!more) break;
    perf::ProfileKey key;
    ASSIGN_OR_RETURN(std::string_view gpu, row.Text("gpu"));
    absl::StatusOr<const hw::GpuModel*> found = c.catalog.Find(gpu);
    if (!found.ok() || (*found)->name != c.gpu) {
      return row.Error("gpu", fmt::format("'{}' is not --gpu {}", gpu, c.gpu));
    }
    key.gpu = c.gpu;
    ASSIGN_OR_RETURN(std::string_view partition, row.Text("partition"));
    absl::StatusOr<hw::Partition> parsed = hw::ParsePartition(partition);
    if (!parsed.ok()) return row.Error("partition", std::string(parsed.status().message()));
    key.partition = *parsed;
    ASSIGN_OR_RETURN(std::string_view model, row.Text("model"));
    absl::StatusOr<const models::ModelInfo*> info = c.registry.Find(model);
    if (!info.ok()) return row.Error("model", std::string(info.status().message()));
    key.model = (*info)->name;
    for (auto [column, field] : {std::pair{"input", &key.input}, std::pair{"batch", &key.batch},
                                 std::pair{"procs", &key.procs}}) {
      ASSIGN_OR_RETURN(int64_t value, row.Int(column));
      if (value < 1 || value > 1000000) {
        return row.Error(column, fmt::format("{} is outside 1..1000000", value));
      }
      *field = static_cast<int>(value);
    }
    keys.insert(key);
  }
  return keys;
}

struct ErrorStats {
  size_t n = 0;
  double mape = 0;   // %
  double worst = 0;  // %
  std::string ToString() const {
    return fmt::format("MAPE {:.1f}%, worst {:.1f}% over {} rows", mape, worst, n);
  }
};

absl::StatusOr<ErrorStats> Errors(const predict::Predictor& p,
                                  const std::vector<perf::ProfileRow>& rows) {
  ErrorStats stats;
  for (const perf::ProfileRow& row : rows) {
    ASSIGN_OR_RETURN(predict::Prediction y, p.Predict(row.key));
    double e = 100 * std::abs(y.latency_ms - row.latency_ms) / row.latency_ms;
    stats.mape += e;
    stats.worst = std::max(stats.worst, e);
    ++stats.n;
  }
  if (stats.n > 0) stats.mape /= static_cast<double>(stats.n);
  return stats;
}

absl::Status RunFit(const FitOptions& options, std::ostream& out) {
  RETURN_IF_ERROR(CheckPredictorName(options.predictor));
  ASSIGN_OR_RETURN(std::unique_ptr<Context> c, LoadContext(options.gpu, options.profiles));
  std::vector<perf::ProfileRow> training = c->measured, held_out;
  if (!options.only.empty()) {
    ASSIGN_OR_RETURN(std::set<perf::ProfileKey> keys, ReadConfigs(options.only, *c));
    std::set<perf::ProfileKey> found;
    training.clear();
    for (const perf::ProfileRow& row : c->measured) {
      (keys.count(row.key) ? training : held_out).push_back(row);
      if (keys.count(row.key)) found.insert(row.key);
    }
    for (const perf::ProfileKey& key : keys) {
      if (!found.count(key)) {
        return absl::InvalidArgumentError(
            fmt::format("--only {}: {} is not a measured row of {}; measure it and add it there",
                        options.only, key.ToString(), options.profiles));
      }
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<predict::Predictor> p,
                   predict::MakePredictor(options.predictor, c->Inputs()));
  RETURN_IF_ERROR(p->Fit(training));
  ASSIGN_OR_RETURN(nlohmann::json saved, p->Save());
  saved["training"] = predict::RowsToJson(training);
  RETURN_IF_ERROR(WriteText(options.output, saved.dump(2) + "\n"));
  ASSIGN_OR_RETURN(ErrorStats in_sample, Errors(*p, training));
  out << fmt::format("fitted {} on {} measured rows of {} from {} into {}\n", p->name(),
                     training.size(), c->gpu, options.profiles, options.output);
  out << fmt::format("in-sample error: {}\n", in_sample.ToString());
  if (!held_out.empty()) {
    ASSIGN_OR_RETURN(ErrorStats rest, Errors(*p, held_out));
    out << fmt::format("error on the {} rows not in {}: {}\n", held_out.size(), options.only,
                       rest.ToString());
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("--model {}: cannot open file", path));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json saved = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (saved.is_discarded()) {
    return absl::InvalidArgumentError(
        fmt::format("--model {}: not JSON; expected what `tessera profiles fit` writes", path));
  }
  return saved;
}

// The rows of a saved predictor's "training" list (none when it has no such list).
absl::StatusOr<std::vector<perf::ProfileRow>> TrainingRows(const nlohmann::json& saved,
                                                           const Context& c,
                                                           const std::string& path) {
  if (!saved.is_object() || !saved.contains("training")) return std::vector<perf::ProfileRow>();
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, c.catalog.Find(c.gpu));
  absl::StatusOr<std::vector<perf::ProfileRow>> rows =
      predict::RowsFromJson(saved["training"], "training", *gpu, c.registry);
  if (!rows.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("--model {}: {}", path, std::string(rows.status().message())));
  }
  return rows;
}

// The keys to predict without --profiles: per model, the cartesian product of the partitions,
// inputs, batches and procs of its training rows, keeping only (partition kind, procs) pairs that
// some training row of the model has (MPS procs do not carry over to MIG instances, and so on).
std::vector<perf::ProfileKey> TrainingProduct(const std::vector<perf::ProfileRow>& training) {
  struct Axes {
    std::set<hw::Partition> partitions;
    std::set<int> inputs, batches, procs;
    std::set<std::pair<hw::PartitionKind, int>> kind_procs;
  };
  std::map<std::string, Axes> by_model;
  for (const perf::ProfileRow& row : training) {
    Axes& a = by_model[row.key.model];
    a.partitions.insert(row.key.partition);
    a.inputs.insert(row.key.input);
    a.batches.insert(row.key.batch);
    a.procs.insert(row.key.procs);
    a.kind_procs.insert({row.key.partition.kind, row.key.procs});
  }
  std::vector<perf::ProfileKey> keys;
  for (const auto& [model, a] : by_model) {
    for (const hw::Partition& partition : a.partitions) {
      for (int input : a.inputs) {
        for (int batch : a.batches) {
          for (int procs : a.procs) {
            if (!a.kind_procs.count({partition.kind, procs})) continue;
            keys.push_back({training.front().key.gpu, partition, model, input, batch, procs});
          }
        }
      }
    }
  }
  return keys;
}

absl::Status CheckFittedGpu(const nlohmann::json& saved, const Context& c,
                            const std::string& path) {
  if (!saved.is_object() || !saved.contains("gpu") || !saved["gpu"].is_string()) {
    return absl::OkStatus();  // LoadPredictor names what is missing
  }
  std::string gpu = saved["gpu"].get<std::string>();
  absl::StatusOr<const hw::GpuModel*> fitted = c.catalog.Find(gpu);
  if (!fitted.ok() || (*fitted)->name != c.gpu) {
    return absl::InvalidArgumentError(fmt::format(
        "--model {} was fitted for {}, not {}; fit one with `tessera profiles fit --gpu {}`", path,
        gpu, c.gpu, c.gpu));
  }
  return absl::OkStatus();
}

absl::Status RunPredict(const PredictOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<Context> c,
                   LoadContext(options.gpu, options.profiles, /*need_measured=*/false));
  ASSIGN_OR_RETURN(nlohmann::json saved, ReadJson(options.model));
  RETURN_IF_ERROR(CheckFittedGpu(saved, *c, options.model));
  absl::StatusOr<std::unique_ptr<predict::Predictor>> loaded =
      predict::LoadPredictor(saved, c->Inputs());
  if (!loaded.ok()) {
    return absl::Status(
        loaded.status().code(),
        fmt::format("--model {}: {}", options.model, std::string(loaded.status().message())));
  }
  std::unique_ptr<predict::Predictor> p = *std::move(loaded);
  ASSIGN_OR_RETURN(std::vector<perf::ProfileRow> training, TrainingRows(saved, *c, options.model));
  std::map<perf::ProfileKey, perf::ProfileRow> measured;
  for (perf::ProfileRow& row : training) measured[row.key] = row;
  for (const perf::ProfileRow& row : c->measured) measured[row.key] = row;
  std::vector<perf::ProfileKey> keys;
  if (!options.profiles.empty()) {
    for (const auto& [key, row] : c->table.rows()) {
      if (key.gpu == c->gpu) keys.push_back(key);
    }
  } else if (!training.empty()) {
    keys = TrainingProduct(training);
  } else {
    return absl::InvalidArgumentError(
        fmt::format("--model {} does not list its training rows; pass --profiles FILE to say which "
                    "configurations to predict",
                    options.model));
  }
  perf::ProfileTable result;
  size_t kept = 0, skipped = 0;
  std::string first_reason;
  for (const perf::ProfileKey& key : keys) {
    if (auto it = measured.find(key); it != measured.end()) {
      RETURN_IF_ERROR(result.Add(it->second));
      ++kept;
      continue;
    }
    absl::StatusOr<predict::Prediction> y = p->Predict(key);
    if (!y.ok() && (absl::IsInvalidArgument(y.status()) || absl::IsNotFound(y.status()))) {
      if (skipped++ == 0) first_reason = std::string(y.status().message());
      continue;
    }
    RETURN_IF_ERROR(y.status());
    RETURN_IF_ERROR(result.Add({key, y->latency_ms, y->latency_ms_p90, y->latency_ms_p99,
                                y->memory_mib, perf::ProfileSource::kPredicted}));
  }
  std::ostringstream csv;
  perf::WriteProfileCsv(result, csv);
  RETURN_IF_ERROR(WriteText(options.output, csv.str()));
  out << fmt::format("wrote {} rows of {} to {}: {} measured (kept), {} predicted by {}\n",
                     result.size(), c->gpu, options.output, kept, result.size() - kept, p->name());
  if (skipped > 0) {
    out << fmt::format("skipped {} configurations the predictor cannot predict; the first: {}\n",
                       skipped, first_reason);
  }
  return absl::OkStatus();
}

void AddPlan(CLI::App* profiles, std::ostream& out, std::ostream& err, int& exit_code) {
  auto options = std::make_shared<PlanOptions>();
  CLI::App* cmd = profiles->add_subcommand(
      "plan",
      "Active profiling: choose which configurations to measure within a budget (space-filling, "
      "then where the predictor is least sure)");
  cmd->add_option("--profiles", options->profiles,
                  "Profile CSV; its measured rows of --gpu are the grid")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--gpu", options->gpu, "GPU model (name or alias)")->required();
  cmd->add_option("--budget", options->budget,
                  "A share of the grid (15%) or GPU time (3600s, 90m, 2h)")
      ->required();
  cmd->add_option("--predictor", options->predictor,
                  "Predictor fitted between rounds: table, roofline or learned (default learned)");
  cmd->add_option("--seed", options->seed, "Breaks ties between equal choices (default 1)");
  cmd->add_option("--rounds", options->rounds, "Rounds of uncertainty sampling (default 4)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-o,--output", options->output, "Where to write configs.csv")->required();
  cmd->callback(Callback([options, &out] { return RunPlan(*options, out); }, err, exit_code));
}

void AddFit(CLI::App* profiles, std::ostream& out, std::ostream& err, int& exit_code) {
  auto options = std::make_shared<FitOptions>();
  CLI::App* cmd = profiles->add_subcommand(
      "fit", "Fit a latency predictor on measured rows and write it as JSON");
  cmd->add_option("--profiles", options->profiles, "Profile CSV with measured rows")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--gpu", options->gpu, "GPU model (name or alias)")->required();
  cmd->add_option("--predictor", options->predictor,
                  "table, roofline or learned (default learned)");
  cmd->add_option("--only", options->only,
                  "Train only on the configurations listed in this configs.csv (profiles plan)")
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", options->output, "Where to write model.json")->required();
  cmd->callback(Callback([options, &out] { return RunFit(*options, out); }, err, exit_code));
}

void AddPredictCommand(CLI::App* profiles, std::ostream& out, std::ostream& err, int& exit_code) {
  auto options = std::make_shared<PredictOptions>();
  CLI::App* cmd = profiles->add_subcommand(
      "predict",
      "Write a full profile table: measured rows kept, every other configuration predicted");
  cmd->add_option("--model", options->model, "model.json written by `profiles fit`")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--gpu", options->gpu, "GPU model (name or alias)")->required();
  cmd->add_option("--profiles", options->profiles,
                  "Profile CSV whose rows of --gpu (any source) are the configurations to "
                  "cover, its measured rows kept (default: the product of the model's training "
                  "configurations)")
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", options->output, "Where to write the profile CSV")->required();
  cmd->callback(Callback([options, &out] { return RunPredict(*options, out); }, err, exit_code));
}

}  // namespace

void AddProfilesPredictCommands(CLI::App* profiles, std::ostream& out, std::ostream& err,
                                int& exit_code) {
  AddPlan(profiles, out, err, exit_code);
  AddFit(profiles, out, err, exit_code);
  AddPredictCommand(profiles, out, err, exit_code);
}

}  // namespace tessera::cli
