// Measured rows as JSON, for what saved predictors list: the table predictor's "rows" and the
// "training" list `tessera profiles fit` adds (predictor.h, RowsToJson / RowsFromJson).
#include <string>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "internal/features.h"
#include "tessera/base/status.h"
#include "tessera/hw/partition.h"
#include "tessera/predict/predictor.h"

namespace tessera::predict {
namespace {

// An optional number that may also be absent (older "training" lists omit unknown tails).
absl::StatusOr<std::optional<double>> MaybeNumber(const nlohmann::json& item,
                                                  const std::string& path, std::string_view key) {
  if (!item.contains(std::string(key))) return std::optional<double>();
  return internal::OptionalNumberField(item, path, key);
}

absl::StatusOr<perf::ProfileRow> RowFromJson(const nlohmann::json& item, const std::string& path,
                                             const hw::GpuModel& gpu,
                                             const models::ModelRegistry& registry) {
  using internal::FieldError;
  perf::ProfileRow row;
  row.key.gpu = gpu.name;
  ASSIGN_OR_RETURN(std::string partition, internal::StringField(item, path, "partition"));
  absl::StatusOr<hw::Partition> parsed = hw::ParsePartition(partition);
  if (!parsed.ok()) return FieldError(path + ".partition", std::string(parsed.status().message()));
  if (absl::Status status = hw::CheckPartition(gpu, *parsed); !status.ok()) {
    return FieldError(path + ".partition", std::string(status.message()));
  }
  row.key.partition = *parsed;
  ASSIGN_OR_RETURN(std::string model, internal::StringField(item, path, "model"));
  absl::StatusOr<const models::ModelInfo*> info = registry.Find(model);
  if (!info.ok()) return FieldError(path + ".model", std::string(info.status().message()));
  row.key.model = (*info)->name;
  ASSIGN_OR_RETURN(row.key.input, internal::CountField(item, path, "input"));
  ASSIGN_OR_RETURN(row.key.batch, internal::CountField(item, path, "batch"));
  ASSIGN_OR_RETURN(row.key.procs, internal::CountField(item, path, "procs"));
  ASSIGN_OR_RETURN(row.latency_ms, internal::NumberField(item, path, "latency_ms"));
  if (row.latency_ms <= 0) return FieldError(path + ".latency_ms", "must be positive");
  ASSIGN_OR_RETURN(row.latency_ms_p90, MaybeNumber(item, path, "latency_ms_p90"));
  ASSIGN_OR_RETURN(row.latency_ms_p99, MaybeNumber(item, path, "latency_ms_p99"));
  ASSIGN_OR_RETURN(row.memory_mib, MaybeNumber(item, path, "memory_mib"));
  if (row.latency_ms_p90 && *row.latency_ms_p90 <= 0) {
    return FieldError(path + ".latency_ms_p90", "must be positive or null");
  }
  if (row.latency_ms_p99 && *row.latency_ms_p99 <= 0) {
    return FieldError(path + ".latency_ms_p99", "must be positive or null");
  }
  if (row.memory_mib && *row.memory_mib < 0) {
    return FieldError(path + ".memory_mib", "must not be negative (null when unknown)");
  }
  return row;
}

}  // namespace

nlohmann::json RowsToJson(const std::vector<perf::ProfileRow>& rows) {
  auto optional = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  nlohmann::json out = nlohmann::json::array();
  for (const perf::ProfileRow& row : rows) {
    out.push_back({{"partition", row.key.partition.ToString()},
                   {"model", row.key.model},
                   {"input", row.key.input},
                   {"batch", row.key.batch},
                   {"procs", row.key.procs},
                   {"latency_ms", row.latency_ms},
                   {"latency_ms_p90", optional(row.latency_ms_p90)},
                   {"latency_ms_p99", optional(row.latency_ms_p99)},
                   {"memory_mib", optional(row.memory_mib)}});
  }
  return out;
}

absl::StatusOr<std::vector<perf::ProfileRow>> RowsFromJson(const nlohmann::json& list,
                                                           std::string_view path,
                                                           const hw::GpuModel& gpu,
                                                           const models::ModelRegistry& registry) {
  if (!list.is_array()) return internal::FieldError(path, "expected an array of rows");
  std::vector<perf::ProfileRow> rows;
  rows.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    ASSIGN_OR_RETURN(perf::ProfileRow row,
                     RowFromJson(list[i], fmt::format("{}[{}]", path, i), gpu, registry));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace tessera::predict
