// Reading and writing the canonical profile CSV (docs/formats.md, "Profiles").
#include <algorithm>
#include <map>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/checks.h"
#include "tessera/base/csv.h"
#include "tessera/base/status.h"
#include "tessera/perf/profiles.h"

namespace tessera::perf {
namespace {

constexpr std::string_view kColumns[] = {
    "gpu",        "partition",      "model",          "input",      "batch", "procs",
    "latency_ms", "latency_ms_p90", "latency_ms_p99", "memory_mib", "source"};

absl::Status CheckHeader(const CsvReader& reader) {
  RETURN_IF_ERROR(reader.RequireColumns(
      {"gpu", "partition", "model", "input", "batch", "latency_ms", "memory_mib", "source"}));
  for (const std::string& column : reader.header()) {
    if (std::find(std::begin(kColumns), std::end(kColumns), column) == std::end(kColumns)) {
      return absl::InvalidArgumentError(fmt::format(
          "{}:1: unknown column '{}'; a profile table has the columns {} (see docs/formats.md)",
          reader.source_name(), column, fmt::join(kColumns, ",")));
    }
  }
  return absl::OkStatus();
}

// Wraps a location-free message as an error at `column` of `row`.
absl::Status At(const CsvRow& row, std::string_view column, const absl::Status& status) {
  return row.Error(column, std::string(status.message()));
}

// Turns the text fields of one row into a checked ProfileRow with canonical names.
class RowParser {
 public:
  RowParser(const hw::Catalog& catalog, const models::ModelRegistry& registry)
      : catalog_(catalog), registry_(registry) {}

  absl::StatusOr<ProfileRow> Parse(const CsvRow& csv) const {
    ProfileRow row;
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, ParseGpu(csv));
    row.key.gpu = gpu->name;
    ASSIGN_OR_RETURN(row.key.partition, ParsePartitionOn(csv, *gpu));
    ASSIGN_OR_RETURN(const models::ModelInfo* model, ParseModel(csv));
    row.key.model = model->name;
    ASSIGN_OR_RETURN(row.key.input, ParseInput(csv, *model));
    ASSIGN_OR_RETURN(row.key.batch, ParseCount(csv, "batch"));
    ASSIGN_OR_RETURN(row.key.procs, ParseCount(csv, "procs"));
    ASSIGN_OR_RETURN(row.latency_ms, ParsePositive(csv, "latency_ms"));
    ASSIGN_OR_RETURN(row.latency_ms_p90, ParseOptionalPositive(csv, "latency_ms_p90"));
    ASSIGN_OR_RETURN(row.latency_ms_p99, ParseOptionalPositive(csv, "latency_ms_p99"));
    ASSIGN_OR_RETURN(row.memory_mib, ParseMemory(csv));
    ASSIGN_OR_RETURN(std::string_view source, csv.Text("source"));
    absl::StatusOr<ProfileSource> parsed = ParseProfileSource(source);
    if (!parsed.ok()) return At(csv, "source", parsed.status());
    row.source = *parsed;
    return row;
  }

 private:
  absl::StatusOr<const hw::GpuModel*> ParseGpu(const CsvRow& csv) const {
    ASSIGN_OR_RETURN(std::string_view text, csv.Text("gpu"));
    absl::StatusOr<const hw::GpuModel*> gpu = catalog_.Find(text);
    if (!gpu.ok()) return At(csv, "gpu", gpu.status());
    return *gpu;
  }

  static absl::StatusOr<hw::Partition> ParsePartitionOn(const CsvRow& csv,
                                                        const hw::GpuModel& gpu) {
    ASSIGN_OR_RETURN(std::string_view text, csv.Text("partition"));
    absl::StatusOr<hw::Partition> partition = hw::ParsePartition(text);
    if (!partition.ok()) return At(csv, "partition", partition.status());
    absl::Status legal = hw::CheckPartition(gpu, *partition);
    if (!legal.ok()) return At(csv, "partition", legal);
    return *partition;
  }

  absl::StatusOr<const models::ModelInfo*> ParseModel(const CsvRow& csv) const {
    ASSIGN_OR_RETURN(std::string_view text, csv.Text("model"));
    absl::StatusOr<const models::ModelInfo*> model = registry_.Find(text);
    if (!model.ok()) return At(csv, "model", model.status());
    return *model;
  }

  static absl::StatusOr<int> ParseInput(const CsvRow& csv, const models::ModelInfo& model) {
    ASSIGN_OR_RETURN(int64_t input, csv.Int("input"));
    absl::Status ok = internal::CheckInput(model, input);
    if (!ok.ok()) return At(csv, "input", ok);
    return static_cast<int>(input);
  }

  // A count of at least 1; `procs` may be absent or empty (1).
  static absl::StatusOr<int> ParseCount(const CsvRow& csv, std::string_view column) {
    ASSIGN_OR_RETURN(std::optional<int64_t> value, csv.OptionalInt(column));
    if (!value) {
      if (column == "procs") return 1;
      return csv.Error(column, "field is empty; an integer of at least 1 is required");
    }
    if (*value < 1 || *value > 1'000'000) {
      return csv.Error(column, fmt::format("must be an integer of at least 1, found {}", *value));
    }
    return static_cast<int>(*value);
  }

  static absl::StatusOr<double> ParsePositive(const CsvRow& csv, std::string_view column) {
    ASSIGN_OR_RETURN(double value, csv.Double(column));
    if (!(value > 0)) return csv.Error(column, fmt::format("must be positive, found {}", value));
    return value;
  }

  static absl::StatusOr<std::optional<double>> ParseOptionalPositive(const CsvRow& csv,
                                                                     std::string_view column) {
    ASSIGN_OR_RETURN(std::optional<double> value, csv.OptionalDouble(column));
    if (value && !(*value > 0)) {
      return csv.Error(column, fmt::format("must be positive (or empty), found {}", *value));
    }
    return value;
  }

  static absl::StatusOr<std::optional<double>> ParseMemory(const CsvRow& csv) {
    ASSIGN_OR_RETURN(std::optional<double> value, csv.OptionalDouble("memory_mib"));
    if (value && *value < 0) {
      return csv.Error(
          "memory_mib",
          fmt::format("must not be negative (leave it empty if unknown), found {}", *value));
    }
    return value;
  }

  const hw::Catalog& catalog_;
  const models::ModelRegistry& registry_;
};

absl::StatusOr<ProfileTable> ReadTable(CsvReader& reader, const hw::Catalog& catalog,
                                       const models::ModelRegistry& registry) {
  RETURN_IF_ERROR(CheckHeader(reader));
  RowParser parser(catalog, registry);
  ProfileTable table;
  std::map<ProfileKey, int64_t> lines;
  CsvRow csv;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(csv));
    if (!more) break;
    ASSIGN_OR_RETURN(ProfileRow row, parser.Parse(csv));
    auto [it, inserted] = lines.try_emplace(row.key, csv.line());
    if (!inserted) {
      return absl::InvalidArgumentError(fmt::format(
          "{}:{}: duplicate row: {} is already on line {}; keep one row per configuration",
          reader.source_name(), csv.line(), row.key.ToString(), it->second));
    }
    absl::Status added = table.Add(std::move(row));
    if (!added.ok()) return At(csv, "latency_ms", added);
  }
  return table;
}

std::string Number(const std::optional<double>& value) {
  return value ? fmt::format("{}", *value) : "";
}

}  // namespace

absl::StatusOr<ProfileTable> LoadProfileCsv(const std::string& path, const hw::Catalog& catalog,
                                            const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
  return ReadTable(reader, catalog, registry);
}

absl::StatusOr<ProfileTable> ParseProfileCsv(std::string text, std::string source_name,
                                             const hw::Catalog& catalog,
                                             const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(CsvReader reader,
                   CsvReader::FromString(std::move(text), std::move(source_name)));
  return ReadTable(reader, catalog, registry);
}

void WriteProfileCsv(const ProfileTable& table, std::ostream& out) {
  bool p90 = false, p99 = false;
  for (const auto& [key, row] : table.rows()) {
    p90 = p90 || row.latency_ms_p90.has_value();
    p99 = p99 || row.latency_ms_p99.has_value();
  }
  out << "gpu,partition,model,input,batch,procs,latency_ms" << (p90 ? ",latency_ms_p90" : "")
      << (p99 ? ",latency_ms_p99" : "") << ",memory_mib,source\n";
  for (const auto& [key, row] : table.rows()) {
    out << fmt::format("{},{},{},{},{},{},{}", key.gpu, key.partition.ToString(), key.model,
                       key.input, key.batch, key.procs, row.latency_ms);
    if (p90) out << "," << Number(row.latency_ms_p90);
    if (p99) out << "," << Number(row.latency_ms_p99);
    out << "," << Number(row.memory_mib) << "," << ProfileSourceName(row.source) << "\n";
  }
}

}  // namespace tessera::perf
