// PlanMemory — places every tensor of a zoo graph at an offset in one activation arena, reusing
// the space of tensors no later op reads (first fit by address). The input and output tensors are
// never reused. Pure host code (tested without a device).
//
// Example:
//   MemoryPlan plan = PlanMemory(graph, /*batch=*/8);
//   void* t = arena + plan.offsets[tensor];   // plan.bytes in all
#ifndef TESSERA_SRC_RUNTIME_CUDA_ENGINE_MEMORY_PLAN_H_
#define TESSERA_SRC_RUNTIME_CUDA_ENGINE_MEMORY_PLAN_H_

#include <cstdint>
#include <vector>

#include "tessera/serving/model_zoo.h"

namespace tessera::runtime_cuda::internal {

constexpr int64_t kArenaAlignment = 256;  // bytes; every offset is a multiple

struct MemoryPlan {
  std::vector<int64_t> offsets;  // by tensor id, bytes
  int64_t bytes = 0;             // the arena's size
};

// fp16 tensors (2 bytes an element) for `batch` items. REQUIRES: batch >= 1.
MemoryPlan PlanMemory(const serving::ModelGraph& graph, int batch);

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_ENGINE_MEMORY_PLAN_H_
