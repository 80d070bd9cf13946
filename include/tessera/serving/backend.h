// tessera/serving/backend.h — what executes a batch for the server: the interface between the
// serving layer (queues, batching, HTTP) and the thing that computes (the CUDA engine on a MIG
// instance or an SM partition, or the emulated backend that sleeps for the simulator's time).
//
// The server numbers the plan's assignments as sim::ExecutionTimes does (plan order: GPU,
// partition, assignment) and calls RunBatch(slot, executor, n) from one thread per executor
// (`procs` executors per assignment). A backend may run different (slot, executor) pairs at once;
// the server never calls the same pair twice at once.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Backend> b, MakeEmulatedBackend(plan, profiles, {}));
//   RETURN_IF_ERROR(b->Start(DescribeSlots(plan, catalog)));
//   RETURN_IF_ERROR(b->RunBatch(/*slot=*/0, /*executor=*/0, /*batch=*/4));   // blocks until done
//   b->Stop();
#ifndef TESSERA_SERVING_BACKEND_H_
#define TESSERA_SERVING_BACKEND_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/partition.h"
#include "tessera/plan/plan.h"
#include "tessera/sim/execution.h"

namespace tessera::serving {

// One plan assignment as a backend sees it.
struct SlotInfo {
  sim::SlotRef ref;       // where it sits in the plan
  int gpu_index = 0;      // plan GPU index (PlanGpu::index)
  std::string gpu_uuid;   // PlanGpu::uuid ("" when the plan is not bound to physical GPUs)
  std::string gpu_model;  // catalog canonical name
  int gpu_sms = 0;        // SMs of the whole GPU (0 when the catalog does not say)
  hw::Partition partition;
  std::optional<int> start;  // MIG start slice
  int partition_id = 0;      // 0, 1, ... over the plan's partitions that serve something
  std::string model;         // registry canonical name
  int input_max = 0;         // every request is padded to it
  int batch = 1;             // the largest batch the server sends
  int procs = 1;             // executors (copies running at once)
};

// The plan's assignments in slot order. `catalog` may be null (gpu_sms stays 0).
std::vector<SlotInfo> DescribeSlots(const plan::Plan& plan, const hw::Catalog* catalog);

class Backend {
 public:
  virtual ~Backend() = default;
  // "emulated", "cuda".
  virtual std::string_view name() const = 0;
  // Prepares every slot (weights, captured graphs, worker processes, green contexts) before the
  // server accepts requests. Called once. Errors name the slot (`gpus[0].partitions[1]...`) and
  // what failed.
  virtual absl::Status Start(const std::vector<SlotInfo>& slots) = 0;
  // Runs one batch of `batch` requests (1 <= batch <= the slot's batch size) of `slot` on its
  // executor `executor` (0 <= executor < procs) and returns when it has finished.
  virtual absl::Status RunBatch(int slot, int executor, int batch) = 0;
  // Releases everything Start made; no RunBatch is running or follows. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace tessera::serving

#endif  // TESSERA_SERVING_BACKEND_H_
