// tessera/driver/apply_transition.h — carries out a MIG transition plan (hw/transition.h) through a
// GpuDriver, and says truthfully where the GPU ended up.
//
// ApplyTransition performs the plan's steps in order on one GPU:
//   - kDrain:   calls `reroute` with the instance, which must move its requests elsewhere and
//               return only when the instance holds none (the serving layer's job);
//   - kDestroy: DestroyGpuInstance;
//   - kCreate:  CreateGpuInstance (which also creates the instance's full compute instance).
// Before the first step it reads the GPU's instances and refuses (FailedPrecondition, nothing
// done) when they are not the plan's `current` layout.
//
// Failure rule: at the first failed step (driver error or reroute error) it stops, re-reads the
// GPU's instances from the driver and reports those — never what it believes it did, since a driver
// may fail after the change took effect. The caller re-plans from `state` to the same target and
// applies again; instances that survive are never touched, so retrying is safe. After the last
// step it also re-reads and reports Internal if the GPU does not show the plan's target.
//
// Example:
//   ASSIGN_OR_RETURN(hw::TransitionPlan plan, hw::PlanTransitionToMultiset(model, now, want,
//   busy)); ApplyResult result = ApplyTransition(driver, 0, model, plan, reroute); if
//   (!result.status.ok() && result.state) { /* re-plan from *result.state */ }
//
// Not thread-safe: one transition per GPU at a time, and nothing else may change the GPU meanwhile.
#ifndef TESSERA_DRIVER_APPLY_TRANSITION_H_
#define TESSERA_DRIVER_APPLY_TRANSITION_H_

#include <functional>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/driver/gpu_driver.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/layout.h"
#include "tessera/hw/transition.h"

namespace tessera::driver {

// The GPU's instances as a placed layout of `model`'s profiles (matched by the reported profile
// name, else by profile id and size). FailedPrecondition for an instance `model` does not know.
absl::StatusOr<hw::PlacedLayout> ToPlacedLayout(const hw::GpuModel& model,
                                                const std::vector<GpuInstanceInfo>& instances);
// GetGpuInstances followed by ToPlacedLayout.
absl::StatusOr<hw::PlacedLayout> ReadPlacedLayout(GpuDriver& driver, int gpu_index,
                                                  const hw::GpuModel& model);

// Moves the requests of `instance` elsewhere; OK only once it holds none.
using RerouteFn = std::function<absl::Status(int gpu_index, const GpuInstanceInfo& instance)>;

struct ApplyOptions {
  int read_attempts = 3;  // tries for each read of the GPU's instances
};

struct ApplyResult {
  // OK when every step succeeded and the GPU shows the plan's target; otherwise the first error,
  // naming the step.
  absl::Status status;
  int steps_done = 0;  // steps that succeeded, a prefix of plan.steps
  // The GPU's instances and layout as re-read from the driver at the end; nullopt when they could
  // not be read (then `status` says so).
  std::optional<std::vector<GpuInstanceInfo>> instances;
  std::optional<hw::PlacedLayout> state;
};

ApplyResult ApplyTransition(GpuDriver& driver, int gpu_index, const hw::GpuModel& model,
                            const hw::TransitionPlan& plan, const RerouteFn& reroute,
                            const ApplyOptions& options = {});

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_APPLY_TRANSITION_H_
