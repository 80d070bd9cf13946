// tessera/workload/scale.h — the same workload at a multiple of its request rates, for finding how
// much load a plan sustains (`--rate-scale` on `tessera plan`, `compare` and `simulate`).
//
// Example:
//   ASSIGN_OR_RETURN(Workload w, LoadWorkloadFile("data/examples/h100-mix.workload.yaml",
//   registry)); ASSIGN_OR_RETURN(Workload twice, ScaleRates(w, 2.0));   // every model's rate
//   doubled
#ifndef TESSERA_WORKLOAD_SCALE_H_
#define TESSERA_WORKLOAD_SCALE_H_

#include "absl/status/statusor.h"
#include "tessera/workload/workload.h"

namespace tessera::workload {

// `workload` with every model's rate multiplied by `k`: Poisson and Gamma `rate_rps` (a Gamma
// keeps its cv); a trace demand's `scale`, `mean_rps` and loader-filled mean `rate_rps` (Azure
// Functions multiplies each minute's count; Azure LLM and CSV traces compress time, so they end k
// times sooner). Input distributions, SLOs and traces are unchanged; k = 1 gives the workload back.
// InvalidArgument unless k is finite and positive.
absl::StatusOr<Workload> ScaleRates(const Workload& workload, double k);

}  // namespace tessera::workload

#endif  // TESSERA_WORKLOAD_SCALE_H_
