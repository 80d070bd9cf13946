// Input buckets of one model for the elasticbatch planner (internal).
//
// A model whose input sizes vary is split into buckets (planners/bucketing.h), each served by its
// own instances with every request padded to the bucket's bound. The cost the buckets minimize is
// the GPU time a request padded to size s needs: the fewest compute-slice milliseconds per request
// (compute slices x batch latency / (batch x procs)) among the model's MIG configurations at s with
// 2 x latency <= SLO (a batch may wait for the one ahead of it; all configurations within the SLO
// where none is that fast). Sizes below the smallest profiled input are padded to it (no latency
// is known below), and bounds between profiled inputs are timed by interpolation along the input,
// as the simulator times them.
#ifndef TESSERA_SRC_PLANNERS_INTERNAL_INPUT_BUCKETS_H_
#define TESSERA_SRC_PLANNERS_INTERNAL_INPUT_BUCKETS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/hw/layout.h"
#include "tessera/planners/bucketing.h"
#include "tessera/planners/common.h"
#include "tessera/planners/planner.h"
#include "tessera/workload/workload.h"

namespace tessera::planners::internal {

// The buckets of one model and how they were chosen.
struct ModelBuckets {
  // As the plan's assignments take them: the first from input 0, each next from the previous bound
  // + 1, the last up to the largest size; `mass` the share of the model's requests.
  std::vector<InputBucket> buckets;
  std::string note;  // for the plan summary; empty for a fixed input
};

// The MIG configurations Acceptable() gives at `input`, which may lie between profiled inputs:
// those acceptable at the profiled input just below, looked up (interpolated along the input) at
// `input` and kept where the latency is within the SLO. Empty outside the profiled inputs.
std::vector<Configuration> AcceptableAtInput(const PlanningInputs& in, const hw::LayoutSpace& space,
                                             const workload::WorkloadModel& m, int input);

// The buckets of `m`: one at the largest size for a fixed input or options.input_buckets == 1;
// else the optimum with at most input_buckets (0: the automatic rule) for the cost above. When no
// cost can be computed (no profiled configuration meets the SLO at some size) the model keeps one
// bucket and the note says why; the planner then reports what cannot be served.
absl::StatusOr<ModelBuckets> ChooseInputBuckets(const PlanningInputs& in,
                                                const hw::LayoutSpace& space,
                                                const workload::WorkloadModel& m,
                                                const PlannerOptions& options);

}  // namespace tessera::planners::internal

#endif  // TESSERA_SRC_PLANNERS_INTERNAL_INPUT_BUCKETS_H_
