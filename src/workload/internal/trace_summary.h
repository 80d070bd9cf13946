// The workload loader's pass over the traces in use: reads each once, streaming, and checks it,
// resolves Azure Functions keys, fills each trace demand's mean rate and, for models that take
// their inputs from a trace, the model's input distribution.
//
// Internal to tessera_workload.
#ifndef TESSERA_WORKLOAD_INTERNAL_TRACE_SUMMARY_H_
#define TESSERA_WORKLOAD_INTERNAL_TRACE_SUMMARY_H_

#include <vector>

#include "absl/status/status.h"
#include "tessera/base/yaml.h"
#include "tessera/models/registry.h"
#include "tessera/workload/workload.h"

namespace tessera::workload::internal {

// Where the loader found each trace (`traces[i]`, parallel to Workload::traces) and each model's
// demand (`demands[i]`, parallel to Workload::models), so that errors point into the workload file.
struct WorkloadPlaces {
  std::vector<YamlView> traces;
  std::vector<YamlView> demands;
};

// REQUIRES: `workload` parsed and checked (traces defined, paths resolved, keys canonical).
absl::Status SummarizeTraces(Workload& workload, const WorkloadPlaces& places,
                             const models::ModelRegistry& registry);

}  // namespace tessera::workload::internal

#endif  // TESSERA_WORKLOAD_INTERNAL_TRACE_SUMMARY_H_
