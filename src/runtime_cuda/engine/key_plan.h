// DeviceWeights — one model's params on the device (fp16, one buffer). KeyPlan — one (model,
// batch, input) ready to run: its activation arena (tensors placed by PlanMemory, plus attention
// scratch and token ids), its planned steps (op_steps.h) and the CUDA graph they were captured
// into.
//
// Example:
//   ASSIGN_OR_RETURN(DeviceWeights w, DeviceWeights::Upload(graph, seed));
//   ASSIGN_OR_RETURN(auto plan, KeyPlan::Create(libs, std::move(graph), batch, w, stream));
//   RETURN_IF_ERROR(plan->Launch(stream));   // one graph replay, not waited for
//
// Not thread-safe. A KeyPlan holds raw pointers into its DeviceWeights: the weights must outlive
// it.
#ifndef TESSERA_SRC_RUNTIME_CUDA_ENGINE_KEY_PLAN_H_
#define TESSERA_SRC_RUNTIME_CUDA_ENGINE_KEY_PLAN_H_

#include <cuda_fp16.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime_cuda/engine/cuda_raii.h"
#include "runtime_cuda/engine/op_steps.h"
#include "tessera/serving/model_zoo.h"

namespace tessera::runtime_cuda::internal {

class DeviceWeights {
 public:
  // Makes every param of `graph` with serving::ParamHalfBits(graph, p, seed) and copies it up.
  static absl::StatusOr<DeviceWeights> Upload(const serving::ModelGraph& graph, uint64_t seed);
  std::vector<__half*> Pointers() const;  // by param id
  int64_t bytes() const { return static_cast<int64_t>(buffer_.bytes()); }

 private:
  DeviceBuffer buffer_;
  std::vector<int64_t> offsets_;
};

class KeyPlan {
 public:
  // Allocates, plans every op (cuDNN / cuBLASLt algorithm choice), sets a default input
  // (serving::MakeInput with `seed`), runs the forward once eagerly and captures it on `stream`.
  static absl::StatusOr<std::unique_ptr<KeyPlan>> Create(const Libraries& libs,
                                                         serving::ModelGraph graph, int batch,
                                                         const DeviceWeights& weights,
                                                         uint64_t seed, cudaStream_t stream);

  absl::Status Launch(cudaStream_t stream) const;  // replays the graph
  // InvalidArgument for a wrong size or a token id outside [0, vocab).
  absl::Status SetInput(const std::vector<float>& values, cudaStream_t stream);
  absl::StatusOr<std::vector<float>> Output(cudaStream_t stream) const;
  int64_t bytes() const;

 private:
  KeyPlan() = default;
  absl::Status Forward(cudaStream_t stream) const;
  absl::Status Capture(cudaStream_t stream);

  serving::ModelGraph graph_;
  int batch_ = 0;
  DeviceBuffer arena_, token_ids_;
  std::vector<__half*> tensors_;
  std::vector<Step> steps_;
  GraphPtr graph_capture_;
  GraphExecPtr exec_;
};

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_ENGINE_KEY_PLAN_H_
