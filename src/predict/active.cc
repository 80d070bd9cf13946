#include "tessera/predict/active.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "fmt/core.h"
#include "tessera/base/rng.h"
#include "tessera/base/status.h"
#include "tessera/hw/partition.h"

namespace tessera::predict {

namespace {

// Fisher-Yates with tessera's seeded stream (the same order on every platform).
template <typename T>
void Shuffle(std::vector<T>& items, uint64_t seed) {
  RngStream rng(seed, /*stream=*/0);
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.Below(i)]);
}

}  // namespace

PredictorFactory DefaultPredictorFactory(const PredictorInputs& inputs) {
  return [inputs](std::string_view name) { return MakePredictor(name, inputs); };
}

std::vector<perf::ProfileKey> RandomSelection(const std::vector<perf::ProfileKey>& grid,
                                              size_t count, uint64_t seed) {
  std::vector<perf::ProfileKey> keys = grid;
  Shuffle(keys, seed);
  keys.resize(std::min(count, keys.size()));
  return keys;
}

size_t BudgetCount(const MeasurementBudget& budget, size_t grid_size) {
  double n = std::ceil(budget.value * static_cast<double>(grid_size) - 1e-9);
  return std::clamp<size_t>(static_cast<size_t>(n), 1, std::max<size_t>(grid_size, 1));
}

namespace {

constexpr int kDims = 4;  // log batch, log SMs, log input, log procs
using Point = std::array<double, kDims>;
// Within a round of phase 2, a candidate closer than this (normalized distance) to one of the
// round's picks of the same model has its score scaled down in proportion.
constexpr double kRoundSpread = 0.25;
// The score of a configuration the predictor cannot predict: above any uncertainty, finite so that
// the round's spreading still applies among such configurations.
constexpr double kUnpredictableScore = 1e6;

double Distance(const Point& a, const Point& b) {
  double sum = 0;
  for (int d = 0; d < kDims; ++d) sum += (a[d] - b[d]) * (a[d] - b[d]);
  return std::sqrt(sum);
}

// The grid in the normalized feature space, with each key's model and tie-break rank.
struct Space {
  std::vector<Point> points;
  std::vector<int> model;    // index into models
  std::vector<size_t> rank;  // seeded tie-break order: lower wins
  std::vector<std::string> models;
};

absl::StatusOr<Space> MakeSpace(const std::vector<perf::ProfileKey>& grid, const hw::GpuModel& gpu,
                                uint64_t seed) {
  Space space;
  std::map<std::string, int> model_index;
  for (const perf::ProfileKey& key : grid) model_index.emplace(key.model, 0);
  for (auto& [name, index] : model_index) {
    index = static_cast<int>(space.models.size());
    space.models.push_back(name);
  }
  Point lo, hi;
  lo.fill(std::numeric_limits<double>::infinity());
  hi.fill(-std::numeric_limits<double>::infinity());
  for (const perf::ProfileKey& key : grid) {
    // ShareOf knows the SMs of MIG profiles the catalog has no SM count for.
    ASSIGN_OR_RETURN(PartitionShare share, ShareOf(gpu, key.partition));
    Point p = {std::log(key.batch), std::log(std::max(share.sms, 1)), std::log(key.input),
               std::log(key.procs)};
    for (int d = 0; d < kDims; ++d) lo[d] = std::min(lo[d], p[d]), hi[d] = std::max(hi[d], p[d]);
    space.points.push_back(p);
    space.model.push_back(model_index[key.model]);
  }
  for (Point& p : space.points) {
    for (int d = 0; d < kDims; ++d) p[d] = hi[d] > lo[d] ? (p[d] - lo[d]) / (hi[d] - lo[d]) : 0;
  }
  space.rank.resize(grid.size());
  std::iota(space.rank.begin(), space.rank.end(), 0);
  Shuffle(space.rank, seed);
  return space;
}

// One run of ChooseMeasurements.
class Selector {
 public:
  Selector(const std::vector<perf::ProfileKey>& grid, Space space, const ActiveOptions& options,
           const PredictorFactory& factory, const MeasureFunction& measure)
      : grid_(grid),
        space_(std::move(space)),
        options_(options),
        factory_(factory),
        measure_(measure),
        chosen_(grid.size(), false),
        chosen_per_model_(space_.models.size(), 0),
        grid_per_model_(space_.models.size(), 0) {
    for (int m : space_.model) ++grid_per_model_[m];
    plan_.grid_size = grid.size();
  }

  absl::StatusOr<ActivePlan> Run();

 private:
  struct Candidate {
    size_t index;
    double score;
    SelectionPhase phase;
  };

  bool Exhausted() const { return plan_.chosen.size() == grid_.size(); }
  bool Better(double a, size_t ia, double b, size_t ib) const {
    return a > b || (a == b && space_.rank[ia] < space_.rank[ib]);
  }
  double EstimateSeconds(size_t index, const Predictor* fitted) const;
  // Whether `index` fits within `limit`: a configuration count or GPU-seconds spent in total.
  bool Affordable(size_t index, double limit, const Predictor* fitted) const;
  absl::Status Measure(size_t index, SelectionPhase phase, int round, double score,
                       std::string reason);
  std::optional<size_t> NextSpaceFilling(double* distance) const;
  absl::Status SpaceFill(double limit, int round, const std::string& why);
  absl::StatusOr<std::unique_ptr<Predictor>> Fitted(const std::string& name,
                                                    std::string* failure) const;
  absl::StatusOr<std::vector<Candidate>> Scores(const Predictor& primary, std::string* failure);
  absl::Status PickRound(std::vector<Candidate> candidates, double limit, int round,
                         const Predictor& fitted);
  std::string ReferenceName() const;
  double Limit(double phase_share) const;
  double Spent() const;

  const std::vector<perf::ProfileKey>& grid_;
  Space space_;
  const ActiveOptions& options_;
  const PredictorFactory& factory_;
  const MeasureFunction& measure_;
  std::vector<bool> chosen_;
  std::vector<int> chosen_per_model_;
  std::vector<int> grid_per_model_;
  std::vector<double> measured_latency_ms_;
  ActivePlan plan_;
};

bool IsCount(const ActiveOptions& options) {
  return options.budget.kind == MeasurementBudget::Kind::kGridShare;
}

double Selector::Spent() const {
  return IsCount(options_) ? static_cast<double>(plan_.chosen.size()) : plan_.gpu_seconds;
}

// The budget limit (in Spent()'s unit) after `share` of the budget.
double Selector::Limit(double share) const {
  if (IsCount(options_)) {
    return std::round(share * static_cast<double>(BudgetCount(options_.budget, grid_.size())));
  }
  return share * options_.budget.value;
}

double Selector::EstimateSeconds(size_t index, const Predictor* fitted) const {
  if (fitted != nullptr) {
    absl::StatusOr<Prediction> p = fitted->Predict(grid_[index]);
    if (p.ok()) return MeasurementSeconds(p->latency_ms, options_.cost);
  }
  if (measured_latency_ms_.empty()) return MeasurementSeconds(0, options_.cost);
  std::vector<double> sorted = measured_latency_ms_;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  return MeasurementSeconds(sorted[sorted.size() / 2], options_.cost);
}

bool Selector::Affordable(size_t index, double limit, const Predictor* fitted) const {
  if (IsCount(options_)) return Spent() + 1 <= limit + 1e-9;
  return Spent() + EstimateSeconds(index, fitted) <= limit;
}

absl::Status Selector::Measure(size_t index, SelectionPhase phase, int round, double score,
                               std::string reason) {
  ASSIGN_OR_RETURN(perf::ProfileRow row, measure_(grid_[index]));
  if (!(row.key == grid_[index])) {
    return absl::InvalidArgumentError(
        fmt::format("measuring {} returned a row of {}; the measure function must return the row "
                    "of the key it was given",
                    grid_[index].ToString(), row.key.ToString()));
  }
  if (!std::isfinite(row.latency_ms) || row.latency_ms <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("measuring {} gave latency {} ms; expected a finite positive latency",
                    grid_[index].ToString(), row.latency_ms));
  }
  chosen_[index] = true;
  ++chosen_per_model_[space_.model[index]];
  measured_latency_ms_.push_back(row.latency_ms);
  double cost_s = MeasurementSeconds(row.latency_ms, options_.cost);
  plan_.gpu_seconds += cost_s;
  plan_.chosen.push_back({grid_[index], phase, round, score, cost_s, std::move(reason)});
  plan_.measured.push_back(std::move(row));
  return absl::OkStatus();
}

// The next space-filling point: the least-covered model's point farthest from its chosen points
// (its most central point when none is chosen yet). Sets *distance (0 for a first point).
std::optional<size_t> Selector::NextSpaceFilling(double* distance) const {
  int model = -1;
  for (int m = 0; m < static_cast<int>(space_.models.size()); ++m) {
    if (chosen_per_model_[m] == grid_per_model_[m]) continue;
    if (model < 0 || static_cast<double>(chosen_per_model_[m]) / grid_per_model_[m] <
                         static_cast<double>(chosen_per_model_[model]) / grid_per_model_[model]) {
      model = m;
    }
  }
  if (model < 0) return std::nullopt;
  Point centroid{};
  std::vector<size_t> chosen_points;
  for (size_t i = 0; i < grid_.size(); ++i) {
    if (space_.model[i] != model) continue;
    for (int d = 0; d < kDims; ++d) centroid[d] += space_.points[i][d] / grid_per_model_[model];
    if (chosen_[i]) chosen_points.push_back(i);
  }
  std::optional<size_t> best;
  double best_score = 0;
  for (size_t i = 0; i < grid_.size(); ++i) {
    if (space_.model[i] != model || chosen_[i]) continue;
    double score = -Distance(space_.points[i], centroid);
    if (!chosen_points.empty()) {
      score = std::numeric_limits<double>::infinity();
      for (size_t c : chosen_points)
        score = std::min(score, Distance(space_.points[i], space_.points[c]));
    }
    if (!best || Better(score, i, best_score, *best)) best = i, best_score = score;
  }
  *distance = chosen_points.empty() ? 0 : best_score;
  return best;
}

absl::Status Selector::SpaceFill(double limit, int round, const std::string& why) {
  double distance = 0;
  while (std::optional<size_t> next = NextSpaceFilling(&distance)) {
    if (!Affordable(*next, limit, nullptr)) break;
    const std::string& model = space_.models[space_.model[*next]];
    std::string reason =
        distance == 0
            ? fmt::format("the most central {} configuration", model)
            : fmt::format("farthest from the chosen {} configurations ({:.2f})", model, distance);
    if (!why.empty()) reason += "; " + why;
    RETURN_IF_ERROR(Measure(*next, SelectionPhase::kSpaceFilling, round, distance, reason));
  }
  return absl::OkStatus();
}

std::string Selector::ReferenceName() const {
  if (!options_.reference_predictor.empty()) return options_.reference_predictor;
  return options_.predictor == "roofline" ? "learned" : "roofline";
}

// A predictor fitted on the rows measured so far; nullptr with *failure set when it cannot fit
// (InvalidArgument: too few or unsuitable rows).
absl::StatusOr<std::unique_ptr<Predictor>> Selector::Fitted(const std::string& name,
                                                            std::string* failure) const {
  ASSIGN_OR_RETURN(std::unique_ptr<Predictor> predictor, factory_(name));
  absl::Status fit = predictor->Fit(plan_.measured);
  if (fit.ok()) return predictor;
  if (fit.code() != absl::StatusCode::kInvalidArgument) return fit;
  *failure = fmt::format("{} did not fit: {}", name, std::string(fit.message()));
  return nullptr;
}

// The phase-2 score of every unchosen configuration; empty with *failure set when the predictor
// cannot tell and the reference predictor did not fit either.
absl::StatusOr<std::vector<Selector::Candidate>> Selector::Scores(const Predictor& primary,
                                                                  std::string* failure) {
  std::vector<Candidate> out;
  bool any_uncertainty = false;
  for (size_t i = 0; i < grid_.size(); ++i) {
    if (chosen_[i]) continue;
    absl::StatusOr<Prediction> p = primary.Predict(grid_[i]);
    if (!p.ok() && (p.status().code() == absl::StatusCode::kFailedPrecondition ||
                    p.status().code() == absl::StatusCode::kInternal)) {
      return p.status();
    }
    if (!p.ok()) {
      out.push_back({i, kUnpredictableScore, SelectionPhase::kUnpredictable});
      continue;
    }
    double u = primary.Uncertainty(grid_[i]);
    any_uncertainty = any_uncertainty || u > 0;
    out.push_back({i, u, SelectionPhase::kUncertainty});
  }
  if (any_uncertainty) return out;
  ASSIGN_OR_RETURN(std::unique_ptr<Predictor> reference, Fitted(ReferenceName(), failure));
  if (reference == nullptr) return std::vector<Candidate>{};
  for (Candidate& c : out) {
    if (c.phase == SelectionPhase::kUnpredictable) continue;
    absl::StatusOr<Prediction> a = primary.Predict(grid_[c.index]);
    absl::StatusOr<Prediction> b = reference->Predict(grid_[c.index]);
    c.phase = SelectionPhase::kDisagreement;
    c.score = a.ok() && b.ok() && a->latency_ms > 0 && b->latency_ms > 0
                  ? std::abs(std::log(a->latency_ms / b->latency_ms))
                  : 0;
  }
  return out;
}

// Measures the best candidates while `limit` allows, each score scaled down by closeness to the
// round's earlier picks of the same model.
absl::Status Selector::PickRound(std::vector<Candidate> candidates, double limit, int round,
                                 const Predictor& fitted) {
  std::vector<double> spread(candidates.size(), 1.0);
  std::vector<bool> taken(candidates.size(), false);
  while (!Exhausted()) {
    std::optional<size_t> best;
    double best_score = 0;
    for (size_t c = 0; c < candidates.size(); ++c) {
      if (taken[c]) continue;
      double score = candidates[c].score * spread[c];
      if (!best || Better(score, candidates[c].index, best_score, candidates[*best].index)) {
        best = c, best_score = score;
      }
    }
    if (!best || !Affordable(candidates[*best].index, limit, &fitted)) break;
    const Candidate& pick = candidates[*best];
    taken[*best] = true;
    std::string reason = pick.phase == SelectionPhase::kUnpredictable
                             ? fmt::format("{} cannot predict it", options_.predictor)
                         : pick.phase == SelectionPhase::kUncertainty
                             ? fmt::format("{} uncertainty {:.3f}", options_.predictor, pick.score)
                             : fmt::format("|log({} / {})| = {:.3f}", options_.predictor,
                                           ReferenceName(), pick.score);
    RETURN_IF_ERROR(Measure(pick.index, pick.phase, round, pick.score, std::move(reason)));
    for (size_t c = 0; c < candidates.size(); ++c) {
      if (space_.model[candidates[c].index] != space_.model[pick.index]) continue;
      double d = Distance(space_.points[candidates[c].index], space_.points[pick.index]);
      spread[c] = std::min(spread[c], std::min(1.0, d / kRoundSpread));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ActivePlan> Selector::Run() {
  // Unknown predictor names fail here, before anything is measured.
  for (const std::string& name : {options_.predictor, ReferenceName()}) {
    absl::StatusOr<std::unique_ptr<Predictor>> made = factory_(name);
    if (!made.ok()) {
      return absl::InvalidArgumentError(fmt::format(
          "{} '{}': {}", name == options_.predictor ? "predictor" : "reference_predictor", name,
          std::string(made.status().message())));
    }
  }
  double phase1 = Limit(options_.space_filling_share);
  if (IsCount(options_))
    phase1 = std::max(phase1, std::min<double>(space_.models.size(), Limit(1)));
  RETURN_IF_ERROR(SpaceFill(phase1, 0, ""));
  for (int round = 1; round <= options_.rounds && !Exhausted(); ++round) {
    double share =
        options_.space_filling_share + (1 - options_.space_filling_share) * round / options_.rounds;
    double limit = Limit(share);
    // No room left in this round's limit: no point fitting.
    if (IsCount(options_) ? Spent() + 1 > limit + 1e-9 : Spent() >= limit) continue;
    std::string failure;
    ASSIGN_OR_RETURN(std::unique_ptr<Predictor> fitted, Fitted(options_.predictor, &failure));
    std::vector<Candidate> candidates;
    if (fitted != nullptr) {
      ASSIGN_OR_RETURN(candidates, Scores(*fitted, &failure));
    }
    if (candidates.empty()) {
      RETURN_IF_ERROR(SpaceFill(limit, round, failure));
    } else {
      RETURN_IF_ERROR(PickRound(std::move(candidates), limit, round, *fitted));
    }
  }
  plan_.stop_reason =
      Exhausted() ? fmt::format("every configuration of the grid measured ({})", grid_.size())
                  : fmt::format("budget {} reached: {} of {} configurations, {:.0f} GPU-s",
                                options_.budget.ToString(), plan_.chosen.size(), grid_.size(),
                                plan_.gpu_seconds);
  return std::move(plan_);
}

absl::Status CheckGrid(const std::vector<perf::ProfileKey>& grid) {
  if (grid.empty()) return absl::InvalidArgumentError("the grid is empty: nothing to choose from");
  std::set<perf::ProfileKey> seen;
  for (const perf::ProfileKey& key : grid) {
    if (key.gpu != grid.front().gpu) {
      return absl::InvalidArgumentError(fmt::format(
          "the grid names two GPUs ({} and {}); choose one GPU's keys", grid.front().gpu, key.gpu));
    }
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(fmt::format("the grid has {} twice", key.ToString()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ActivePlan> ChooseMeasurements(const std::vector<perf::ProfileKey>& grid,
                                              const hw::Catalog& catalog,
                                              const ActiveOptions& options,
                                              const PredictorFactory& factory,
                                              const MeasureFunction& measure) {
  RETURN_IF_ERROR(options.Validate());
  RETURN_IF_ERROR(CheckGrid(grid));
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, catalog.Find(grid.front().gpu));
  ASSIGN_OR_RETURN(Space space, MakeSpace(grid, *gpu, options.seed));
  Selector selector(grid, std::move(space), options, factory, measure);
  return selector.Run();
}

}  // namespace tessera::predict
