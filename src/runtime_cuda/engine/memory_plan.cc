#include "runtime_cuda/engine/memory_plan.h"

#include <algorithm>
#include <iterator>
#include <map>

namespace tessera::runtime_cuda::internal {
namespace {

int64_t AlignUp(int64_t v) { return (v + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

// Live blocks by offset; Allocate returns the lowest offset where `size` fits.
class Arena {
 public:
  int64_t Allocate(int64_t size) {
    int64_t at = 0;
    for (const auto& [offset, block] : live_) {
      if (offset - at >= size) break;
      at = std::max(at, offset + block);
    }
    live_[at] = size;
    end_ = std::max(end_, at + size);
    return at;
  }
  void Free(int64_t offset) { live_.erase(offset); }
  int64_t end() const { return end_; }

 private:
  std::map<int64_t, int64_t> live_;
  int64_t end_ = 0;
};

}  // namespace

MemoryPlan PlanMemory(const serving::ModelGraph& graph, int batch) {
  const int n = static_cast<int>(graph.tensors.size());
  std::vector<int> last_use(n, -1);
  for (int i = 0; i < static_cast<int>(graph.ops.size()); ++i) {
    const serving::Op& op = graph.ops[i];
    last_use[op.input] = i;
    if (op.residual >= 0) last_use[op.residual] = i;
  }
  last_use[graph.input_tensor] = last_use[graph.output_tensor] = static_cast<int>(graph.ops.size());
  auto size_of = [&](int t) { return AlignUp(graph.tensors[t].Elements() * batch * 2); };

  MemoryPlan plan;
  plan.offsets.assign(n, 0);
  Arena arena;
  plan.offsets[graph.input_tensor] = arena.Allocate(size_of(graph.input_tensor));
  for (int i = 0; i < static_cast<int>(graph.ops.size()); ++i) {
    const serving::Op& op = graph.ops[i];
    plan.offsets[op.output] = arena.Allocate(size_of(op.output));
    for (int t : {op.input, op.residual, op.output}) {
      if (t >= 0 && last_use[t] <= i) {
        arena.Free(plan.offsets[t]);
        last_use[t] = static_cast<int>(graph.ops.size()) + 1;  // freed once
      }
    }
  }
  plan.bytes = std::max<int64_t>(arena.end(), kArenaAlignment);
  return plan;
}

}  // namespace tessera::runtime_cuda::internal
