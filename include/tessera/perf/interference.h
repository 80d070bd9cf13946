// tessera/perf/interference.h — how much slower a job runs on an SM partition while other
// partitions of the same GPU are busy; used by planners that co-locate partitions (gpulet) and by
// the simulator.
//
// SM partitions (green contexts, MPS) split SMs but share memory bandwidth and L2, so a batch
// measured alone runs slower next to busy neighbours (1.12–1.43x on an H100 in
// data/datasets/h100-sm-partitions/interference_64_68.csv). MIG instances do not interfere (their
// memory slices are separate). A model answers two questions:
//   - BudgetSlowdown(job): before the neighbours are known (choosing a batch size), the factor to
//     budget for co-location;
//   - Slowdown(job, neighbours): the factor for this job while `neighbours` run on the other
//     partitions of its GPU (1 with none).
//
// ConstantInterference answers `factor` to both (gpulet's 10% margin, Choi et al., ATC'22).
// LinearInterference is gpulet's regression: with u the memory pressure of a job (below), the
// slowdown of job a while job b runs on the rest of the GPU is
//     S(a | b) = 1 + c0 + c1 u_a + c2 u_b + c3 u_a u_b,
// fitted by least squares on measured pairs (FitLinearInterference), where b filled the rest of
// the GPU. With several neighbours, or ones that fill only part of the rest, each adds its excess
// in proportion to the SMs it occupies outside a's partition:
//     slowdown(a | N) = 1 + sum over b in N of w_b (S(a | b) - 1),  w_b = sms_b / (gpu SMs - sms_a)
// (weights scaled down to sum to 1 if they exceed it). A busier GPU never slows a job less, and a
// neighbour on a quarter of the GPU presses half as much as one on the other half.
//
// Memory pressure u of a job (model, batch, input) on `sms` SMs of a GPU, from its solo latency L
// (a profile row, or the dataset's own solo column) and the registry's FLOPs descriptor:
//     compute utilization  cu = flops(batch, input) / L / (peak fp16 x sms / gpu SMs),
//     u = 1 - clamp(cu, 0, 1).
// The time a job does not spend at tensor-core peak is (to first order) time it waits on memory;
// descriptors have no byte counts, so this is a bandwidth-demand proxy, not a measurement.
// flops(batch, input) = gflops_per_item x batch x (input / reference_input)^e, e = 2 for pixel
// inputs (an image side), 1 for tokens. A job whose pressure cannot be derived (model not in the
// registry, no FLOPs descriptor, no profile row) gets the mean pressure of the jobs the model was
// fitted on. Limits: fitted on one split (64 + 68 SMs of an H100) at one batch per model; other
// splits, GPUs and several neighbours are extrapolation. The proxy explains victims' sensitivity
// better than neighbours' aggressiveness (efficientnet_b0 is the most memory-bound by the proxy and
// the least aggressive neighbour in the data).
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<InterferenceSample> samples,
//                    ReadInterferenceCsv(path, catalog, registry));
//   ASSIGN_OR_RETURN(LinearFit fit, FitLinearInterference(samples));
//   LinearInterference model(fit, PressureSource(*h100, &registry, &profiles));
//   double f = model.Slowdown({"resnet50", 64, 32, 224}, {{"vgg16", 68, 32, 224}});
//
// Implementations are immutable after construction and safe to call from several threads.
#ifndef TESSERA_PERF_INTERFERENCE_H_
#define TESSERA_PERF_INTERFERENCE_H_

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"

namespace tessera::perf {

// One job running on an SM partition: a model at a batch size and input, on `sms` SMs.
struct InterferenceJob {
  std::string model;
  int sms = 0;
  int batch = 1;
  int input = 0;  // 0: the model's reference input
  bool operator==(const InterferenceJob&) const = default;
};

class InterferenceModel {
 public:
  virtual ~InterferenceModel() = default;
  // One line: what the model is and where its numbers come from.
  virtual std::string Describe() const = 0;
  // The factor (>= 1) to budget for `job` next to neighbours not yet known.
  virtual double BudgetSlowdown(const InterferenceJob& job) const = 0;
  // The factor (>= 1) by which `job`'s latency grows while `neighbours` run on the other
  // partitions of its GPU; 1 when there are none. May exceed BudgetSlowdown(job) for bad pairs.
  virtual double Slowdown(const InterferenceJob& job,
                          const std::vector<InterferenceJob>& neighbours) const = 0;
};

// The same factor for every job that has a neighbour.
class ConstantInterference : public InterferenceModel {
 public:
  // REQUIRES: factor >= 1 (checked: a factor below 1 would promise a speed-up).
  explicit ConstantInterference(double factor);
  std::string Describe() const override;
  double BudgetSlowdown(const InterferenceJob& job) const override;
  double Slowdown(const InterferenceJob& job,
                  const std::vector<InterferenceJob>& neighbours) const override;
  double factor() const { return factor_; }

 private:
  double factor_;
};

// Derives a job's memory pressure u (see the top comment) on one GPU model. The registry and the
// profiles must outlive the source; profiles may be null (then only SoloPressure works).
class PressureSource {
 public:
  PressureSource(hw::GpuModel gpu, const models::ModelRegistry* registry,
                 const ProfileTable* profiles);
  // u from the solo latency in the profiles (procs 1, partition sm:<job.sms>); nullopt when the
  // model, its FLOPs descriptor, the GPU's peak or SM count, or the profile row is missing.
  std::optional<double> Pressure(const InterferenceJob& job) const;
  // u from a given solo latency; nullopt when descriptors are missing. REQUIRES: solo_ms > 0.
  std::optional<double> SoloPressure(const InterferenceJob& job, double solo_ms) const;
  const hw::GpuModel& gpu() const { return gpu_; }

 private:
  hw::GpuModel gpu_;
  const models::ModelRegistry* registry_;
  const ProfileTable* profiles_;
};

// One measured slowdown: `victim` (pressure u_victim) slowed by `slowdown` while `neighbour`
// (pressure u_neighbour) ran on the rest of the GPU. `pair` numbers the measurement (a CSV row
// gives two samples, one per direction, with the same pair) so that cross-validation holds out
// both directions together.
struct InterferenceSample {
  std::string victim;  // job names as in the dataset, e.g. "bert_base_seq128_b16"
  std::string neighbour;
  double u_victim = 0;
  double u_neighbour = 0;
  double slowdown = 1;
  int pair = 0;
  bool victim_profiled = true;  // whether the victim's model has rows in the profile table
};

// Reads a `gpu,job_a,sms_a,job_b,sms_b,solo_a_ms,solo_b_ms,coloc_a_ms,coloc_b_ms,slowdown_a,
// slowdown_b` CSV (data/datasets/h100-sm-partitions/interference_64_68.csv): two samples per row.
// Job names are `<model>_b<batch>` or `<model>_seq<N>_b<batch>` (model as in the registry).
// Pressures come from the CSV's solo latencies (SoloPressure), so jobs without profile rows are
// usable; `profiles` (may be null) only marks which victims have profile rows. InvalidArgument
// naming file, line and column for a missing column, a bad number (non-positive latency or
// slowdown), an unknown GPU or model, a model without a FLOPs descriptor, or a malformed job name;
// also for a file without rows.
absl::StatusOr<std::vector<InterferenceSample>> ReadInterferenceCsv(
    const std::string& path, const hw::Catalog& catalog, const models::ModelRegistry& registry,
    const ProfileTable* profiles);

// The coefficients of slowdown = 1 + c0 + c1 u_a + c2 u_b + c3 u_a u_b, and what the fit saw.
struct LinearFit {
  std::array<double, 4> c{};
  double mean_pressure = 0;              // over the samples' victims: the fallback pressure
  double budget_neighbour_pressure = 0;  // p90 of the samples' neighbour pressures (budget)
  int samples = 0;
  // S(a | b) for pressures u_a, u_b, never below 1.
  double Predict(double u_a, double u_b) const;
};

// Least squares on the samples (normal equations with a tiny ridge for stability).
// InvalidArgument with fewer than 4 samples.
absl::StatusOr<LinearFit> FitLinearInterference(const std::vector<InterferenceSample>& samples);

// gpulet's regression, with pressures from `source`.
class LinearInterference : public InterferenceModel {
 public:
  LinearInterference(LinearFit fit, PressureSource source, std::string origin = "");
  std::string Describe() const override;
  // S(job | a neighbour filling the rest of the GPU with pressure
  // fit.budget_neighbour_pressure, the 90th percentile of the neighbours the model was fitted on).
  double BudgetSlowdown(const InterferenceJob& job) const override;
  // The SM-weighted sum of the neighbours' excess slowdowns (see the top comment).
  double Slowdown(const InterferenceJob& job,
                  const std::vector<InterferenceJob>& neighbours) const override;
  const LinearFit& fit() const { return fit_; }
  // The pressure used for `job` (the fit's mean when it cannot be derived).
  double PressureOf(const InterferenceJob& job) const;

 private:
  LinearFit fit_;
  PressureSource source_;
  std::string origin_;
};

// Cross-validated error of the fitted model and of constant factors on the same held-out samples.
struct CrossValidation {
  int folds = 0;
  int samples = 0;
  double fitted_mape = 0;  // mean |predicted - measured| / measured, as a fraction
  double fitted_mae = 0;   // mean |predicted - measured| (slowdown units)
  double fitted_max_abs = 0;
  double constant_mape = 0;  // the constant `constant_factor` (gpulet's 1.1)
  double constant_mae = 0;
  double mean_mape = 0;  // a constant fitted per fold: the training folds' mean slowdown
  double mean_mae = 0;
  double constant_factor = 0;
  std::vector<double> predicted;  // per sample, in input order (held-out predictions)
};

// K-fold cross-validation by pair: measurement `pair` goes to fold pair % folds, so both
// directions of a measurement are held out together. folds <= 0 or more than the pairs: one fold
// per pair (leave-one-pair-out). InvalidArgument when a training set has fewer than 4 samples.
absl::StatusOr<CrossValidation> CrossValidateLinearInterference(
    const std::vector<InterferenceSample>& samples, int folds, double constant_factor);

// The bundled measurements: <data dir>/datasets/h100-sm-partitions/interference_64_68.csv
// (tessera::DataDir()); NotFound naming the places tried.
absl::StatusOr<std::string> DefaultInterferenceCsv();

// Reads the CSV at `path` (ReadInterferenceCsv), fits it, and returns the model for `gpu` with
// pressures from `registry` and `profiles` (both must outlive the model).
absl::StatusOr<std::unique_ptr<LinearInterference>> FitInterferenceModel(
    const std::string& path, const hw::GpuModel& gpu, const hw::Catalog& catalog,
    const models::ModelRegistry& registry, const ProfileTable* profiles);

}  // namespace tessera::perf

#endif  // TESSERA_PERF_INTERFERENCE_H_
