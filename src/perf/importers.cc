// ImportProfiles: picks the importer by name; the helpers the importers share; and the importer of
// tessera's own H100 SM-partition table.
#include "tessera/perf/importers.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

#include "fmt/core.h"
#include "internal/checks.h"
#include "internal/importers.h"
#include "tessera/base/status.h"

namespace tessera::perf {
namespace internal {
namespace {

namespace fs = std::filesystem;

// "img224" -> 224 pixels, "seq128" -> 128 tokens; the unit must be the model's.
absl::StatusOr<int> ParseH100Input(const CsvRow& csv, const models::ModelInfo& model) {
  ASSIGN_OR_RETURN(std::string_view text, csv.Text("input"));
  models::InputUnit unit = models::InputUnit::kPixels;
  std::string_view digits;
  if (text.rfind("img", 0) == 0) {
    digits = text.substr(3);
  } else if (text.rfind("seq", 0) == 0) {
    unit = models::InputUnit::kTokens;
    digits = text.substr(3);
  }
  int value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return csv.Error("input", fmt::format("expected imgN (image side N px) or seqN (N tokens), "
                                          "found '{}'",
                                          text));
  }
  if (unit != model.input_unit) {
    return csv.Error("input",
                     fmt::format("'{}' is in {} but {} takes {}", text, models::InputUnitName(unit),
                                 model.name, models::InputUnitName(model.input_unit)));
  }
  absl::Status ok = CheckInput(model, value);
  if (!ok.ok()) return csv.Error("input", std::string(ok.message()));
  return value;
}

absl::StatusOr<ProfileRow> ParseH100Row(const CsvRow& csv, const hw::Catalog& catalog,
                                        const models::ModelRegistry& registry) {
  ProfileRow row;
  ASSIGN_OR_RETURN(std::string_view gpu_name, csv.Text("gpu"));
  absl::StatusOr<const hw::GpuModel*> gpu = catalog.Find(gpu_name);
  if (!gpu.ok()) return csv.Error("gpu", std::string(gpu.status().message()));
  row.key.gpu = (*gpu)->name;
  ASSIGN_OR_RETURN(int64_t sms, csv.Int("sms"));
  if (sms < 1) return csv.Error("sms", fmt::format("must be positive, found {}", sms));
  row.key.partition = hw::Partition::Sm(static_cast<int>(sms));
  absl::Status legal = hw::CheckPartition(**gpu, row.key.partition);
  if (!legal.ok()) return csv.Error("sms", std::string(legal.message()));
  ASSIGN_OR_RETURN(std::string_view model_name, csv.Text("model"));
  absl::StatusOr<const models::ModelInfo*> model = registry.Find(model_name);
  if (!model.ok()) return csv.Error("model", std::string(model.status().message()));
  row.key.model = (*model)->name;
  ASSIGN_OR_RETURN(row.key.input, ParseH100Input(csv, **model));
  ASSIGN_OR_RETURN(int64_t batch, csv.Int("batch"));
  if (batch < 1) return csv.Error("batch", fmt::format("must be at least 1, found {}", batch));
  row.key.batch = static_cast<int>(batch);
  ASSIGN_OR_RETURN(row.latency_ms, csv.Double("latency_ms_p50"));
  ASSIGN_OR_RETURN(row.latency_ms_p90, csv.Double("latency_ms_p90"));
  ASSIGN_OR_RETURN(row.memory_mib, csv.OptionalDouble("peak_memory_mib"));
  return row;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> CsvFilesAt(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return std::vector<std::string>{path};
  if (!fs::is_directory(path, ec)) {
    return absl::NotFoundError(fmt::format("{}: no such file or folder; check the path", path));
  }
  std::vector<std::string> files;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".csv" && it->is_regular_file(ec)) {
      files.push_back(it->path().string());
    }
  }
  if (ec) return absl::UnavailableError(fmt::format("{}: cannot list: {}", path, ec.message()));
  if (files.empty()) {
    return absl::InvalidArgumentError(fmt::format("{}: no *.csv files in this folder", path));
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string BaseName(const std::string& path) { return fs::path(path).filename().string(); }

absl::Status AddRow(ProfileTable& table, ProfileRow row, const CsvRow& csv,
                    const std::string& path) {
  absl::Status added = table.Add(std::move(row));
  if (added.ok()) return added;
  return absl::InvalidArgumentError(
      fmt::format("{}:{}: {}", path, csv.line(), std::string(added.message())));
}

absl::StatusOr<ImportResult> ImportH100Sm(const std::string& path, const hw::Catalog& catalog,
                                          const models::ModelRegistry& registry) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: is a folder; the h100-sm format reads one file, the dataset's profiles.csv", path));
  }
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
  RETURN_IF_ERROR(reader.RequireColumns({"gpu", "sms", "model", "input", "batch", "latency_ms_p50",
                                         "latency_ms_p90", "peak_memory_mib"}));
  ImportResult result;
  CsvRow csv;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(csv));
    if (!more) break;
    ASSIGN_OR_RETURN(ProfileRow row, ParseH100Row(csv, catalog, registry));
    RETURN_IF_ERROR(AddRow(result.table, std::move(row), csv, path));
  }
  result.notes.push_back(
      "latency_ms = latency_ms_p50 and latency_ms_p90 kept (CUDA-graph replays); latency_ms_min "
      "and iterations not imported");
  result.notes.push_back(
      "memory_mib = peak_memory_mib (peak PyTorch allocation, already without the CUDA context)");
  result.notes.push_back(
      "sm:N = a green context of N SMs; sm:132 is the whole H100 (MIG disabled)");
  return result;
}

}  // namespace internal

absl::StatusOr<ImportResult> ImportProfiles(const std::string& format, const std::string& path,
                                            const hw::Catalog& catalog,
                                            const models::ModelRegistry& registry) {
  if (format == "parvagpu") return internal::ImportParvaGpu(path, catalog, registry);
  if (format == "migprofiler") return internal::ImportMigProfiler(path, catalog, registry);
  if (format == "h100-sm") return internal::ImportH100Sm(path, catalog, registry);
  return absl::InvalidArgumentError(
      fmt::format("unknown profile format '{}'; formats: parvagpu, migprofiler, h100-sm", format));
}

}  // namespace tessera::perf
