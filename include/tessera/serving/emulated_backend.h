// tessera/serving/emulated_backend.h — a Backend that computes nothing: each batch sleeps for the
// time the simulator would charge it (sim::ExecutionTimes, the same function), stretched by
// interference between SM partitions of one GPU when a model is given (sim::InterferenceTracker,
// the simulator's rule: decided when the batch starts), with optional lognormal noise.
//
// It lets the server's batching, overload and drain logic run end to end on any machine, and
// `serve --backend emulated` + `load` be compared with `simulate` on the same plan and trace.
//
// Example:
//   ASSIGN_OR_RETURN(auto backend, MakeEmulatedBackend(plan, profiles, &catalog, {}));
//
// Thread-safe: RunBatch may run on many threads at once.
#ifndef TESSERA_SERVING_EMULATED_BACKEND_H_
#define TESSERA_SERVING_EMULATED_BACKEND_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/perf/interference.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/serving/backend.h"

namespace tessera::serving {

struct EmulatedOptions {
  // Interference between SM/MPS partitions of a GPU (null: none), as SimOptions::interference.
  std::shared_ptr<const perf::InterferenceModel> interference;
  double noise_cv = 0;  // as SimOptions::noise_cv
  uint64_t seed = 1;    // of the noise streams (one per partition)
};

// Errors: InvalidArgument when a batch size of an assignment cannot be timed from the profiles
// (sim::ExecutionTimes::Build's message) or for a negative noise_cv. `catalog` (for MPS shares'
// SM counts) may be null and must otherwise outlive the backend, as must `plan`.
absl::StatusOr<std::unique_ptr<Backend>> MakeEmulatedBackend(const plan::Plan& plan,
                                                             const perf::ProfileTable& profiles,
                                                             const hw::Catalog* catalog,
                                                             const EmulatedOptions& options);

}  // namespace tessera::serving

#endif  // TESSERA_SERVING_EMULATED_BACKEND_H_
