// tessera/planners/planning_case.h — seeded generator of large planning cases (many models, many
// GPUs) for planner benchmarks and the `tessera generate planning-case` command.
//
// Models are cloned from base scenarios (by default ParvaGPU's six A100-80GB scenarios and its
// profiles): clone k is named "m~k" (models::CloneName; the registry resolves it to m), with base
// models taken round-robin in name order so that each gets the same number of clones. Clone k
// copies, from one scenario that holds m (drawn at random), m's SLO, input distribution and Poisson
// rate; its profile rows are m's rows on the GPU with every latency times a factor drawn from
// [1 - jitter, 1 + jitter], fixed per clone. Then all rates are scaled by one factor so that the
// case needs about `gpus` GPUs:
//
//   sum over clones of rate / (best throughput per GPU) == gpus   (up to rounding rates to 0.01)
//
// where a configuration's throughput per GPU is its throughput (procs x batch / latency) times the
// GPU's compute slices over the partition's (MIG), or its SMs over the partition's (SM), over the
// configurations whose batch latency is at most half the SLO. Real planners need more GPUs than
// this estimate: packing leaves slices idle, stricter SLO rules and rate inflation cost capacity.
// The same base, options and seed give the same case.
//
// Example:
//   ASSIGN_OR_RETURN(PlanningCaseBase base, LoadBundledPlanningCaseBase(catalog, registry,
//   "a100")); PlanningCaseOptions o;  o.models = 200;  o.gpus = 1000;  o.seed = 1;
//   ASSIGN_OR_RETURN(PlanningCase c, GeneratePlanningCase(base, o));
//   RETURN_IF_ERROR(WritePlanningCase(c, "/tmp/case"));   // workload.yaml + profiles.csv
#ifndef TESSERA_PLANNERS_PLANNING_CASE_H_
#define TESSERA_PLANNERS_PLANNING_CASE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/workload/workload.h"

namespace tessera::planners {

struct PlanningCaseOptions {
  int models = 200;  // clones to make
  int gpus = 1000;   // the GPUs the case should need (the estimate above)
  uint64_t seed = 1;
  std::string gpu = "A100-SXM4-80GB";  // catalog name or alias; the base must profile it
  double jitter = 0.05;                // clone latency factor in [1 - jitter, 1 + jitter]
  // InvalidArgument naming the field: models or gpus not positive (or above 100000), jitter
  // outside [0, 0.5], an empty gpu.
  absl::Status Validate() const;
};

// What clones are drawn from. `catalog` must outlive GeneratePlanningCase.
struct PlanningCaseBase {
  const hw::Catalog* catalog = nullptr;
  perf::ProfileTable profiles;
  // Each scenario's models with Poisson demand give (SLO, input, rate) choices for their model.
  std::vector<workload::Workload> scenarios;
  std::string description;  // where the base comes from, for the generated files' headers
};

// The bundled base for `gpu` (a catalog name or alias) from tessera's data folder: for the
// H100-SXM5-80GB its SM-partition profiles (data/profiles/h100-sm-partitions.csv) and the H100 mix
// (data/examples/h100-mix.workload.yaml; bert_base, whose inputs vary, is not cloned); for any
// other GPU ParvaGPU's A100-80GB profiles (data/profiles/a100-parvagpu.csv) and its six scenarios
// (data/examples/parvagpu/slo*.workload.yaml), which GeneratePlanningCase rejects for a GPU they do
// not profile. NotFound for a GPU the catalog does not know.
absl::StatusOr<PlanningCaseBase> LoadBundledPlanningCaseBase(
    const hw::Catalog& catalog, const models::ModelRegistry& registry,
    std::string_view gpu = "A100-SXM4-80GB");

struct PlanningCase {
  perf::ProfileTable profiles;  // the clones' rows on the GPU, nothing else
  workload::Workload workload;  // one model per clone, Poisson demand, in clone order
  double estimated_gpus = 0;    // the sum above for the rounded rates
  double total_rate_rps = 0;
  std::string command;  // the options as `tessera generate planning-case` flags
};

// NotFound for a GPU the catalog does not know; InvalidArgument for bad options, or a base in
// which no model with Poisson demand and a fixed input has a profiled configuration on that GPU
// within half its SLO at every jitter factor.
absl::StatusOr<PlanningCase> GeneratePlanningCase(const PlanningCaseBase& base,
                                                  const PlanningCaseOptions& options);

// The case's workload as a workload YAML file (docs/formats.md), headed by a comment saying how it
// was made. REQUIRES: the workload is one GeneratePlanningCase made (fixed inputs, Poisson demand).
std::string PlanningCaseWorkloadYaml(const PlanningCase& planning_case);

// Writes `dir`/workload.yaml and `dir`/profiles.csv (the canonical profile CSV), creating `dir`.
// InvalidArgument when a file cannot be written.
absl::Status WritePlanningCase(const PlanningCase& planning_case, const std::string& dir);

}  // namespace tessera::planners

#endif  // TESSERA_PLANNERS_PLANNING_CASE_H_
