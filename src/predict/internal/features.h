// src/predict/internal/features.h — what the predictors share: choosing and checking training rows,
// checking a key against the fitted GPU, the model descriptors at a key's input size, the learned
// predictor's feature vector, and reading fields of a saved predictor with errors that name them.
//
// Internal to tessera_predict; not a public header.
#ifndef TESSERA_SRC_PREDICT_INTERNAL_FEATURES_H_
#define TESSERA_SRC_PREDICT_INTERNAL_FEATURES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/predict/predictor.h"

namespace tessera::predict::internal {

// The rows a predictor learns from: kMeasured and kStandIn rows of one GPU.
struct TrainingSet {
  const hw::GpuModel* gpu = nullptr;
  std::vector<perf::ProfileRow> rows;
};
// InvalidArgument for rows of several GPUs, fewer than `min_rows` usable rows (the message says
// how many `predictor` needs), or a row that cannot be learned from (latency not finite and
// positive, a bad tail or memory, a batch, procs or input below 1, a partition the GPU lacks, an
// input above the model's maximum; the message names the row's key); NotFound for a GPU or model
// the catalog or registry lacks.
absl::StatusOr<TrainingSet> SelectTraining(const PredictorInputs& inputs,
                                           const std::vector<perf::ProfileRow>& rows,
                                           size_t min_rows, std::string_view predictor);

// Checks `key` against the fitted `gpu`: InvalidArgument for another GPU, a partition the GPU does
// not have or an unknown model. Returns the key's model.
absl::StatusOr<const models::ModelInfo*> CheckKey(const PredictorInputs& inputs,
                                                  const hw::GpuModel& gpu,
                                                  const perf::ProfileKey& key);

// A model's descriptors at a key's input size. InvalidArgument naming the missing descriptor.
struct Descriptors {
  double gflops_per_item = 0;  // at the key's input
  double activation_mb = 0;    // per item, at the key's input
  double weights_mb = 0;       // params x 2 bytes (fp16)
  double params_millions = 0;
  int family = 0;  // index into models::ModelFamilies()
};
absl::StatusOr<Descriptors> DescriptorsAt(const models::ModelInfo& model, int input);

// The learned predictor's features, in the order of FeatureNames(), and the XGBoost monotone
// constraint of each (+1, -1 or 0).
const std::vector<std::string>& FeatureNames();
const std::vector<int>& FeatureMonotonicity();
absl::StatusOr<std::vector<float>> Features(const hw::GpuModel& gpu, const models::ModelInfo& model,
                                            const perf::ProfileKey& key);

// The tail-latency ratios p90 / latency and p99 / latency: the median over the training rows
// that have them; nullopt when none does.
struct TailRatios {
  std::optional<double> p90;
  std::optional<double> p99;
};
TailRatios FitTailRatios(const std::vector<perf::ProfileRow>& rows);
void ApplyTailRatios(const TailRatios& ratios, Prediction& prediction);
nlohmann::json TailRatiosToJson(const TailRatios& ratios);

// Reading a saved predictor: each error is InvalidArgument "predictor model: field <path>: ...".
absl::Status FieldError(std::string_view path, std::string_view message);
absl::StatusOr<const nlohmann::json*> Field(const nlohmann::json& object, std::string_view path,
                                            std::string_view key);
absl::StatusOr<double> NumberField(const nlohmann::json& object, std::string_view path,
                                   std::string_view key);
// An integer from 1 to 1000000 (input, batch, procs).
absl::StatusOr<int> CountField(const nlohmann::json& object, std::string_view path,
                               std::string_view key);
absl::StatusOr<std::optional<double>> OptionalNumberField(const nlohmann::json& object,
                                                          std::string_view path,
                                                          std::string_view key);
absl::StatusOr<std::string> StringField(const nlohmann::json& object, std::string_view path,
                                        std::string_view key);
absl::StatusOr<const nlohmann::json*> ArrayField(const nlohmann::json& object,
                                                 std::string_view path, std::string_view key);
absl::StatusOr<TailRatios> TailRatiosFromJson(const nlohmann::json& object, std::string_view path,
                                              std::string_view key);

// The document header every predictor saves: format, version, predictor, gpu.
nlohmann::json SaveHeader(std::string_view predictor, const hw::GpuModel& gpu);
// The GPU a saved document names; NotFound when the catalog lacks it.
absl::StatusOr<const hw::GpuModel*> LoadGpu(const nlohmann::json& saved,
                                            const PredictorInputs& inputs);

}  // namespace tessera::predict::internal

#endif  // TESSERA_SRC_PREDICT_INTERNAL_FEATURES_H_
