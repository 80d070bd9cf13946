// Importer for ParvaGPU's prof_data/<model>.csv (SC'24 artifact, MunQ-Lee/ParvaGPU_SC24): an
// A100-80GB measured at every MIG size x batch x number of MPS processes.
//
// Columns: `Mig instance` (GPCs), `Batch size`, `Workload Number` (MPS processes), `Throughput`
// (requests/s of one process), `Latency` (s per batch, rounded to 1 ms). `0,0` = did not run.
#include <cmath>
#include <filesystem>
#include <map>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/checks.h"
#include "internal/importers.h"
#include "tessera/base/status.h"

namespace tessera::perf::internal {
namespace {

constexpr char kGpu[] = "A100-SXM4-80GB";
// ParvaGPU's scripts/dl_infer_runtime.py feeds 224x224 images to every CNN (Inception v3 too) and
// 128-token sequences to its BERT; the CSVs have no input column.
constexpr int kImageSide = 224;
constexpr int kSequenceTokens = 128;
constexpr int kLatencyDecimals = 4;

absl::StatusOr<std::string> ProfileForGpcs(const CsvRow& csv) {
  static const std::map<int64_t, std::string> kProfiles = {
      {1, "1g.10gb"}, {2, "2g.20gb"}, {3, "3g.40gb"}, {4, "4g.40gb"}, {7, "7g.80gb"}};
  ASSIGN_OR_RETURN(int64_t gpcs, csv.Int("Mig instance"));
  auto it = kProfiles.find(gpcs);
  if (it == kProfiles.end()) {
    return csv.Error("Mig instance", fmt::format("expected a MIG size of 1, 2, 3, 4 or 7 GPCs (an "
                                                 "A100-80GB instance), found {}",
                                                 gpcs));
  }
  return it->second;
}

absl::StatusOr<int> ReadCount(const CsvRow& csv, std::string_view column) {
  ASSIGN_OR_RETURN(int64_t value, csv.Int(column));
  if (value < 1 || value > 1'000'000) {
    return csv.Error(column, fmt::format("must be an integer of at least 1, found {}", value));
  }
  return static_cast<int>(value);
}

// What one file contributed, for the notes.
struct FileCounts {
  int skipped = 0;         // `0,0`
  int coarse_latency = 0;  // `Latency` disagrees with batch / Throughput beyond its rounding
};

// Reads one measured row, or nullopt for a `0,0` row.
absl::StatusOr<std::optional<ProfileRow>> ParseRow(const CsvRow& csv, const ProfileKey& base,
                                                   FileCounts& counts) {
  ProfileRow row;
  row.key = base;
  ASSIGN_OR_RETURN(std::string profile, ProfileForGpcs(csv));
  row.key.partition = hw::Partition::Mig(profile);
  ASSIGN_OR_RETURN(row.key.batch, ReadCount(csv, "Batch size"));
  ASSIGN_OR_RETURN(row.key.procs, ReadCount(csv, "Workload Number"));
  ASSIGN_OR_RETURN(double throughput, csv.Double("Throughput"));
  ASSIGN_OR_RETURN(double latency_s, csv.Double("Latency"));
  if (throughput == 0 && latency_s == 0) {
    ++counts.skipped;
    return std::optional<ProfileRow>();
  }
  if (!(throughput > 0)) {
    return csv.Error("Throughput", fmt::format("must be positive (0,0 with Latency marks a "
                                               "configuration that did not run), found {}",
                                               throughput));
  }
  if (!(latency_s > 0)) {
    return csv.Error("Latency", fmt::format("must be positive (0,0 with Throughput marks a "
                                            "configuration that did not run), found {}",
                                            latency_s));
  }
  row.latency_ms = Round(row.key.batch * 1000.0 / throughput, kLatencyDecimals);
  if (std::abs(latency_s * 1000 - row.latency_ms) > 0.5 + 0.02 * row.latency_ms) {
    ++counts.coarse_latency;
  }
  return std::optional<ProfileRow>(std::move(row));
}

absl::StatusOr<const models::ModelInfo*> ModelOfFile(const std::string& path,
                                                     const models::ModelRegistry& registry) {
  std::string stem = std::filesystem::path(path).stem().string();
  absl::StatusOr<const models::ModelInfo*> model = registry.Find(stem);
  if (!model.ok()) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: ParvaGPU names the model by its file name, and '{}' is not in the model registry: "
        "{}; add it as an alias in data/models",
        path, stem, std::string(model.status().message())));
  }
  return *model;
}

// Imports one file into `result`; returns what it contributed.
absl::StatusOr<FileCounts> ImportFile(const std::string& path, const hw::GpuModel& gpu,
                                      const models::ModelRegistry& registry, ImportResult& result) {
  ASSIGN_OR_RETURN(const models::ModelInfo* model, ModelOfFile(path, registry));
  ProfileKey base;
  base.gpu = gpu.name;
  base.model = model->name;
  base.input = model->input_unit == models::InputUnit::kTokens ? kSequenceTokens : kImageSide;
  absl::Status input_ok = CheckInput(*model, base.input);
  if (!input_ok.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", path, std::string(input_ok.message())));
  }
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
  RETURN_IF_ERROR(reader.RequireColumns(
      {"Mig instance", "Batch size", "Workload Number", "Throughput", "Latency"}));
  FileCounts counts;
  CsvRow csv;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(csv));
    if (!more) break;
    ASSIGN_OR_RETURN(std::optional<ProfileRow> row, ParseRow(csv, base, counts));
    if (!row) continue;
    absl::Status legal = hw::CheckPartition(gpu, row->key.partition);
    if (!legal.ok()) return csv.Error("Mig instance", std::string(legal.message()));
    RETURN_IF_ERROR(AddRow(result.table, *std::move(row), csv, path));
  }
  if (model->input_unit == models::InputUnit::kTokens) {
    result.notes.push_back(fmt::format(
        "{}: mapped to {} at {} tokens, with doubt: ParvaGPU's script builds this model from a "
        "config named bert/large.json (not in its repository), yet 135 sequences/s at batch 128 "
        "on 1g.10gb (MIGProfiler's BERT-base: 93) is implausible for BERT-large (3x the FLOPs)",
        BaseName(path), model->name, kSequenceTokens));
  }
  return counts;
}

// One note per kind of skipped or doubtful row, listing the files.
void AddCountNotes(const std::map<std::string, FileCounts>& counts,
                   std::vector<std::string>& notes) {
  std::vector<std::string> skipped, coarse;
  int total_skipped = 0;
  for (const auto& [name, c] : counts) {
    if (c.skipped > 0) skipped.push_back(fmt::format("{} {}", name, c.skipped));
    if (c.coarse_latency > 0) coarse.push_back(fmt::format("{} {}", name, c.coarse_latency));
    total_skipped += c.skipped;
  }
  if (!skipped.empty()) {
    notes.push_back(fmt::format(
        "{} rows '0,0' skipped (configurations that did not run, e.g. out of memory): {}",
        total_skipped, fmt::join(skipped, ", ")));
  }
  if (!coarse.empty()) {
    notes.push_back(fmt::format(
        "rows whose Latency differs from batch / Throughput by more than its 1 ms rounding "
        "(batch / Throughput kept): {}",
        fmt::join(coarse, ", ")));
  }
}

}  // namespace

absl::StatusOr<ImportResult> ImportParvaGpu(const std::string& path, const hw::Catalog& catalog,
                                            const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, CsvFilesAt(path));
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, catalog.Find(kGpu));
  ImportResult result;
  result.notes.push_back(
      fmt::format("GPU {}; Mig instance 1/2/3/4/7 GPCs -> 1g.10gb/2g.20gb/3g.40gb/4g.40gb/7g.80gb; "
                  "Workload Number -> procs",
                  gpu->name));
  result.notes.push_back(
      "latency_ms = batch x 1000 / Throughput (per MPS process), rounded to 0.0001 ms; the "
      "Latency column (rounded to 1 ms) is only cross-checked");
  result.notes.push_back(
      fmt::format("input = {} px for image models and {} tokens for BERT, as ParvaGPU's "
                  "scripts/dl_infer_runtime.py feeds them; memory unknown (no memory column)",
                  kImageSide, kSequenceTokens));
  std::map<std::string, FileCounts> counts;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(counts[BaseName(file)], ImportFile(file, *gpu, registry, result));
  }
  AddCountNotes(counts, result.notes);
  return result;
}

}  // namespace tessera::perf::internal
