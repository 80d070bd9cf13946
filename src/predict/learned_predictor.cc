// The `learned` predictor: gradient-boosted trees (XGBoost, C API) on the physics features of
// internal/features.h plus the baseline's own estimate, learning log(measured latency / physical
// baseline) (internal/baseline.h) so that the trees correct the baseline instead of rediscovering
// it, and the baseline extrapolates where the trees cannot. Monotone constraints on the trees'
// axes:
// + batch, + input, - SMs, - compute share, + baseline (derived features are left free: see
// FeatureMonotonicity). A few extra boosters trained on bootstrap resamples give the uncertainty
// (the spread of their log predictions around the full booster's). Memory and tail ratios are the
// roofline fit's (weights + batch x activations + context), which is nearly exact.
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/baseline.h"
#include "internal/features.h"
#include "internal/makers.h"
#include "internal/roofline_fit.h"
#include "tessera/base/rng.h"
#include "tessera/base/status.h"
#include "xgboost/c_api.h"

namespace tessera::predict::internal {
namespace {

constexpr int kRounds = 300;
constexpr int kBootstraps = 4;
constexpr size_t kMinRows = 8;
constexpr uint64_t kSeed = 20261122;

std::vector<std::string> TreeFeatureNames();

absl::Status Check(int rc, std::string_view what) {
  if (rc == 0) return absl::OkStatus();
  return absl::InternalError(fmt::format("XGBoost {} failed: {}", what, XGBGetLastError()));
}

// Owners of XGBoost handles.
struct DMatrixDeleter {
  void operator()(void* handle) const { XGDMatrixFree(handle); }
};
struct BoosterDeleter {
  void operator()(void* handle) const { XGBoosterFree(handle); }
};
using DMatrix = std::unique_ptr<void, DMatrixDeleter>;
using Booster = std::unique_ptr<void, BoosterDeleter>;

absl::StatusOr<DMatrix> MakeDMatrix(const std::vector<float>& data, size_t rows) {
  DMatrixHandle handle = nullptr;
  size_t cols = TreeFeatureNames().size();
  RETURN_IF_ERROR(Check(XGDMatrixCreateFromMat(data.data(), rows, cols, NAN, &handle),
                        "XGDMatrixCreateFromMat"));
  return DMatrix(handle);
}

absl::StatusOr<Booster> NewBooster(DMatrixHandle train) {
  BoosterHandle handle = nullptr;
  DMatrixHandle dmats[] = {train};
  RETURN_IF_ERROR(
      Check(XGBoosterCreate(train ? dmats : nullptr, train ? 1 : 0, &handle), "XGBoosterCreate"));
  return Booster(handle);
}

std::string MonotoneConstraints() {
  std::vector<int> signs = FeatureMonotonicity();
  signs.insert(signs.end(), {+1, 0, 0});  // log_baseline_ms, the baseline's shares
  return fmt::format("({})", fmt::join(signs, ","));
}

absl::StatusOr<Booster> Train(const std::vector<float>& x, const std::vector<float>& y,
                              uint64_t seed) {
  ASSIGN_OR_RETURN(DMatrix train, MakeDMatrix(x, y.size()));
  RETURN_IF_ERROR(Check(XGDMatrixSetFloatInfo(train.get(), "label", y.data(), y.size()),
                        "XGDMatrixSetFloatInfo(label)"));
  ASSIGN_OR_RETURN(Booster booster, NewBooster(train.get()));
  std::string seed_text = std::to_string(seed % 1000000007);
  std::string constraints = MonotoneConstraints();
  const std::pair<const char*, const char*> params[] = {
      {"objective", "reg:squarederror"},
      {"booster", "gbtree"},
      {"tree_method", "exact"},
      {"max_depth", "4"},
      {"eta", "0.08"},
      {"min_child_weight", "1"},
      {"lambda", "1"},
      {"subsample", "1"},
      {"base_score", "0"},
      {"nthread", "1"},
      {"seed", seed_text.c_str()},
      {"monotone_constraints", constraints.c_str()}};
  for (const auto& [name, value] : params) {
    RETURN_IF_ERROR(Check(XGBoosterSetParam(booster.get(), name, value),
                          fmt::format("XGBoosterSetParam({})", name)));
  }
  for (int i = 0; i < kRounds; ++i) {
    RETURN_IF_ERROR(
        Check(XGBoosterUpdateOneIter(booster.get(), i, train.get()), "XGBoosterUpdateOneIter"));
  }
  return booster;
}

absl::StatusOr<float> PredictOne(BoosterHandle booster, const std::vector<float>& features) {
  ASSIGN_OR_RETURN(DMatrix row, MakeDMatrix(features, 1));
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  const char* config =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  RETURN_IF_ERROR(
      Check(XGBoosterPredictFromDMatrix(booster, row.get(), config, &shape, &dim, &result),
            "XGBoosterPredictFromDMatrix"));
  return result[0];
}

absl::StatusOr<nlohmann::json> BoosterToJson(BoosterHandle booster) {
  bst_ulong length = 0;
  const char* buffer = nullptr;
  RETURN_IF_ERROR(
      Check(XGBoosterSaveModelToBuffer(booster, R"({"format": "json"})", &length, &buffer),
            "XGBoosterSaveModelToBuffer"));
  nlohmann::json model = nlohmann::json::parse(buffer, buffer + length, nullptr, false);
  if (model.is_discarded()) return absl::InternalError("XGBoost saved a model that is not JSON");
  return model;
}

absl::StatusOr<Booster> BoosterFromJson(const nlohmann::json& model, const std::string& path) {
  ASSIGN_OR_RETURN(Booster booster, NewBooster(nullptr));
  std::string text = model.dump();
  absl::Status status = Check(XGBoosterLoadModelFromBuffer(booster.get(), text.data(), text.size()),
                              "XGBoosterLoadModelFromBuffer");
  if (!status.ok()) return FieldError(path, std::string(status.message()));
  // A booster trained on other features would predict garbage, or fail inside XGBoost later.
  bst_ulong features = 0;
  status = Check(XGBoosterGetNumFeature(booster.get(), &features), "XGBoosterGetNumFeature");
  if (!status.ok()) return FieldError(path, std::string(status.message()));
  if (features != TreeFeatureNames().size()) {
    return FieldError(path, fmt::format("the booster reads {} features, feature_names lists {}",
                                        features, TreeFeatureNames().size()));
  }
  std::vector<float> zeros(TreeFeatureNames().size(), 0.0f);
  absl::StatusOr<float> probe = PredictOne(booster.get(), zeros);
  if (!probe.ok()) return FieldError(path, std::string(probe.status().message()));
  return booster;
}

// The names of the trees' features: the shared physics features, then the baseline's log latency
// and the share of it that is fixed cost (how far below the knee the batch is).
std::vector<std::string> TreeFeatureNames() {
  std::vector<std::string> names = FeatureNames();
  names.push_back("log_baseline_ms");
  names.push_back("baseline_fixed_share");
  names.push_back("baseline_compute_share");
  return names;
}

absl::StatusOr<std::vector<float>> TreeFeatures(const hw::GpuModel& gpu,
                                                const models::ModelInfo& model,
                                                const perf::ProfileKey& key,
                                                const LinearBaseline& baseline) {
  ASSIGN_OR_RETURN(std::vector<float> features, Features(gpu, model, key));
  ASSIGN_OR_RETURN(double base_ms, baseline.LatencyMs(gpu, model, key));
  ASSIGN_OR_RETURN(LinearBaseline::Coefficients shares, baseline.Contributions(gpu, model, key));
  features.push_back(static_cast<float>(std::log(base_ms)));
  features.push_back(static_cast<float>(shares[0] + shares[1]));
  features.push_back(static_cast<float>(shares[2]));
  return features;
}

class LearnedPredictor : public Predictor {
 public:
  explicit LearnedPredictor(const PredictorInputs& inputs) : inputs_(inputs) {}
  std::string name() const override { return "learned"; }

  absl::Status Fit(const std::vector<perf::ProfileRow>& training) override {
    ASSIGN_OR_RETURN(TrainingSet set, SelectTraining(inputs_, training, kMinRows, "learned"));
    RooflineFit analytic;
    RETURN_IF_ERROR(analytic.Fit(inputs_, set));
    LinearBaseline baseline;
    RETURN_IF_ERROR(baseline.Fit(inputs_, set));
    std::vector<float> x, y;
    for (const perf::ProfileRow& row : set.rows) {
      ASSIGN_OR_RETURN(const models::ModelInfo* model, inputs_.registry->Find(row.key.model));
      ASSIGN_OR_RETURN(std::vector<float> features,
                       TreeFeatures(*set.gpu, *model, row.key, baseline));
      ASSIGN_OR_RETURN(double base_ms, baseline.LatencyMs(*set.gpu, *model, row.key));
      x.insert(x.end(), features.begin(), features.end());
      y.push_back(static_cast<float>(std::log(row.latency_ms / base_ms)));
    }
    std::vector<Booster> boosters;
    ASSIGN_OR_RETURN(Booster full, Train(x, y, kSeed));
    boosters.push_back(std::move(full));
    size_t cols = TreeFeatureNames().size();
    for (int b = 0; b < kBootstraps; ++b) {
      RngStream rng(kSeed, b + 1);
      std::vector<float> bx, by;
      for (size_t i = 0; i < y.size(); ++i) {
        size_t pick = rng.Next() % y.size();
        bx.insert(bx.end(), x.begin() + pick * cols, x.begin() + (pick + 1) * cols);
        by.push_back(y[pick]);
      }
      ASSIGN_OR_RETURN(Booster booster, Train(bx, by, kSeed + b + 1));
      boosters.push_back(std::move(booster));
    }
    std::lock_guard<std::mutex> lock(mu_);
    analytic_ = std::move(analytic);
    baseline_ = std::move(baseline);
    boosters_ = std::move(boosters);
    gpu_ = set.gpu;
    return absl::OkStatus();
  }

  absl::StatusOr<Prediction> Predict(const perf::ProfileKey& key) const override {
    ASSIGN_OR_RETURN(Estimate estimate, Estimated(key, /*with_spread=*/false));
    return estimate.prediction;
  }

  double Uncertainty(const perf::ProfileKey& key) const override {
    absl::StatusOr<Estimate> estimate = Estimated(key, /*with_spread=*/true);
    return estimate.ok() ? estimate->spread : 0;
  }

  absl::StatusOr<nlohmann::json> Save() const override {
    if (gpu_ == nullptr)
      return absl::FailedPreconditionError("the learned predictor is not fitted");
    nlohmann::json out = SaveHeader("learned", *gpu_);
    out["feature_names"] = TreeFeatureNames();
    out["baseline"] = baseline_.ToJson();
    out["analytic"] = analytic_.ToJson();
    nlohmann::json boosters = nlohmann::json::array();
    std::lock_guard<std::mutex> lock(mu_);
    for (const Booster& booster : boosters_) {
      ASSIGN_OR_RETURN(nlohmann::json model, BoosterToJson(booster.get()));
      boosters.push_back(std::move(model));
    }
    out["boosters"] = std::move(boosters);
    return out;
  }

  absl::Status Load(const nlohmann::json& saved) {
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, LoadGpu(saved, inputs_));
    ASSIGN_OR_RETURN(const nlohmann::json* names, ArrayField(saved, "", "feature_names"));
    if (*names != nlohmann::json(TreeFeatureNames())) {
      return FieldError("feature_names",
                        fmt::format("differ from this tessera's features ({}); refit the predictor",
                                    fmt::join(TreeFeatureNames(), ", ")));
    }
    ASSIGN_OR_RETURN(const nlohmann::json* baseline, Field(saved, "", "baseline"));
    ASSIGN_OR_RETURN(LinearBaseline linear, LinearBaseline::FromJson(*baseline, "baseline"));
    ASSIGN_OR_RETURN(const nlohmann::json* analytic, Field(saved, "", "analytic"));
    ASSIGN_OR_RETURN(RooflineFit fit, RooflineFit::FromJson(*analytic, "analytic"));
    ASSIGN_OR_RETURN(const nlohmann::json* models, ArrayField(saved, "", "boosters"));
    if (models->empty()) return FieldError("boosters", "must hold at least one booster");
    std::vector<Booster> boosters;
    for (size_t i = 0; i < models->size(); ++i) {
      ASSIGN_OR_RETURN(Booster booster,
                       BoosterFromJson((*models)[i], fmt::format("boosters[{}]", i)));
      boosters.push_back(std::move(booster));
    }
    gpu_ = gpu;
    analytic_ = std::move(fit);
    baseline_ = std::move(linear);
    boosters_ = std::move(boosters);
    return absl::OkStatus();
  }

 private:
  struct Estimate {
    Prediction prediction;
    double spread = 0;
  };

  // The prediction of the booster trained on every row and, `with_spread`, the spread of the
  // bootstrap boosters' log predictions around it.
  absl::StatusOr<Estimate> Estimated(const perf::ProfileKey& key, bool with_spread) const {
    if (gpu_ == nullptr)
      return absl::FailedPreconditionError("the learned predictor is not fitted");
    ASSIGN_OR_RETURN(const models::ModelInfo* model, CheckKey(inputs_, *gpu_, key));
    ASSIGN_OR_RETURN(std::vector<float> features, TreeFeatures(*gpu_, *model, key, baseline_));
    ASSIGN_OR_RETURN(Estimate estimate, Base(*model, key));
    std::vector<double> logs;
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < (with_spread ? boosters_.size() : 1); ++i) {
      ASSIGN_OR_RETURN(float correction, PredictOne(boosters_[i].get(), features));
      logs.push_back(correction);
    }
    double scale = std::exp(logs[0]);
    estimate.prediction.latency_ms *= scale;
    if (estimate.prediction.latency_ms_p90) *estimate.prediction.latency_ms_p90 *= scale;
    if (estimate.prediction.latency_ms_p99) *estimate.prediction.latency_ms_p99 *= scale;
    if (logs.size() > 1) {
      double mean = 0, variance = 0;
      for (size_t i = 1; i < logs.size(); ++i) mean += logs[i] / (logs.size() - 1);
      for (size_t i = 1; i < logs.size(); ++i) variance += std::pow(logs[i] - mean, 2);
      estimate.spread = std::sqrt(variance / (logs.size() - 1) + std::pow(mean - logs[0], 2));
    }
    return estimate;
  }

  absl::StatusOr<Estimate> Base(const models::ModelInfo& model, const perf::ProfileKey& key) const {
    ASSIGN_OR_RETURN(Prediction base, analytic_.Predict(*gpu_, model, key));
    ASSIGN_OR_RETURN(double base_ms, baseline_.LatencyMs(*gpu_, model, key));
    double scale = base_ms / base.latency_ms;
    base.latency_ms = base_ms;
    if (base.latency_ms_p90) *base.latency_ms_p90 *= scale;
    if (base.latency_ms_p99) *base.latency_ms_p99 *= scale;
    return Estimate{base, 0};
  }

  PredictorInputs inputs_;
  const hw::GpuModel* gpu_ = nullptr;
  RooflineFit analytic_;           // memory and tail ratios
  LinearBaseline baseline_;        // the latency the trees correct
  mutable std::mutex mu_;          // XGBoost prediction is not documented as thread-safe
  std::vector<Booster> boosters_;  // guarded by mu_; [0] trained on every row
};

}  // namespace

std::unique_ptr<Predictor> MakeLearnedPredictor(const PredictorInputs& inputs) {
  return std::make_unique<LearnedPredictor>(inputs);
}

absl::StatusOr<std::unique_ptr<Predictor>> LoadLearnedPredictor(const nlohmann::json& saved,
                                                                const PredictorInputs& inputs) {
  auto predictor = std::make_unique<LearnedPredictor>(inputs);
  RETURN_IF_ERROR(predictor->Load(saved));
  return std::unique_ptr<Predictor>(std::move(predictor));
}

}  // namespace tessera::predict::internal
