// `tessera profiles import`, `profiles show`, `profiles lookup` (`plan`, `fit`, `predict`: in
// predict_command.cc).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "nlohmann/json.hpp"
#include "tessera/base/paths.h"
#include "tessera/base/status.h"
#include "tessera/base/table.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/partition.h"
#include "tessera/models/registry.h"
#include "tessera/perf/importers.h"
#include "tessera/perf/profiles.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct ImportOptions {
  std::string format;
  std::string path;
  std::string output;
};

struct ShowOptions {
  std::vector<std::string> files;  // empty: every bundled data/profiles/*.csv
  std::string model;
  std::string gpu;
  std::string partition;
  bool json = false;
};

struct LookupOptions {
  std::string file;
  std::string gpu;
  std::string partition;
  std::string model;
  int input = 0;  // 0: the model's reference input
  int batch = 1;
  int procs = 1;
  bool json = false;
};

// The catalog and model registry every profile command reads against.
struct Vocabulary {
  hw::Catalog catalog;
  models::ModelRegistry registry;
};

absl::StatusOr<Vocabulary> LoadVocabulary() {
  Vocabulary v;
  ASSIGN_OR_RETURN(v.catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(v.registry, models::LoadDefaultModelRegistry());
  return v;
}

std::string Opt(const std::optional<double>& value) {
  return value ? fmt::format("{:g}", *value) : "-";
}

json OptJson(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

json RowJson(const perf::ProfileRow& row) {
  const perf::ProfileKey& k = row.key;
  return {{"gpu", k.gpu},
          {"partition", k.partition.ToString()},
          {"model", k.model},
          {"input", k.input},
          {"batch", k.batch},
          {"procs", k.procs},
          {"latency_ms", row.latency_ms},
          {"latency_ms_p90", OptJson(row.latency_ms_p90)},
          {"latency_ms_p99", OptJson(row.latency_ms_p99)},
          {"memory_mib", OptJson(row.memory_mib)},
          {"source", perf::ProfileSourceName(row.source)}};
}

// A readable table of `rows`; the tail-latency columns appear only when some row has them.
std::string RenderRows(const std::vector<const perf::ProfileRow*>& rows) {
  bool p90 = false, p99 = false;
  for (const perf::ProfileRow* row : rows) {
    p90 = p90 || row->latency_ms_p90.has_value();
    p99 = p99 || row->latency_ms_p99.has_value();
  }
  std::vector<std::string> header = {"gpu",   "partition", "model",     "input",
                                     "batch", "procs",     "latency ms"};
  if (p90) header.push_back("p90 ms");
  if (p99) header.push_back("p99 ms");
  header.insert(header.end(), {"memory MiB", "source"});
  TextTable table(header);
  for (size_t c = 3; c + 1 < header.size(); ++c) table.SetRightAligned(c);
  for (const perf::ProfileRow* row : rows) {
    const perf::ProfileKey& k = row->key;
    std::vector<std::string> cells = {k.gpu,
                                      k.partition.ToString(),
                                      k.model,
                                      std::to_string(k.input),
                                      std::to_string(k.batch),
                                      std::to_string(k.procs),
                                      fmt::format("{:g}", row->latency_ms)};
    if (p90) cells.push_back(Opt(row->latency_ms_p90));
    if (p99) cells.push_back(Opt(row->latency_ms_p99));
    cells.insert(cells.end(), {Opt(row->memory_mib), perf::ProfileSourceName(row->source)});
    table.AddRow(std::move(cells));
  }
  return table.Render();
}

// Rows per (gpu, partition, model), with the distinct inputs, batches and procs they cover.
std::string ImportSummary(const perf::ProfileTable& table) {
  struct Group {
    size_t rows = 0;
    std::set<int> inputs, batches, procs;
  };
  std::map<std::tuple<std::string, hw::Partition, std::string>, Group> groups;
  for (const auto& [key, row] : table.rows()) {
    Group& g = groups[{key.gpu, key.partition, key.model}];
    ++g.rows;
    g.inputs.insert(key.input);
    g.batches.insert(key.batch);
    g.procs.insert(key.procs);
  }
  auto span = [](const std::set<int>& values) {
    if (values.size() == 1) return std::to_string(*values.begin());
    return fmt::format("{}..{} ({})", *values.begin(), *values.rbegin(), values.size());
  };
  TextTable out({"gpu", "partition", "model", "rows", "inputs", "batches", "procs"});
  out.SetRightAligned(3);
  for (const auto& [group, g] : groups) {
    out.AddRow({std::get<0>(group), std::get<1>(group).ToString(), std::get<2>(group),
                std::to_string(g.rows), span(g.inputs), span(g.batches), span(g.procs)});
  }
  return out.Render();
}

absl::Status RunImport(const ImportOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(Vocabulary v, LoadVocabulary());
  ASSIGN_OR_RETURN(perf::ImportResult result,
                   perf::ImportProfiles(options.format, options.path, v.catalog, v.registry));
  std::ofstream file(options.output, std::ios::binary);
  perf::WriteProfileCsv(result.table, file);
  file.close();
  if (!file) {
    return absl::InvalidArgumentError(
        fmt::format("-o {}: cannot write the file; check that its folder exists", options.output));
  }
  out << fmt::format("imported {} rows ({}) from {} into {}\n\n", result.table.size(),
                     options.format, options.path, options.output);
  out << ImportSummary(result.table);
  if (!result.notes.empty()) out << "\nnotes:\n";
  for (const std::string& note : result.notes) out << "  - " << note << "\n";
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> BundledProfileFiles() {
  ASSIGN_OR_RETURN(std::string dir, DataDir());
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir + "/profiles", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".csv") files.push_back(it->path().string());
  }
  if (ec || files.empty()) {
    return absl::NotFoundError(
        fmt::format("{}/profiles: no bundled profile tables (*.csv); pass --profiles FILE", dir));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The --model/--gpu/--partition filters of `show`, resolved to canonical values.
struct Filter {
  std::optional<std::string> model, gpu;
  std::optional<hw::Partition> partition;

  bool Matches(const perf::ProfileKey& key) const {
    return (!model || key.model == *model) && (!gpu || key.gpu == *gpu) &&
           (!partition || key.partition == *partition);
  }
};

absl::StatusOr<Filter> MakeFilter(const ShowOptions& options, const Vocabulary& v) {
  Filter filter;
  if (!options.model.empty()) {
    ASSIGN_OR_RETURN(const models::ModelInfo* model, v.registry.Find(options.model));
    filter.model = model->name;
  }
  if (!options.gpu.empty()) {
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, v.catalog.Find(options.gpu));
    filter.gpu = gpu->name;
  }
  if (!options.partition.empty()) {
    ASSIGN_OR_RETURN(filter.partition, hw::ParsePartition(options.partition));
  }
  return filter;
}

absl::Status RunShow(const ShowOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(Vocabulary v, LoadVocabulary());
  ASSIGN_OR_RETURN(Filter filter, MakeFilter(options, v));
  std::vector<std::string> files = options.files;
  if (files.empty()) {
    ASSIGN_OR_RETURN(files, BundledProfileFiles());
  }
  json all = json::array();
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(perf::ProfileTable table, perf::LoadProfileCsv(file, v.catalog, v.registry));
    std::vector<const perf::ProfileRow*> shown;
    for (const auto& [key, row] : table.rows()) {
      if (filter.Matches(key)) shown.push_back(&row);
    }
    if (options.json) {
      for (const perf::ProfileRow* row : shown) {
        json item = RowJson(*row);
        item["file"] = file;
        all.push_back(std::move(item));
      }
      continue;
    }
    out << fmt::format("{}: {} of {} rows\n", file, shown.size(), table.size());
    if (!shown.empty()) out << RenderRows(shown);
    out << "\n";
  }
  if (options.json) out << all.dump(2) << "\n";
  return absl::OkStatus();
}

absl::StatusOr<perf::ProfileKey> LookupKey(const LookupOptions& options, const Vocabulary& v) {
  perf::ProfileKey key;
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, v.catalog.Find(options.gpu));
  key.gpu = gpu->name;
  ASSIGN_OR_RETURN(key.partition, hw::ParsePartition(options.partition));
  ASSIGN_OR_RETURN(const models::ModelInfo* model, v.registry.Find(options.model));
  key.model = model->name;
  key.input = options.input > 0 ? options.input : model->reference_input;
  if (key.input > model->max_input) {
    return absl::InvalidArgumentError(fmt::format("--input {} is above {}'s maximum of {} {}",
                                                  key.input, model->name, model->max_input,
                                                  models::InputUnitName(model->input_unit)));
  }
  key.batch = options.batch;
  key.procs = options.procs;
  return key;
}

absl::Status RunLookup(const LookupOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(Vocabulary v, LoadVocabulary());
  ASSIGN_OR_RETURN(perf::ProfileKey key, LookupKey(options, v));
  ASSIGN_OR_RETURN(perf::ProfileTable table,
                   perf::LoadProfileCsv(options.file, v.catalog, v.registry));
  ASSIGN_OR_RETURN(perf::ProfileRow row, table.Lookup(key));
  if (options.json) {
    out << RowJson(row).dump(2) << "\n";
    return absl::OkStatus();
  }
  out << RenderRows({&row});
  if (row.source == perf::ProfileSource::kInterpolated) {
    out << "interpolated linearly between measured rows of " << options.file
        << " (along batch, then input, then SM count)\n";
  } else {
    out << "a row of " << options.file << "\n";
  }
  return absl::OkStatus();
}

void AddImport(CLI::App* profiles, std::ostream& out, std::ostream& err, int& exit_code) {
  auto options = std::make_shared<ImportOptions>();
  CLI::App* cmd = profiles->add_subcommand(
      "import", "Convert an outside profile table into tessera's profile CSV and summarize it");
  cmd->add_option("--format", options->format, "Source format: parvagpu, migprofiler or h100-sm")
      ->required()
      ->check(CLI::IsMember({"parvagpu", "migprofiler", "h100-sm"}));
  cmd->add_option("path", options->path,
                  "parvagpu: prof_data folder or file; migprofiler: folder or CSV; h100-sm: "
                  "profiles.csv")
      ->required();
  cmd->add_option("-o,--output", options->output, "Where to write the profile CSV")->required();
  cmd->callback(Callback([options, &out] { return RunImport(*options, out); }, err, exit_code));
}

void AddShow(CLI::App* profiles, std::ostream& out, std::ostream& err, int& exit_code) {
  auto options = std::make_shared<ShowOptions>();
  CLI::App* cmd = profiles->add_subcommand("show", "Print the rows of profile tables");
  cmd->add_option("--profiles", options->files,
                  "Profile CSV (repeatable; default: every bundled data/profiles/*.csv)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", options->model, "Only this model (name or alias)");
  cmd->add_option("--gpu", options->gpu, "Only this GPU model (name or alias)");
  cmd->add_option("--partition", options->partition, "Only this partition (3g.40gb, sm:64)");
  cmd->add_flag("--json", options->json, "Print JSON");
  cmd->callback(Callback([options, &out] { return RunShow(*options, out); }, err, exit_code));
}

void AddLookup(CLI::App* profiles, std::ostream& out, std::ostream& err, int& exit_code) {
  auto options = std::make_shared<LookupOptions>();
  CLI::App* cmd = profiles->add_subcommand(
      "lookup",
      "Latency and memory of one configuration: a measured row or one interpolated "
      "between measured rows (never extrapolated)");
  cmd->add_option("--profiles", options->file, "Profile CSV")->required()->check(CLI::ExistingFile);
  cmd->add_option("--gpu", options->gpu, "GPU model (name or alias)")->required();
  cmd->add_option("--partition", options->partition, "Partition (3g.40gb, sm:48)")->required();
  cmd->add_option("--model", options->model, "Model (name or alias)")->required();
  cmd->add_option("--input", options->input,
                  "Input size in the model's unit (default: its reference input)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch", options->batch, "Batch size")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--procs", options->procs, "Copies of the model in the partition (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", options->json, "Print JSON");
  cmd->callback(Callback([options, &out] { return RunLookup(*options, out); }, err, exit_code));
}

}  // namespace

void AddProfilesCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  CLI::App* profiles =
      app.add_subcommand("profiles", "Import, show and look up latency/memory profile tables");
  profiles->require_subcommand(1);
  AddImport(profiles, out, err, exit_code);
  AddShow(profiles, out, err, exit_code);
  AddLookup(profiles, out, err, exit_code);
  AddProfilesPredictCommands(profiles, out, err, exit_code);
  AddProfilesMeasureCommand(profiles, out, err, exit_code);
}

}  // namespace tessera::cli
