// src/predict/internal/makers.h — constructors of each predictor, for MakePredictor and
// LoadPredictor (predictor.cc). Internal to tessera_predict.
#ifndef TESSERA_SRC_PREDICT_INTERNAL_MAKERS_H_
#define TESSERA_SRC_PREDICT_INTERNAL_MAKERS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/predict/predictor.h"

namespace tessera::predict::internal {

// REQUIRES: both input pointers non-null (MakePredictor checks).
std::unique_ptr<Predictor> MakeTablePredictor(const PredictorInputs& inputs);
std::unique_ptr<Predictor> MakeRooflinePredictor(const PredictorInputs& inputs);
std::unique_ptr<Predictor> MakeLearnedPredictor(const PredictorInputs& inputs);

// From a document whose header (format, version, predictor) LoadPredictor has checked.
absl::StatusOr<std::unique_ptr<Predictor>> LoadTablePredictor(const nlohmann::json& saved,
                                                              const PredictorInputs& inputs);
absl::StatusOr<std::unique_ptr<Predictor>> LoadRooflinePredictor(const nlohmann::json& saved,
                                                                 const PredictorInputs& inputs);
absl::StatusOr<std::unique_ptr<Predictor>> LoadLearnedPredictor(const nlohmann::json& saved,
                                                                const PredictorInputs& inputs);

}  // namespace tessera::predict::internal

#endif  // TESSERA_SRC_PREDICT_INTERNAL_MAKERS_H_
