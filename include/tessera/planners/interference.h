// tessera/planners/interference.h — how much slower a job runs on an SM partition while other
// partitions of the same GPU are busy, for planners that co-locate partitions (gpulet).
//
// SM partitions (green contexts, MPS) split SMs but share memory bandwidth and L2, so a batch
// measured alone runs slower next to busy neighbours (1.12–1.43x on an H100 in
// data/datasets/h100-sm-partitions/interference_64_68.csv). A planner asks two questions:
//   - BudgetSlowdown(job): before it knows the neighbours (choosing a batch size), the factor to
//     budget for co-location;
//   - Slowdown(job, neighbours): once partitions are placed on one GPU, the factor for this job
//     next to these neighbours, to check that every job still meets its SLO rule (a planner keeps
//     apart partitions whose neighbours would slow a job beyond what its rule allows).
// ConstantInterference answers `factor` to both (1 with no neighbours): gpulet's 10% margin
// (Choi et al., ATC'22). LinearInterference is gpulet's regression on the jobs' memory pressure,
// fitted on measured pairs (tessera/perf/interference.h, where both are defined).
//
// Example:
//   ConstantInterference interference(1.1);
//   InterferenceJob job{"resnet50", 32, 16, 224};
//   double f = interference.BudgetSlowdown(job);              // 1.1
//   double g = interference.Slowdown(job, {{"bert_base", 64, 8, 128}});   // 1.1; 1 with {}
//   std::unique_ptr<Planner> gpulet =
//   NewGpuletPlanner(std::make_shared<ConstantInterference>(1.2));
//
// Implementations must be immutable after construction and safe to call from several threads.
#ifndef TESSERA_PLANNERS_INTERFERENCE_H_
#define TESSERA_PLANNERS_INTERFERENCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/perf/interference.h"
#include "tessera/planners/planner.h"

namespace tessera::planners {

// The interference models live in tessera_perf (the simulator uses them too); these names keep
// planner code and its callers compiling unchanged.
using perf::ConstantInterference;
using perf::InterferenceJob;
using perf::InterferenceModel;
using perf::LinearInterference;

// gpulet's margin: 10% (2 x 1.1 x latency(b) <= SLO).
inline constexpr double kGpuletInterferenceFactor = 1.1;

// The gpulet planner with `interference` deciding the margin and the co-location check.
// Planner::Create("gpulet") is NewGpuletPlanner(ConstantInterference(kGpuletInterferenceFactor)).
// REQUIRES: interference is not null.
std::unique_ptr<Planner> NewGpuletPlanner(std::shared_ptr<const InterferenceModel> interference);

}  // namespace tessera::planners

#endif  // TESSERA_PLANNERS_INTERFERENCE_H_
