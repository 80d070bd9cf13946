// src/predict/internal/baseline.h — the learned predictor's physical baseline, which its trees
// correct: per model (else family, else GPU)
//   latency_ms = launch_ms + per_sm_ms / SMs + a x compute_ms + b x memory_ms + c x attention_ms
// with compute_ms = batch x procs x FLOPs per item / (compute share x peak), memory_ms =
// procs x (weights + batch x activations) / (bandwidth share x bandwidth), and, for models whose
// input counts tokens, attention_ms = batch x procs x activations at the reference input x
// (tokens / reference)^2 / (min(compute share, bandwidth share) x bandwidth) (attention scores and
// probabilities grow with the square of the sequence, and their softmax runs at the speed of the
// partition's SMs, which alone cannot draw the whole GPU's bandwidth; 0 for image models), every
// coefficient >= 0,
// fitted by least squares weighted by 1 / latency^2 (relative error). The two first terms are the
// fixed cost of a batch (kernel launches, and the latency-bound small kernels that run faster on
// more SMs); the others are the roofline's two ceilings added instead of maxed, which follows the
// measured curves better near the knee. Internal to tessera_predict.
#ifndef TESSERA_SRC_PREDICT_INTERNAL_BASELINE_H_
#define TESSERA_SRC_PREDICT_INTERNAL_BASELINE_H_

#include <array>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "internal/features.h"
#include "nlohmann/json.hpp"

namespace tessera::predict::internal {

class LinearBaseline {
 public:
  static constexpr int kTerms = 5;
  using Coefficients = std::array<double, kTerms>;

  // REQUIRES: every row's model is in inputs.registry.
  absl::Status Fit(const PredictorInputs& inputs, const TrainingSet& set);
  // Latency, ms, for a key already checked by CheckKey.
  absl::StatusOr<double> LatencyMs(const hw::GpuModel& gpu, const models::ModelInfo& model,
                                   const perf::ProfileKey& key) const;
  // Each term's share of LatencyMs, in the order above (launch, per-SM, compute, memory,
  // attention); the first two are the fixed cost, which tells how far below the knee a batch is.
  absl::StatusOr<Coefficients> Contributions(const hw::GpuModel& gpu,
                                             const models::ModelInfo& model,
                                             const perf::ProfileKey& key) const;
  nlohmann::json ToJson() const;
  static absl::StatusOr<LinearBaseline> FromJson(const nlohmann::json& object,
                                                 std::string_view path);

 private:
  const Coefficients* For(const models::ModelInfo& model) const;

  std::map<std::string, Coefficients> by_model_;
  std::map<std::string, Coefficients> by_family_;
  Coefficients global_{};
};

}  // namespace tessera::predict::internal

#endif  // TESSERA_SRC_PREDICT_INTERNAL_BASELINE_H_
