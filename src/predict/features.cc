// Shared pieces of the predictors: training-row selection, key checks, descriptors at an input
// size, the learned feature vector and saved-document field readers.
#include "internal/features.h"

#include <algorithm>
#include <cmath>

#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/hw/partition.h"

namespace tessera::predict::internal {
namespace {

std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::optional<double> Median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// What perf::ProfileTable::Add checks, and what CheckKey checks of a key, for a training row:
// InvalidArgument naming the row's key and the bad field.
absl::Status CheckTrainingRow(const PredictorInputs& inputs, const hw::GpuModel& gpu,
                              const perf::ProfileRow& row) {
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(fmt::format(
        "training row {}: {}; fix or drop the row in the profile table", row.key.ToString(), what));
  };
  if (!std::isfinite(row.latency_ms) || row.latency_ms <= 0) {
    return bad(fmt::format("latency_ms {} is not a finite positive number", row.latency_ms));
  }
  auto positive_or_unknown = [](const std::optional<double>& v) {
    return !v || (std::isfinite(*v) && *v > 0);
  };
  if (!positive_or_unknown(row.latency_ms_p90)) return bad("latency_ms_p90 is not finite positive");
  if (!positive_or_unknown(row.latency_ms_p99)) return bad("latency_ms_p99 is not finite positive");
  if (row.memory_mib && (!std::isfinite(*row.memory_mib) || *row.memory_mib < 0)) {
    return bad("memory_mib is negative or not finite");
  }
  absl::StatusOr<const models::ModelInfo*> checked = CheckKey(inputs, gpu, row.key);
  if (!checked.ok()) return bad(std::string(checked.status().message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainingSet> SelectTraining(const PredictorInputs& inputs,
                                           const std::vector<perf::ProfileRow>& rows,
                                           size_t min_rows, std::string_view predictor) {
  TrainingSet set;
  for (const perf::ProfileRow& row : rows) {
    if (row.source != perf::ProfileSource::kMeasured &&
        row.source != perf::ProfileSource::kStandIn) {
      continue;
    }
    if (set.gpu == nullptr) {
      ASSIGN_OR_RETURN(set.gpu, inputs.catalog->Find(row.key.gpu));
    } else if (!set.gpu->Matches(row.key.gpu)) {
      return absl::InvalidArgumentError(
          fmt::format("the training rows name two GPUs, {} and {}; fit one predictor per GPU",
                      set.gpu->name, row.key.gpu));
    }
    RETURN_IF_ERROR(inputs.registry->Find(row.key.model).status());
    RETURN_IF_ERROR(CheckTrainingRow(inputs, *set.gpu, row));
    set.rows.push_back(row);
  }
  if (set.rows.size() < min_rows) {
    return absl::InvalidArgumentError(
        fmt::format("the {} predictor needs at least {} measured or stand-in rows to fit, got {}",
                    predictor, min_rows, set.rows.size()));
  }
  return set;
}

absl::StatusOr<const models::ModelInfo*> CheckKey(const PredictorInputs& inputs,
                                                  const hw::GpuModel& gpu,
                                                  const perf::ProfileKey& key) {
  if (!gpu.Matches(key.gpu)) {
    return absl::InvalidArgumentError(
        fmt::format("{}: the predictor was fitted on {}, not {}; fit one on that GPU's rows",
                    key.ToString(), gpu.name, key.gpu));
  }
  if (absl::Status status = hw::CheckPartition(gpu, key.partition); !status.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: partition {}: {}", key.ToString(),
                                                  key.partition.ToString(),
                                                  std::string(status.message())));
  }
  if (key.batch < 1 || key.procs < 1 || key.input < 1) {
    return absl::InvalidArgumentError(
        fmt::format("{}: batch, procs and input must be at least 1", key.ToString()));
  }
  absl::StatusOr<const models::ModelInfo*> model = inputs.registry->Find(key.model);
  if (!model.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: model {}: {}", key.ToString(), key.model,
                                                  std::string(model.status().message())));
  }
  if (key.input > (*model)->max_input) {
    return absl::InvalidArgumentError(fmt::format("{}: input {} is above {}'s maximum {}",
                                                  key.ToString(), key.input, (*model)->name,
                                                  (*model)->max_input));
  }
  return *model;
}

absl::StatusOr<Descriptors> DescriptorsAt(const models::ModelInfo& model, int input) {
  auto missing = [&](std::string_view field) {
    return absl::InvalidArgumentError(fmt::format(
        "model {} has no {} descriptor; add it to its file in data/models (docs/formats.md)",
        model.name, field));
  };
  if (!model.gflops_per_item) return missing("gflops_per_item");
  if (!model.params_millions) return missing("params_millions");
  if (!model.activation_mb_per_item) return missing("activation_mb_per_item");
  double scale = 1;
  if (input != model.reference_input) {
    if (!model.input_flops_exponent) return missing("input_flops_exponent");
    scale =
        std::pow(static_cast<double>(input) / model.reference_input, *model.input_flops_exponent);
  }
  Descriptors d;
  d.gflops_per_item = *model.gflops_per_item * scale;
  d.activation_mb = *model.activation_mb_per_item * scale;
  d.params_millions = *model.params_millions;
  d.weights_mb = *model.params_millions * 2;
  const std::vector<std::string_view>& families = models::ModelFamilies();
  d.family = static_cast<int>(std::find(families.begin(), families.end(), model.family) -
                              families.begin());
  return d;
}

const std::vector<std::string>& FeatureNames() {
  static const std::vector<std::string>* const kNames =
      new std::vector<std::string>{"log_batch",
                                   "log_input_over_reference",
                                   "log_sms",
                                   "compute_fraction",
                                   "bandwidth_fraction",
                                   "log_gflops_per_item",
                                   "log_params",
                                   "log_activation_mb",
                                   "family_cnn",
                                   "family_encoder",
                                   "family_decoder",
                                   "procs",
                                   "log_roofline_ms",
                                   "log_batch_gflops",
                                   "log_batch_gflops_per_sm",
                                   "log_batch_bytes_per_bandwidth",
                                   "log_input",
                                   "log_compute_ms",
                                   "log_memory_ms"};
  return *kNames;
}

// Constrained: the axes themselves (batch, input and SMs, and the compute share that moves with
// the SMs). The derived features (products with batch, roofline times) are left free: the trees
// learn a correction to a monotone baseline, and that correction is U-shaped along batch (the
// baseline is low both below and far above the knee), which constraining every feature that moves
// with batch forbids (A100 grid: 8.3% MAPE against 7.3%).
const std::vector<int>& FeatureMonotonicity() {
  static const std::vector<int>* const kSigns =
      new std::vector<int>{+1, +1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  return *kSigns;
}

absl::StatusOr<std::vector<float>> Features(const hw::GpuModel& gpu, const models::ModelInfo& model,
                                            const perf::ProfileKey& key) {
  ASSIGN_OR_RETURN(PartitionShare share, ShareOf(gpu, key.partition));
  ASSIGN_OR_RETURN(Descriptors d, DescriptorsAt(model, key.input));
  ASSIGN_OR_RETURN(double roofline_ms, RooflineMs(gpu, model, key));
  double batch = key.batch, procs = key.procs;
  double compute_ms =
      batch * d.gflops_per_item * procs / (share.compute_fraction * *gpu.peak_fp16_dense_tflops);
  double memory_ms = (d.weights_mb + batch * d.activation_mb) * procs /
                     (share.bandwidth_fraction * *gpu.memory_bandwidth_gbps);
  std::vector<double> f = {std::log(batch),
                           std::log(static_cast<double>(key.input) / model.reference_input),
                           std::log(static_cast<double>(share.sms)),
                           share.compute_fraction,
                           share.bandwidth_fraction,
                           std::log(d.gflops_per_item),
                           std::log(d.params_millions),
                           std::log(d.activation_mb),
                           d.family == 0 ? 1.0 : 0.0,
                           d.family == 1 ? 1.0 : 0.0,
                           d.family == 2 ? 1.0 : 0.0,
                           procs,
                           std::log(roofline_ms),
                           std::log(batch * d.gflops_per_item),
                           std::log(batch * d.gflops_per_item / share.sms),
                           std::log(batch * d.activation_mb / share.bandwidth_fraction),
                           std::log(static_cast<double>(key.input)),
                           std::log(compute_ms),
                           std::log(memory_ms)};
  return std::vector<float>(f.begin(), f.end());
}

TailRatios FitTailRatios(const std::vector<perf::ProfileRow>& rows) {
  std::vector<double> p90, p99;
  for (const perf::ProfileRow& row : rows) {
    if (row.latency_ms_p90) p90.push_back(*row.latency_ms_p90 / row.latency_ms);
    if (row.latency_ms_p99) p99.push_back(*row.latency_ms_p99 / row.latency_ms);
  }
  return {Median(p90), Median(p99)};
}

void ApplyTailRatios(const TailRatios& ratios, Prediction& prediction) {
  if (ratios.p90) prediction.latency_ms_p90 = prediction.latency_ms * *ratios.p90;
  if (ratios.p99) prediction.latency_ms_p99 = prediction.latency_ms * *ratios.p99;
}

nlohmann::json TailRatiosToJson(const TailRatios& ratios) {
  nlohmann::json out = nlohmann::json::object();
  out["p90"] = ratios.p90 ? nlohmann::json(*ratios.p90) : nlohmann::json(nullptr);
  out["p99"] = ratios.p99 ? nlohmann::json(*ratios.p99) : nlohmann::json(nullptr);
  return out;
}

absl::Status FieldError(std::string_view path, std::string_view message) {
  return absl::InvalidArgumentError(
      fmt::format("predictor model: field {}: {} (docs/formats.md, \"Predictor model\"; refit "
                  "with `tessera profiles fit` if the file is damaged)",
                  path, message));
}

absl::StatusOr<const nlohmann::json*> Field(const nlohmann::json& object, std::string_view path,
                                            std::string_view key) {
  if (!object.is_object())
    return FieldError(path.empty() ? "(top level)" : path, "expected an object");
  auto it = object.find(std::string(key));
  if (it == object.end()) return FieldError(Join(path, key), "missing");
  return &*it;
}

absl::StatusOr<double> NumberField(const nlohmann::json& object, std::string_view path,
                                   std::string_view key) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(object, path, key));
  if (!value->is_number()) return FieldError(Join(path, key), "expected a number");
  double number = value->get<double>();
  if (!std::isfinite(number)) return FieldError(Join(path, key), "expected a finite number");
  return number;
}

absl::StatusOr<int> CountField(const nlohmann::json& object, std::string_view path,
                               std::string_view key) {
  ASSIGN_OR_RETURN(double number, NumberField(object, path, key));
  if (number < 1 || number > 1e6 || number != std::floor(number)) {
    return FieldError(Join(path, key), "expected an integer from 1 to 1000000");
  }
  return static_cast<int>(number);
}

absl::StatusOr<std::optional<double>> OptionalNumberField(const nlohmann::json& object,
                                                          std::string_view path,
                                                          std::string_view key) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(object, path, key));
  if (value->is_null()) return std::optional<double>();
  ASSIGN_OR_RETURN(double number, NumberField(object, path, key));
  return std::optional<double>(number);
}

absl::StatusOr<std::string> StringField(const nlohmann::json& object, std::string_view path,
                                        std::string_view key) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(object, path, key));
  if (!value->is_string()) return FieldError(Join(path, key), "expected a string");
  return value->get<std::string>();
}

absl::StatusOr<const nlohmann::json*> ArrayField(const nlohmann::json& object,
                                                 std::string_view path, std::string_view key) {
  ASSIGN_OR_RETURN(const nlohmann::json* value, Field(object, path, key));
  if (!value->is_array()) return FieldError(Join(path, key), "expected an array");
  return value;
}

absl::StatusOr<TailRatios> TailRatiosFromJson(const nlohmann::json& object, std::string_view path,
                                              std::string_view key) {
  ASSIGN_OR_RETURN(const nlohmann::json* tails, Field(object, path, key));
  std::string at = Join(path, key);
  TailRatios ratios;
  ASSIGN_OR_RETURN(ratios.p90, OptionalNumberField(*tails, at, "p90"));
  ASSIGN_OR_RETURN(ratios.p99, OptionalNumberField(*tails, at, "p99"));
  return ratios;
}

nlohmann::json SaveHeader(std::string_view predictor, const hw::GpuModel& gpu) {
  return {{"format", "tessera-predictor"},
          {"version", 1},
          {"predictor", std::string(predictor)},
          {"gpu", gpu.name}};
}

absl::StatusOr<const hw::GpuModel*> LoadGpu(const nlohmann::json& saved,
                                            const PredictorInputs& inputs) {
  ASSIGN_OR_RETURN(std::string name, StringField(saved, "", "gpu"));
  return inputs.catalog->Find(name);
}

}  // namespace tessera::predict::internal
