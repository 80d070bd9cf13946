// tessera/predict/predictor.h — predicting batch latency and memory for configurations nobody
// measured: ElasticBatch's replacement of exhaustive profiling by a learned model.
//
// A configuration is a perf::ProfileKey (GPU, partition, model, input size, batch, procs). A
// Predictor is fitted on measured rows of one GPU (any subset of a profile table: what active
// profiling chose to measure) and then predicts any key of that GPU, including models it has never
// seen measured, from the model's registry descriptors (models/registry.h: FLOPs per item at a
// reference input and how they scale with input size, parameters, bytes per item) and the
// partition's share of the GPU (hw/catalog.h: SMs, memory slices, peak FLOP/s and bandwidth).
//
// Implementations, chosen by name (MakePredictor):
//   table     measured points, interpolated where perf::ProfileTable::Lookup can, else the
//             nearest measured point of the same (model, partition kind) scaled along batch and
//             SMs (gpulet's approach: a table, nothing learned);
//   roofline  analytic: max(FLOPs / (share x peak FLOP/s), bytes / (share x bandwidth)) per batch
//             plus a fixed launch cost, with an efficiency and an overhead fitted by least squares
//             per model where its training rows have >= 2 distinct roofline times, else per model
//             family, else per GPU (clones "m~k" share m's fit);
//   learned   gradient-boosted trees (XGBoost) correcting a physical baseline fitted per model
//             (launch cost, per-SM cost, compute and memory time, attention for token models):
//             the trees predict log(latency / baseline) from the descriptors, input size, batch,
//             SMs, memory share, their logs and products and the roofline estimate. Monotone
//             constraints hold on batch, input and SMs and on the baseline; features derived from
//             them are free, so monotonicity is likely (no dip above 1% along batch on the bundled
//             grids) but not guaranteed. Memory: the analytic weights + context + batch x
//             activations model.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Predictor> p,
//                    MakePredictor("learned", {&catalog, &registry}));
//   RETURN_IF_ERROR(p->Fit(training_rows));           // measured rows of one GPU
//   ASSIGN_OR_RETURN(Prediction y, p->Predict(key));  // y.latency_ms, y.memory_mib
//
// A fitted predictor is immutable and safe to share between threads; Fit is not thread-safe.
#ifndef TESSERA_PREDICT_PREDICTOR_H_
#define TESSERA_PREDICT_PREDICTOR_H_

#include <memory>
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

namespace tessera::predict {

// What a predictor says about one configuration. Tail latencies and memory are predicted only when
// the training rows have them (else nullopt).
struct Prediction {
  double latency_ms = 0;  // the typical batch latency (the profile's latency_ms: p50 or mean)
  std::optional<double> latency_ms_p90;
  std::optional<double> latency_ms_p99;
  std::optional<double> memory_mib;
};

// What predictors read besides the training rows. Both must outlive the predictor.
struct PredictorInputs {
  const hw::Catalog* catalog = nullptr;
  const models::ModelRegistry* registry = nullptr;
};

class Predictor {
 public:
  virtual ~Predictor() = default;
  virtual std::string name() const = 0;
  // Learns from `training`: rows of one GPU (kMeasured or kStandIn rows; others are ignored).
  // InvalidArgument when the rows name more than one GPU, when there are too few to fit (the
  // message says how many are needed), or for a row that cannot be learned from (a latency that
  // is not finite and positive, a non-finite or non-positive tail, negative memory, a batch,
  // procs or input below 1, a partition the GPU lacks, an input above the model's maximum; the
  // message names the row's key); NotFound for a GPU or model the catalog or registry lacks.
  // A second Fit replaces the first.
  virtual absl::Status Fit(const std::vector<perf::ProfileRow>& training) = 0;
  // The prediction for `key`. FailedPrecondition before Fit; InvalidArgument for a key of another
  // GPU than the fitted one, a partition that GPU does not have, or a model without the
  // descriptors this predictor needs (the message names the missing descriptor); NotFound (table
  // predictor only) when no measured row of the key's (model, partition kind, procs) exists to
  // scale from. Callers predicting many keys can skip keys with either error.
  virtual absl::StatusOr<Prediction> Predict(const perf::ProfileKey& key) const = 0;
  // How unsure the predictor is about `key`'s latency, as a relative spread (0.1 = about 10%);
  // active profiling measures where this is largest. Predictors that cannot tell return 0.
  virtual double Uncertainty(const perf::ProfileKey& key) const { return 0; }
  // The fitted predictor as JSON (docs/formats.md, "Predictor model"): {"format":
  // "tessera-predictor", "version": 1, "predictor": name(), "gpu": ..., ...its fitted state}, so
  // that `tessera profiles predict` can use what `tessera profiles fit` trained. FailedPrecondition
  // before Fit.
  virtual absl::StatusOr<nlohmann::json> Save() const = 0;
};

// A fitted predictor from Save()'s JSON. InvalidArgument naming the field (and what to do) for a
// malformed or foreign document, an unknown predictor name or version.
absl::StatusOr<std::unique_ptr<Predictor>> LoadPredictor(const nlohmann::json& saved,
                                                         const PredictorInputs& inputs);

// The predictor called `name` ("table", "roofline", "learned"); InvalidArgument listing the names
// otherwise, or when an input pointer is null.
absl::StatusOr<std::unique_ptr<Predictor>> MakePredictor(std::string_view name,
                                                         const PredictorInputs& inputs);
// Every predictor name, in the order above.
const std::vector<std::string>& PredictorNames();

// The share of `gpu` a partition gets, for analytic and learned predictors: SMs (the partition's
// own; for a MIG profile without a known SM count (sms: null in the catalog), max(1,
// round(compute_fraction x the GPU's SMs)) with compute_fraction = its compute slices over the
// GPU's), the fraction of the GPU's SMs, and the fraction of its memory bandwidth (a MIG instance:
// its memory slices over the GPU's; an SM partition (green context) or MPS share: the whole GPU's,
// shared). InvalidArgument for a partition the GPU does not have or a GPU without SM count.
struct PartitionShare {
  int sms = 0;
  double compute_fraction = 0;
  double bandwidth_fraction = 0;
};
absl::StatusOr<PartitionShare> ShareOf(const hw::GpuModel& gpu, const hw::Partition& partition);

// The roofline time of one batch, ms, at full efficiency and no launch cost: max(batch x FLOPs per
// item(input) / (compute_fraction x peak), (weights + batch x activation bytes per item(input)) /
// (bandwidth_fraction x bandwidth)) x procs, weights = params x 2 bytes (fp16), read once per
// batch (procs copies share the partition, so each copy's batch takes procs times as
// long). InvalidArgument naming the missing descriptor (gflops_per_item, ...) or GPU peak.
absl::StatusOr<double> RooflineMs(const hw::GpuModel& gpu, const models::ModelInfo& model,
                                  const perf::ProfileKey& key);

// Measured rows as JSON: a list of {"partition", "model", "input", "batch", "procs",
// "latency_ms", "latency_ms_p90", "latency_ms_p99", "memory_mib"} (tails and memory null when
// unknown), the GPU implied. The table predictor's saved "rows" and the "training" list `tessera
// profiles fit` adds to model.json use it.
nlohmann::json RowsToJson(const std::vector<perf::ProfileRow>& rows);
// The rows of such a list found at `path` of a document (e.g. "training"), for `gpu`, models
// canonicalised by `registry` (absent tails and memory read as unknown). InvalidArgument naming
// the field, e.g. "predictor model: field training[3].latency_ms: expected a number", for a
// wrong type, a missing field, a count outside 1..1000000, a non-positive latency or tail, a
// negative memory, a partition `gpu` lacks or a model `registry` lacks.
absl::StatusOr<std::vector<perf::ProfileRow>> RowsFromJson(const nlohmann::json& list,
                                                           std::string_view path,
                                                           const hw::GpuModel& gpu,
                                                           const models::ModelRegistry& registry);

}  // namespace tessera::predict

#endif  // TESSERA_PREDICT_PREDICTOR_H_
