// tessera/runtime_cuda/cuda_backend.h — the serving backend that runs the plan on real GPUs.
//
// Start(slots) prepares every assignment of the plan where its partition says:
//   - `sm:N` partitions of one plan GPU: one green-context split of that physical GPU into
//     disjoint SM groups (green_context.h), one green context, stream and Engine per executor;
//   - `sm:N` with N the GPU's SMs, alone on its GPU: the whole device, an Engine per executor;
//   - MIG partitions (profile + start): the existing MIG instance is found through NVML (never
//     created or changed: that is `tessera apply`), and one `tessera worker` process per instance
//     runs with CUDA_VISIBLE_DEVICES=MIG-<uuid>, one channel and Engine per executor (worker.h);
//   - `mps:P` partitions: Unimplemented (serve them on `sm:` partitions, or emulated).
// The physical GPU is the plan GPU's `uuid` when given, else the CUDA device whose ordinal is the
// plan GPU's index (set CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA numbers GPUs as NVML does).
//
// Graphs: each executor captures its model at the batch sizes CaptureBatchSizes(batch) at the
// slot's input_max; RunBatch(slot, executor, n) replays the smallest captured size >= n (padding
// the batch up, as a serving system with fixed graphs does).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<serving::Backend> b, MakeCudaBackend(plan, {}));
//   RETURN_IF_ERROR(b->Start(serving::DescribeSlots(plan, &catalog)));
//   RETURN_IF_ERROR(b->RunBatch(0, 0, 3));   // replays the batch-3 graph
//   b->Stop();
//
// Errors: Start returns Unavailable, saying there is no GPU, on a machine without a driver or
// device; FailedPrecondition when the plan's partitions cannot be realised (SM counts the split
// cannot make, missing MIG instances); errors name the slot's plan path. Thread safety:
// RunBatch may run on different (slot, executor) pairs at once, as serving::Backend allows.
#ifndef TESSERA_RUNTIME_CUDA_CUDA_BACKEND_H_
#define TESSERA_RUNTIME_CUDA_CUDA_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/plan/plan.h"
#include "tessera/serving/backend.h"

namespace tessera::runtime_cuda {

struct CudaBackendOptions {
  uint64_t seed = 1;          // weights and inputs of every engine
  std::string worker_binary;  // the tessera binary for MIG worker processes; "" = /proc/self/exe
  bool every_batch = false;   // capture every size 1..batch instead of CaptureBatchSizes
};

// The batch sizes captured for a slot of batch size `batch`: every size 1..8, then multiples of 8
// up to 64, then multiples of 16, and `batch` itself (at most 8 + 7 + 4 = 19 graphs for 128), all
// <= batch, ascending.
std::vector<int> CaptureBatchSizes(int batch);
// The smallest of `sizes` (ascending) >= n; the largest when none is.
int PaddedBatch(const std::vector<int>& sizes, int n);

// REQUIRES nothing of the machine: the GPU is first touched in Start.
absl::StatusOr<std::unique_ptr<serving::Backend>> MakeCudaBackend(
    const plan::Plan& plan, const CudaBackendOptions& options);

}  // namespace tessera::runtime_cuda

#endif  // TESSERA_RUNTIME_CUDA_CUDA_BACKEND_H_
