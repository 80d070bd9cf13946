// MIG configurations a model may run in, and choosing among them by simulated capacity per unit of
// cost; shared by the elasticbatch and ilp planners (internal).
#ifndef TESSERA_SRC_PLANNERS_INTERNAL_MIG_CANDIDATES_H_
#define TESSERA_SRC_PLANNERS_INTERNAL_MIG_CANDIDATES_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "simulated_capacity.h"  // same folder
#include "tessera/hw/layout.h"
#include "tessera/planners/common.h"
#include "tessera/planners/planner.h"
#include "tessera/workload/workload.h"

namespace tessera::planners::internal {

inline constexpr int kMaxProcs = 3;  // MPS processes per MIG instance (ParvaGPU's limit)

// The GPU of `options` and the MIG layout space a MIG planner named `planner` works in, after
// validating the options. InvalidArgument for bad options, an unknown GPU or a GPU without MIG.
struct MigPlanningSpace {
  const hw::GpuModel* gpu = nullptr;
  hw::LayoutSpace space;
};
absl::StatusOr<MigPlanningSpace> StartMigPlanning(const std::string& planner,
                                                  const PlanningInputs& in,
                                                  const PlannerOptions& options);

// "3g.40gb batch 16 procs 2".
std::string ConfigText(const Configuration& c);

// Profiled MIG configurations of `space` with batch latency within the SLO and <= kMaxProcs procs,
// at input size `input`; capacity_rps is the upper bound procs x batch / latency.
std::vector<Configuration> Acceptable(const PlanningInputs& in, const hw::LayoutSpace& space,
                                      const workload::WorkloadModel& m, int input);

// What an instance of a configuration costs, in compute-slice units (lower is better).
using CostFn = std::function<double(const Configuration&)>;

// The cost variants tried by elasticbatch, in order: compute slices, GPU share (max of the compute
// and the memory share, in compute-slice units), memory slices. Index 1 (GPU share) is the one
// used to break ties between plans with as many GPUs.
std::vector<std::pair<std::string, CostFn>> CostVariants(const hw::GpuModel& gpu);

// The most simulated capacity per unit of `cost` among `cs` (capacity_rps set to it); candidates
// whose upper bound (cache.UpperBound) per unit cannot beat the best found are not simulated.
// capacity_rps 0: none serves any load. REQUIRES: cs is not empty.
absl::StatusOr<Configuration> MostPerCost(const CostFn& cost, std::vector<Configuration> cs,
                                          CapacityCache& cache);

// The cheapest (by `cost`) configuration whose simulated instance meets `rate_rps`; among equal
// costs the candidates are tried by ascending upper bound (the least capacity that covers).
// capacity_rps: the simulated capacity when known, else `rate_rps` (what was verified). Internal
// error when none does.
absl::StatusOr<Configuration> RightSized(const CostFn& cost, std::vector<Configuration> cs,
                                         double rate_rps, CapacityCache& cache);

// Per MIG profile of `cs` (in the order of first appearance): the configuration with the most
// simulated capacity on that profile; profiles where nothing serves any load are left out.
absl::StatusOr<std::vector<Configuration>> BestPerProfile(const std::vector<Configuration>& cs,
                                                          CapacityCache& cache);

}  // namespace tessera::planners::internal

#endif  // TESSERA_SRC_PLANNERS_INTERNAL_MIG_CANDIDATES_H_
