// The planners the factory knows; each is defined in its own file.
#ifndef TESSERA_SRC_PLANNERS_INTERNAL_MAKERS_H_
#define TESSERA_SRC_PLANNERS_INTERNAL_MAKERS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tessera/planners/common.h"
#include "tessera/planners/planner.h"
#include "tessera/workload/workload.h"

namespace tessera::planners::internal {

std::unique_ptr<Planner> MakeParvaPlanner();         // parva_planner.cc
std::unique_ptr<Planner> MakeWholeGpuPlanner();      // whole_gpu_planner.cc
std::unique_ptr<Planner> MakeStaticMigPlanner();     // static_mig_planner.cc
std::unique_ptr<Planner> MakeElasticBatchPlanner();  // elasticbatch_planner.cc
std::unique_ptr<Planner> MakeIlpPlanner();           // ilp_planner.cc
std::unique_ptr<Planner> MakeGpuletPlanner();        // gpulet_planner.cc

}  // namespace tessera::planners::internal

#endif  // TESSERA_SRC_PLANNERS_INTERNAL_MAKERS_H_
