// tessera/adapt/perf_book.h — what one partition does for one tenant: serve its model (requests
// per second within the SLO) or retrain it (samples per second), and how long a new process takes
// before it serves.
//
// The book is computed once from the profiles, per tenant and per MIG profile of the GPU, and is
// what every adaptation policy and the engine read, so they all value a partition the same way.
//
//   - Inference on a MIG instance of profile p: the best `batch / latency` over the profiled
//     configurations (one process) whose latency meets gpulet's rule `2 x latency <= SLO`, at the
//     model's largest input. 0 when none does.
//   - Inference on a time slice `share` of a whole GPU (no MIG; Ekya, fair): a batch taking
//     `latency` alone takes `latency / share` of wall time, so the rule is applied to that and the
//     capacity is `share x batch / latency`. The whole GPU is the GPU's full-GPU MIG profile (7g,
//     the most compute slices without +me, whatever profiles the run allows MIG policies): the
//     profiles measure no non-MIG runs.
//   - Retraining on profile p: `batch / (cost_factor x latency(batch))` samples per second, with
//   the
//     tenant's retraining batch (largest profiled batch at or below it when it was not measured).
//     On a time slice: `share` times the whole GPU's rate.
//   - Startup of a new serving or training process on an instance: CUDA context + weight upload +
//     first (warm-up) inference, from the measured startup costs (data/datasets/h100-sm-partitions/
//     startup_costs.csv, batch 32 rows). Models not measured there take the mean of the measured
//     ones (stated in `notes`, as is a GPU other than the one they were measured on, and a
//     partition a tenant cannot retrain on because no batch at or below its retraining batch was
//     profiled there).
//
// Example:
//   ASSIGN_OR_RETURN(PerfBook book, PerfBook::Build(gpu, space, profiles, workload, startup));
//   double rps = book.InferenceRps(/*tenant=*/0, /*profile=*/space.profiles()[2]);
//
// Immutable after Build; thread-safe.
#ifndef TESSERA_ADAPT_PERF_BOOK_H_
#define TESSERA_ADAPT_PERF_BOOK_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/layout.h"
#include "tessera/perf/profiles.h"
#include "tessera/workload/workload.h"

namespace tessera::adapt {

// Measured startup seconds of a new process per model (context + weights + first inference).
struct StartupCosts {
  std::map<std::string, double> seconds;  // canonical model name -> seconds
  std::string gpu;                        // where they were measured (the file's gpu column)
  // Loads the startup_costs.csv format (gpu,model,batch,cuda_context_s,weights_upload_s,
  // first_inference_s,...); rows at batch 32 are used, all for one GPU. Errors name file, line and
  // column.
  static absl::StatusOr<StartupCosts> Load(const std::string& path);
  // The default bundled file under the data directory.
  static absl::StatusOr<StartupCosts> LoadDefault();
};

// The served unit of an adaptation run. When the workload has `tenants:`, one per tenant (in that
// order); otherwise one per workload model, with no retraining (pure serving: gpulet-autoscale,
// static-peak).
struct TenantInfo {
  std::string name;
  int model = 0;  // index into Workload::models
  double slo_ms = 0;
  bool retrains = false;
  workload::Tenant spec;  // when retrains
};

class PerfBook {
 public:
  // InvalidArgument when a tenant's model has no profiled row on `gpu` at all.
  static absl::StatusOr<PerfBook> Build(const hw::GpuModel& gpu, const hw::LayoutSpace& space,
                                        const perf::ProfileTable& profiles,
                                        const workload::Workload& workload,
                                        const StartupCosts& startup);

  const hw::GpuModel& gpu() const { return *gpu_; }
  const std::vector<TenantInfo>& tenants() const { return tenants_; }
  int tenant_count() const { return static_cast<int>(tenants_.size()); }
  // The GPU's full-GPU MIG profile (the most compute slices), the stand-in for a whole GPU.
  int whole_profile() const { return whole_profile_; }

  // Requests per second within the SLO on one instance of `profile` (a profile index of the GPU).
  double InferenceRps(int tenant, int profile) const;
  // The same on a time slice `share` in (0, 1] of the whole GPU.
  double SharedInferenceRps(int tenant, double share) const;
  // Retraining samples per second on one instance of `profile`; on a time slice of the whole GPU.
  double RetrainSamplesPerS(int tenant, int profile) const;
  double SharedRetrainSamplesPerS(int tenant, double share) const;
  // Seconds before a new process of the tenant's model serves or trains.
  double StartupS(int tenant) const;

  // Stand-ins used (a model without startup figures, a retraining batch not profiled).
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  struct Config {
    double latency_ms = 0;
    int batch = 0;
  };
  const hw::GpuModel* gpu_ = nullptr;
  std::vector<TenantInfo> tenants_;
  int whole_profile_ = 0;
  std::vector<std::vector<double>> inference_rps_;  // [tenant][profile]
  std::vector<std::vector<double>> retrain_rps_;    // [tenant][profile]
  std::vector<std::vector<Config>> whole_configs_;  // [tenant]: profiled configs on the whole GPU
  std::vector<double> startup_s_;
  std::vector<std::string> notes_;
};

}  // namespace tessera::adapt

#endif  // TESSERA_ADAPT_PERF_BOOK_H_
