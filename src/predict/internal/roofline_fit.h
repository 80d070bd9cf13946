// src/predict/internal/roofline_fit.h — the roofline predictor's fitted state, shared with the
// learned predictor, which uses it as its baseline (the trees learn log(measured / roofline fit)).
// Internal to tessera_predict.
//
// Latency: per scope (the model when it has >= 2 training rows with distinct roofline times, else
// its family, else every row), latency = efficiency x RooflineMs + overhead_ms, fitted by least
// squares weighted by 1 / latency^2 (relative error, which is what MAPE and planners care about).
// Memory: memory_mib = weights (params x 2 bytes) + context_mib + mib_per_activation_mb x batch x
// activation MB per item at the input, fitted per model (>= 2 rows with memory and distinct
// batch x activation), else per family, else over every row; unknown when no row has memory.
#ifndef TESSERA_SRC_PREDICT_INTERNAL_ROOFLINE_FIT_H_
#define TESSERA_SRC_PREDICT_INTERNAL_ROOFLINE_FIT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/features.h"
#include "nlohmann/json.hpp"

namespace tessera::predict::internal {

// y = slope x x + intercept.
struct Line {
  double slope = 1;
  double intercept = 0;
};

// Lines by model, family and for everything.
struct ScopedLines {
  std::map<std::string, Line> by_model;
  std::map<std::string, Line> by_family;
  std::optional<Line> global;
  // The line for `model` (its clone_of base for clones), else its family's, else the global one.
  const Line* For(const models::ModelInfo& model) const;
};

class RooflineFit {
 public:
  // REQUIRES: `set` non-empty, every row's model in inputs.registry.
  absl::Status Fit(const PredictorInputs& inputs, const TrainingSet& set);
  // Latency (and tails, memory where fitted) for a key already checked by CheckKey.
  absl::StatusOr<Prediction> Predict(const hw::GpuModel& gpu, const models::ModelInfo& model,
                                     const perf::ProfileKey& key) const;
  nlohmann::json ToJson() const;
  // Errors name fields under `path`.
  static absl::StatusOr<RooflineFit> FromJson(const nlohmann::json& object, std::string_view path);

 private:
  ScopedLines latency_;
  ScopedLines memory_;
  bool has_memory_ = false;
  TailRatios tails_;
};

}  // namespace tessera::predict::internal

#endif  // TESSERA_SRC_PREDICT_INTERNAL_ROOFLINE_FIT_H_
