#include "runtime_cuda/engine/memory_plan.h"

#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::runtime_cuda::internal {
namespace {

// Tensors live from the op that writes them to the last op that reads them (input and output:
// always); no two live tensors may overlap.
TEST(MemoryPlanTest, LiveTensorsNeverOverlapAndSpaceIsReused) {
  for (const std::string& model : serving::ZooModels()) {
    const int input = model == "bert_base" || model == "gpt2" ? 16 : 64;
    ASSERT_OK_AND_ASSIGN(serving::ModelGraph g,
                         serving::BuildModel(model, input, serving::ZooOptions{}));
    const int batch = 3, n = static_cast<int>(g.tensors.size());
    const int ops = static_cast<int>(g.ops.size());
    MemoryPlan plan = PlanMemory(g, batch);
    std::vector<int> first(n, -1), last(n, -1);
    first[g.input_tensor] = -1;
    last[g.input_tensor] = last[g.output_tensor] = ops;
    for (int i = 0; i < ops; ++i) {
      first[g.ops[i].output] = i;
      last[g.ops[i].input] = std::max(last[g.ops[i].input], i);
      if (g.ops[i].residual >= 0) last[g.ops[i].residual] = std::max(last[g.ops[i].residual], i);
    }
    int64_t total = 0;
    for (int a = 0; a < n; ++a) {
      const int64_t size_a = g.tensors[a].Elements() * batch * 2;
      total += size_a;
      EXPECT_EQ(plan.offsets[a] % kArenaAlignment, 0);
      EXPECT_LE(plan.offsets[a] + size_a, plan.bytes);
      for (int b = a + 1; b < n; ++b) {
        const bool live_together =
            first[a] <= std::max(last[b], first[b]) && first[b] <= std::max(last[a], first[a]);
        if (!live_together) continue;
        const int64_t size_b = g.tensors[b].Elements() * batch * 2;
        const bool disjoint = plan.offsets[a] + size_a <= plan.offsets[b] ||
                              plan.offsets[b] + size_b <= plan.offsets[a];
        EXPECT_TRUE(disjoint) << model << ": " << g.tensors[a].name << " and " << g.tensors[b].name;
      }
    }
    EXPECT_LT(plan.bytes * (model == "vgg16" ? 1 : 3), total) << model;  // reuse pays
  }
}

}  // namespace
}  // namespace tessera::runtime_cuda::internal
