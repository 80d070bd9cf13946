// The `roofline` predictor: RooflineMs scaled by one efficiency and offset by one overhead per
// model (or family, or GPU), and an additive memory model (internal/roofline_fit.h).
#include <cmath>

#include "fmt/core.h"
#include "internal/features.h"
#include "internal/makers.h"
#include "internal/roofline_fit.h"
#include "tessera/base/status.h"

namespace tessera::predict::internal {
namespace {

constexpr double kMib = 1024.0 * 1024.0;

struct Point {
  double x, y, weight;
};

// Weighted least squares for y = slope x + intercept, with slope > 0 and intercept >= 0 (a
// roofline cannot be negative or make latency fall with work): when the free fit breaks either
// bound, the intercept is dropped (or the slope, if x does not vary).
Line FitLine(const std::vector<Point>& points) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const Point& p : points) {
    sw += p.weight, sx += p.weight * p.x, sy += p.weight * p.y;
    sxx += p.weight * p.x * p.x, sxy += p.weight * p.x * p.y;
  }
  double det = sw * sxx - sx * sx;
  if (det > 1e-12 * sw * sxx) {
    Line line{(sw * sxy - sx * sy) / det, (sxx * sy - sx * sxy) / det};
    if (line.slope > 0 && line.intercept >= 0) return line;
  }
  auto error = [&](const Line& l) {
    double e = 0;
    for (const Point& p : points) e += p.weight * std::pow(l.slope * p.x + l.intercept - p.y, 2);
    return e;
  };
  Line through_zero{sxx > 0 && sxy > 0 ? sxy / sxx : 1e-9, 0};
  Line flat{1e-9, sw > 0 ? std::max(sy / sw, 0.0) : 0};
  return error(through_zero) <= error(flat) ? through_zero : flat;
}

// Fits one line per model with >= 2 distinct x, per family and globally.
ScopedLines FitScoped(const std::map<std::string, std::vector<Point>>& by_model,
                      const std::map<std::string, std::string>& family_of) {
  ScopedLines lines;
  std::map<std::string, std::vector<Point>> by_family;
  std::vector<Point> all;
  for (const auto& [model, points] : by_model) {
    bool varies = false;
    for (const Point& p : points) varies |= p.x != points.front().x;
    if (varies) lines.by_model[model] = FitLine(points);
    auto& family = by_family[family_of.at(model)];
    family.insert(family.end(), points.begin(), points.end());
    all.insert(all.end(), points.begin(), points.end());
  }
  for (const auto& [family, points] : by_family) lines.by_family[family] = FitLine(points);
  if (!all.empty()) lines.global = FitLine(all);
  return lines;
}

nlohmann::json LinesToJson(const ScopedLines& lines, const char* slope, const char* intercept) {
  auto one = [&](const Line& line) {
    return nlohmann::json{{slope, line.slope}, {intercept, line.intercept}};
  };
  nlohmann::json out = {{"by_model", nlohmann::json::object()},
                        {"by_family", nlohmann::json::object()},
                        {"global", nullptr}};
  for (const auto& [name, line] : lines.by_model) out["by_model"][name] = one(line);
  for (const auto& [name, line] : lines.by_family) out["by_family"][name] = one(line);
  if (lines.global) out["global"] = one(*lines.global);
  return out;
}

absl::StatusOr<Line> LineFromJson(const nlohmann::json& object, const std::string& path,
                                  const char* slope, const char* intercept) {
  Line line;
  ASSIGN_OR_RETURN(line.slope, NumberField(object, path, slope));
  ASSIGN_OR_RETURN(line.intercept, NumberField(object, path, intercept));
  return line;
}

absl::StatusOr<ScopedLines> LinesFromJson(const nlohmann::json& object, const std::string& path,
                                          const char* slope, const char* intercept) {
  ScopedLines lines;
  for (const char* scope : {"by_model", "by_family"}) {
    ASSIGN_OR_RETURN(const nlohmann::json* map, Field(object, path, scope));
    std::string at = fmt::format("{}.{}", path, scope);
    if (!map->is_object()) return FieldError(at, "expected an object");
    for (const auto& [name, value] : map->items()) {
      ASSIGN_OR_RETURN(Line line,
                       LineFromJson(value, fmt::format("{}.{}", at, name), slope, intercept));
      (std::string_view(scope) == "by_model" ? lines.by_model : lines.by_family)[name] = line;
    }
  }
  ASSIGN_OR_RETURN(const nlohmann::json* global, Field(object, path, "global"));
  if (!global->is_null()) {
    ASSIGN_OR_RETURN(lines.global, LineFromJson(*global, path + ".global", slope, intercept));
  }
  return lines;
}

}  // namespace

const Line* ScopedLines::For(const models::ModelInfo& model) const {
  const std::string& base = model.clone_of.empty() ? model.name : model.clone_of;
  if (auto it = by_model.find(base); it != by_model.end()) return &it->second;
  if (auto it = by_family.find(model.family); it != by_family.end()) return &it->second;
  return global ? &*global : nullptr;
}

absl::Status RooflineFit::Fit(const PredictorInputs& inputs, const TrainingSet& set) {
  std::map<std::string, std::vector<Point>> latency, memory;
  std::map<std::string, std::string> family_of;
  for (const perf::ProfileRow& row : set.rows) {
    ASSIGN_OR_RETURN(const models::ModelInfo* model, inputs.registry->Find(row.key.model));
    ASSIGN_OR_RETURN(double roofline_ms, RooflineMs(*set.gpu, *model, row.key));
    // Clones share their base model's line (ScopedLines::For looks up clone_of).
    const std::string& scope = model->clone_of.empty() ? model->name : model->clone_of;
    family_of[scope] = model->family;
    latency[scope].push_back({roofline_ms, row.latency_ms, 1 / (row.latency_ms * row.latency_ms)});
    if (row.memory_mib) {
      ASSIGN_OR_RETURN(Descriptors d, DescriptorsAt(*model, row.key.input));
      memory[scope].push_back(
          {row.key.batch * d.activation_mb, *row.memory_mib - d.weights_mb * 1e6 / kMib, 1});
    }
  }
  latency_ = FitScoped(latency, family_of);
  memory_ = FitScoped(memory, family_of);
  has_memory_ = !memory.empty();
  tails_ = FitTailRatios(set.rows);
  return absl::OkStatus();
}

absl::StatusOr<Prediction> RooflineFit::Predict(const hw::GpuModel& gpu,
                                                const models::ModelInfo& model,
                                                const perf::ProfileKey& key) const {
  ASSIGN_OR_RETURN(double roofline_ms, RooflineMs(gpu, model, key));
  const Line* line = latency_.For(model);
  if (line == nullptr) return absl::FailedPreconditionError("the roofline fit has no lines");
  Prediction p;
  p.latency_ms = std::max(line->slope * roofline_ms + line->intercept, 1e-6);
  ApplyTailRatios(tails_, p);
  if (has_memory_) {
    if (const Line* m = memory_.For(model)) {
      ASSIGN_OR_RETURN(Descriptors d, DescriptorsAt(model, key.input));
      p.memory_mib = d.weights_mb * 1e6 / kMib +
                     std::max(m->slope * key.batch * d.activation_mb + m->intercept, 0.0);
    }
  }
  return p;
}

nlohmann::json RooflineFit::ToJson() const {
  return {{"latency", LinesToJson(latency_, "efficiency", "overhead_ms")},
          {"memory", has_memory_ ? LinesToJson(memory_, "mib_per_activation_mb", "context_mib")
                                 : nlohmann::json(nullptr)},
          {"tail_ratios", TailRatiosToJson(tails_)}};
}

absl::StatusOr<RooflineFit> RooflineFit::FromJson(const nlohmann::json& object,
                                                  std::string_view path) {
  RooflineFit fit;
  std::string at(path);
  ASSIGN_OR_RETURN(const nlohmann::json* latency, Field(object, path, "latency"));
  ASSIGN_OR_RETURN(fit.latency_,
                   LinesFromJson(*latency, at + ".latency", "efficiency", "overhead_ms"));
  if (!fit.latency_.global) return FieldError(at + ".latency.global", "must not be null");
  ASSIGN_OR_RETURN(const nlohmann::json* memory, Field(object, path, "memory"));
  fit.has_memory_ = !memory->is_null();
  if (fit.has_memory_) {
    ASSIGN_OR_RETURN(fit.memory_, LinesFromJson(*memory, at + ".memory", "mib_per_activation_mb",
                                                "context_mib"));
  }
  ASSIGN_OR_RETURN(fit.tails_, TailRatiosFromJson(object, path, "tail_ratios"));
  return fit;
}

namespace {

class RooflinePredictor : public Predictor {
 public:
  explicit RooflinePredictor(const PredictorInputs& inputs) : inputs_(inputs) {}
  std::string name() const override { return "roofline"; }

  absl::Status Fit(const std::vector<perf::ProfileRow>& training) override {
    ASSIGN_OR_RETURN(TrainingSet set, SelectTraining(inputs_, training, 2, "roofline"));
    RooflineFit fit;
    RETURN_IF_ERROR(fit.Fit(inputs_, set));
    fit_ = std::move(fit);
    gpu_ = set.gpu;
    return absl::OkStatus();
  }

  absl::StatusOr<Prediction> Predict(const perf::ProfileKey& key) const override {
    if (gpu_ == nullptr)
      return absl::FailedPreconditionError("the roofline predictor is not fitted");
    ASSIGN_OR_RETURN(const models::ModelInfo* model, CheckKey(inputs_, *gpu_, key));
    return fit_.Predict(*gpu_, *model, key);
  }

  absl::StatusOr<nlohmann::json> Save() const override {
    if (gpu_ == nullptr)
      return absl::FailedPreconditionError("the roofline predictor is not fitted");
    nlohmann::json out = SaveHeader("roofline", *gpu_);
    out["fit"] = fit_.ToJson();
    return out;
  }

  absl::Status Load(const nlohmann::json& saved) {
    ASSIGN_OR_RETURN(gpu_, LoadGpu(saved, inputs_));
    ASSIGN_OR_RETURN(const nlohmann::json* fit, Field(saved, "", "fit"));
    ASSIGN_OR_RETURN(fit_, RooflineFit::FromJson(*fit, "fit"));
    return absl::OkStatus();
  }

 private:
  PredictorInputs inputs_;
  const hw::GpuModel* gpu_ = nullptr;
  RooflineFit fit_;
};

}  // namespace

std::unique_ptr<Predictor> MakeRooflinePredictor(const PredictorInputs& inputs) {
  return std::make_unique<RooflinePredictor>(inputs);
}

absl::StatusOr<std::unique_ptr<Predictor>> LoadRooflinePredictor(const nlohmann::json& saved,
                                                                 const PredictorInputs& inputs) {
  auto predictor = std::make_unique<RooflinePredictor>(inputs);
  RETURN_IF_ERROR(predictor->Load(saved));
  return std::unique_ptr<Predictor>(std::move(predictor));
}

}  // namespace tessera::predict::internal
