// tessera/predict/active.h — active profiling: which configurations to measure, under a budget,
// so that a Predictor fitted on them predicts the rest well (ElasticBatch's replacement of
// exhaustive profiling).
//
// The grid is the set of configurations one would otherwise measure exhaustively (in `tessera
// profiles plan` and the evaluation: the measured rows of one GPU in a profile table). Selection
// has two phases:
//   1. space-filling: models take turns (the one with the smallest share of its grid points chosen
//      goes next, so every model is covered first); each takes its point farthest (max-min
//      distance) from the points of that model already chosen, in the normalized space (log batch,
//      log SMs of the partition, log input, log procs), starting from the point nearest the
//      model's centroid: the middle first, then the extremes of partition size and batch.
//   2. uncertainty, in rounds: fit the predictor on everything measured so far, then measure the
//      configurations where Predictor::Uncertainty() is largest; when the predictor cannot tell (0
//      everywhere) the score is the disagreement |log(a / b)| between its prediction and a
//      reference predictor's ("roofline", or "learned" when the predictor is the roofline). Within
//      a round a candidate's score is scaled down by its closeness to the round's earlier picks,
//      so that one round does not spend itself on a single corner. Configurations the predictor
//      cannot predict at all are measured first.
// "Measuring" is a callback: in the evaluation and in `profiles plan` it reads the row from the
// table (a replay); with real hardware it would run the benchmark.
//
// Budgets are a share of the grid (15% = ceil(0.15 x grid size) configurations) or GPU-seconds,
// charged per configuration as MeasurementSeconds (setup + (warm-up + timed iterations) x batch
// latency). Before measuring a configuration the cost is estimated (the predictor's latency once
// fitted, else the median latency measured so far, else nothing but the setup); selection stops
// when the estimate no longer fits, and what was measured is charged at its measured cost.
//
// Example:
//   ActiveOptions options;
//   ASSIGN_OR_RETURN(options.budget, ParseMeasurementBudget("15%"));
//   ASSIGN_OR_RETURN(ActivePlan plan, ChooseMeasurements(grid, catalog, options,
//                                                        DefaultPredictorFactory(inputs),
//                                                        measure));
//   plan.chosen[i].key, plan.chosen[i].phase, plan.measured (the rows the callback returned)
//
// Deterministic given options.seed (it breaks ties between equally good configurations) and
// deterministic predictors. Not thread-safe: it calls the factory and the callback on its thread.
#ifndef TESSERA_PREDICT_ACTIVE_H_
#define TESSERA_PREDICT_ACTIVE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/perf/profiles.h"
#include "tessera/predict/predictor.h"

namespace tessera::predict {

// What measuring one configuration costs on the GPU. The defaults follow the bundled H100
// benchmark (data/datasets/h100-sm-partitions: 3 warm-ups, up to 30 timed replays) and its
// startup_costs.csv (CUDA context about 0.35 s, weight upload under 0.02 s, first inference up to
// 3 s): 5 s of set-up per configuration rounds those up with the process start.
struct MeasurementCost {
  int warmup_iterations = 3;
  int timed_iterations = 30;
  double setup_s = 5;
  absl::Status Validate() const;  // InvalidArgument naming the negative field
};

// GPU-seconds to measure a configuration whose batch latency is `latency_ms`:
// setup_s + (warmup_iterations + timed_iterations) x latency_ms / 1000.
double MeasurementSeconds(double latency_ms, const MeasurementCost& cost);

struct MeasurementBudget {
  enum class Kind { kGridShare, kGpuSeconds };
  Kind kind = Kind::kGridShare;
  double value = 0.15;           // kGridShare: 0 < value <= 1; kGpuSeconds: > 0
  std::string ToString() const;  // "15%" or "3600 GPU-s"
};
// "15%" (a share of the grid, 0 < p <= 100), "3600s" / "3600 s" (GPU-seconds) or "2h" / "90m".
// InvalidArgument showing the accepted forms otherwise ("15x", "0%", "-3s").
absl::StatusOr<MeasurementBudget> ParseMeasurementBudget(std::string_view text);

enum class SelectionPhase { kSpaceFilling, kUncertainty, kDisagreement, kUnpredictable };
const char* SelectionPhaseName(SelectionPhase phase);  // "space-filling", "uncertainty", ...

struct ActiveOptions {
  MeasurementBudget budget;
  MeasurementCost cost;
  std::string predictor = "learned";  // fitted between rounds of phase 2
  // For the disagreement score; empty: "roofline", or "learned" when `predictor` is "roofline".
  std::string reference_predictor;
  double space_filling_share = 0.8;  // of the budget, spent in phase 1 (0..1)
  int rounds = 4;                    // phase 2 rounds (>= 1)
  uint64_t seed = 1;
  absl::Status Validate() const;  // InvalidArgument naming the field
};

struct ChosenConfiguration {
  perf::ProfileKey key;
  SelectionPhase phase = SelectionPhase::kSpaceFilling;
  int round = 0;       // 0: phase 1; 1..rounds: phase 2
  double score = 0;    // phase 2: the uncertainty or disagreement that chose it; phase 1: distance
  double cost_s = 0;   // GPU-seconds charged (MeasurementSeconds of the measured latency)
  std::string reason;  // one line: "farthest from chosen resnet50 points (0.83)", ...
};

struct ActivePlan {
  std::vector<ChosenConfiguration> chosen;  // in the order measured
  std::vector<perf::ProfileRow> measured;   // what the callback returned, same order
  double gpu_seconds = 0;                   // sum of chosen[i].cost_s
  size_t grid_size = 0;
  std::string stop_reason;  // "budget reached (217 of 217 configurations)", ...
};

// Makes a predictor by name; DefaultPredictorFactory wraps MakePredictor.
using PredictorFactory =
    std::function<absl::StatusOr<std::unique_ptr<Predictor>>(std::string_view name)>;
PredictorFactory DefaultPredictorFactory(const PredictorInputs& inputs);

// Measures one configuration of the grid and returns its row (its latency is charged).
using MeasureFunction = std::function<absl::StatusOr<perf::ProfileRow>(const perf::ProfileKey&)>;

// Chooses and measures configurations of `grid` (keys of one GPU, no duplicates) within
// options.budget. A predictor that fails to fit (too few rows so far) makes that round
// space-filling instead; a configuration the fitted predictor cannot predict (any error but
// FailedPrecondition or Internal, which are returned) is measured first. Errors of `measure` and
// of the factory are returned. InvalidArgument for an empty grid, keys of several GPUs, duplicate
// keys or invalid options; NotFound for a GPU the catalog lacks.
absl::StatusOr<ActivePlan> ChooseMeasurements(const std::vector<perf::ProfileKey>& grid,
                                              const hw::Catalog& catalog,
                                              const ActiveOptions& options,
                                              const PredictorFactory& factory,
                                              const MeasureFunction& measure);

// The baseline: `count` configurations of `grid` drawn uniformly without replacement (seeded).
std::vector<perf::ProfileKey> RandomSelection(const std::vector<perf::ProfileKey>& grid,
                                              size_t count, uint64_t seed);

// How many configurations a grid-share budget allows: ceil(share x grid_size), at least 1.
size_t BudgetCount(const MeasurementBudget& budget, size_t grid_size);

}  // namespace tessera::predict

#endif  // TESSERA_PREDICT_ACTIVE_H_
