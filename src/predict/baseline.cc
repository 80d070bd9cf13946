// The learned predictor's physical baseline (internal/baseline.h).
#include "internal/baseline.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::predict::internal {
namespace {

using Coefficients = LinearBaseline::Coefficients;
constexpr int kTerms = LinearBaseline::kTerms;
constexpr const char* kTermNames[kTerms] = {"launch_ms", "per_sm_ms", "compute_factor",
                                            "memory_factor", "attention_factor"};
// Rows a model (or family) needs for coefficients of its own (4 predicted the H100 grid best at a
// 15% budget: 6.7% MAPE against 7.3% for 3 or 5; bench/predictor_quick).
constexpr size_t kMinRowsPerScope = 4;

struct Sample {
  Coefficients terms;
  double latency_ms;
};

absl::StatusOr<Coefficients> Terms(const hw::GpuModel& gpu, const models::ModelInfo& model,
                                   const perf::ProfileKey& key) {
  ASSIGN_OR_RETURN(PartitionShare share, ShareOf(gpu, key.partition));
  ASSIGN_OR_RETURN(Descriptors d, DescriptorsAt(model, key.input));
  if (!gpu.peak_fp16_dense_tflops || !gpu.memory_bandwidth_gbps) {
    return absl::InvalidArgumentError(
        fmt::format("the catalog does not know the peak rates of {}", gpu.name));
  }
  double work = static_cast<double>(key.batch) * key.procs;
  double compute_ms =
      work * d.gflops_per_item / (share.compute_fraction * *gpu.peak_fp16_dense_tflops);
  double drawn_fraction = std::min(share.compute_fraction, share.bandwidth_fraction);
  double memory_ms = key.procs * (d.weights_mb + key.batch * d.activation_mb) /
                     (share.bandwidth_fraction * *gpu.memory_bandwidth_gbps);
  double attention_ms = 0;
  if (model.input_unit == models::InputUnit::kTokens) {
    double tokens = static_cast<double>(key.input) / model.reference_input;
    attention_ms = work * *model.activation_mb_per_item * tokens * tokens /
                   (drawn_fraction * *gpu.memory_bandwidth_gbps);
  }
  return Coefficients{1.0, 1.0 / share.sms, compute_ms, memory_ms, attention_ms};
}

// Non-negative least squares weighted by 1 / latency^2, by cyclic coordinate descent (a handful of
// unknowns, so a few hundred sweeps converge).
Coefficients FitNonNegative(const std::vector<Sample>& samples) {
  std::array<std::array<double, kTerms>, kTerms> gram{};
  std::array<double, kTerms> rhs{};
  for (const Sample& s : samples) {
    double w = 1 / (s.latency_ms * s.latency_ms);
    for (int i = 0; i < kTerms; ++i) {
      rhs[i] += w * s.terms[i] * s.latency_ms;
      for (int j = 0; j < kTerms; ++j) gram[i][j] += w * s.terms[i] * s.terms[j];
    }
  }
  Coefficients c{};
  for (int sweep = 0; sweep < 2000; ++sweep) {
    for (int i = 0; i < kTerms; ++i) {
      if (gram[i][i] <= 0) continue;
      double r = rhs[i];
      for (int j = 0; j < kTerms; ++j) {
        if (j != i) r -= gram[i][j] * c[j];
      }
      c[i] = std::max(0.0, r / gram[i][i]);
    }
  }
  return c;
}

double Dot(const Coefficients& c, const Coefficients& terms) {
  double sum = 0;
  for (int i = 0; i < kTerms; ++i) sum += c[i] * terms[i];
  return sum;
}

// A model with too few rows for coefficients of its own: its family's (or the GPU's) scaled by the
// geometric mean of measured / predicted over its rows.
Coefficients Rescaled(Coefficients c, const std::vector<Sample>& samples) {
  double log_sum = 0;
  for (const Sample& s : samples)
    log_sum += std::log(s.latency_ms / std::max(Dot(c, s.terms), 1e-9));
  double scale = std::exp(log_sum / samples.size());
  for (double& x : c) x *= scale;
  return c;
}

nlohmann::json ToJsonOne(const Coefficients& c) {
  nlohmann::json out = nlohmann::json::object();
  for (int i = 0; i < kTerms; ++i) out[kTermNames[i]] = c[i];
  return out;
}

absl::StatusOr<Coefficients> FromJsonOne(const nlohmann::json& object, const std::string& path) {
  Coefficients c{};
  for (int i = 0; i < kTerms; ++i) {
    ASSIGN_OR_RETURN(c[i], NumberField(object, path, kTermNames[i]));
    if (c[i] < 0) return FieldError(fmt::format("{}.{}", path, kTermNames[i]), "must be >= 0");
  }
  return c;
}

}  // namespace

absl::Status LinearBaseline::Fit(const PredictorInputs& inputs, const TrainingSet& set) {
  std::map<std::string, std::vector<Sample>> by_model, by_family;
  std::vector<Sample> all;
  for (const perf::ProfileRow& row : set.rows) {
    ASSIGN_OR_RETURN(const models::ModelInfo* model, inputs.registry->Find(row.key.model));
    ASSIGN_OR_RETURN(Coefficients terms, Terms(*set.gpu, *model, row.key));
    Sample sample{terms, row.latency_ms};
    by_model[model->clone_of.empty() ? model->name : model->clone_of].push_back(sample);
    by_family[model->family].push_back(sample);
    all.push_back(sample);
  }
  by_model_.clear();
  by_family_.clear();
  for (const auto& [name, samples] : by_family) {
    if (samples.size() >= kMinRowsPerScope) by_family_[name] = FitNonNegative(samples);
  }
  global_ = FitNonNegative(all);
  for (const auto& [name, samples] : by_model) {
    if (samples.size() >= kMinRowsPerScope) {
      by_model_[name] = FitNonNegative(samples);
    } else {
      ASSIGN_OR_RETURN(const models::ModelInfo* model, inputs.registry->Find(name));
      by_model_[name] = Rescaled(*For(*model), samples);
    }
  }
  return absl::OkStatus();
}

const Coefficients* LinearBaseline::For(const models::ModelInfo& model) const {
  const std::string& base = model.clone_of.empty() ? model.name : model.clone_of;
  if (auto it = by_model_.find(base); it != by_model_.end()) return &it->second;
  if (auto it = by_family_.find(model.family); it != by_family_.end()) return &it->second;
  return &global_;
}

absl::StatusOr<double> LinearBaseline::LatencyMs(const hw::GpuModel& gpu,
                                                 const models::ModelInfo& model,
                                                 const perf::ProfileKey& key) const {
  ASSIGN_OR_RETURN(Coefficients terms, Terms(gpu, model, key));
  return std::max(Dot(*For(model), terms), 1e-6);
}

absl::StatusOr<Coefficients> LinearBaseline::Contributions(const hw::GpuModel& gpu,
                                                           const models::ModelInfo& model,
                                                           const perf::ProfileKey& key) const {
  ASSIGN_OR_RETURN(Coefficients terms, Terms(gpu, model, key));
  const Coefficients& c = *For(model);
  double total = std::max(Dot(c, terms), 1e-9);
  for (int i = 0; i < kTerms; ++i) terms[i] = c[i] * terms[i] / total;
  return terms;
}

nlohmann::json LinearBaseline::ToJson() const {
  nlohmann::json out = {{"by_model", nlohmann::json::object()},
                        {"by_family", nlohmann::json::object()},
                        {"global", ToJsonOne(global_)}};
  for (const auto& [name, c] : by_model_) out["by_model"][name] = ToJsonOne(c);
  for (const auto& [name, c] : by_family_) out["by_family"][name] = ToJsonOne(c);
  return out;
}

absl::StatusOr<LinearBaseline> LinearBaseline::FromJson(const nlohmann::json& object,
                                                        std::string_view path) {
  LinearBaseline baseline;
  std::string at(path);
  for (const char* scope : {"by_model", "by_family"}) {
    ASSIGN_OR_RETURN(const nlohmann::json* map, Field(object, path, scope));
    std::string scope_path = fmt::format("{}.{}", at, scope);
    if (!map->is_object()) return FieldError(scope_path, "expected an object");
    auto& target = std::string_view(scope) == "by_model" ? baseline.by_model_ : baseline.by_family_;
    for (const auto& [name, value] : map->items()) {
      ASSIGN_OR_RETURN(target[name], FromJsonOne(value, fmt::format("{}.{}", scope_path, name)));
    }
  }
  ASSIGN_OR_RETURN(const nlohmann::json* global, Field(object, path, "global"));
  ASSIGN_OR_RETURN(baseline.global_, FromJsonOne(*global, at + ".global"));
  return baseline;
}

}  // namespace tessera::predict::internal
