// The forward of a zoo graph on the GPU as a list of steps, one or a few per operator, each
// launching work on a stream (planned once: cuBLASLt algorithms and cuDNN algorithms chosen here,
// so AppendOpSteps runs kernels and must be called outside stream capture).
//
// How each operator runs (same semantics as the CPU reference):
//   conv2d 1x1/stride 1/ungrouped  cuBLASLt GEMM with bias (+ReLU) and residual fused
//   conv2d otherwise               cuDNN (NHWC fp16) then a bias+residual+activation kernel
//   linear                         cuBLASLt GEMM with BIAS / RELU_BIAS / GELU_BIAS epilogue and
//                                  the residual as C (beta = 1); ReLU6 as a separate kernel
//   attention, heads of 64         one fused kernel (tensor cores, online softmax) unless
//                                  Libraries::fused_attention is off
//   attention otherwise            split heads, batched GEMM q k^T (scaled), softmax kernel,
//                                  batched GEMM p v, merge heads
//   the rest                       own kernels (kernels.h)
//
// Example:
//   std::vector<Step> steps;
//   for (const Op& op : graph.ops) RETURN_IF_ERROR(AppendOpSteps(ctx, op, &steps));
//   for (const Step& s : steps) RETURN_IF_ERROR(s(stream));
#ifndef TESSERA_SRC_RUNTIME_CUDA_ENGINE_OP_STEPS_H_
#define TESSERA_SRC_RUNTIME_CUDA_ENGINE_OP_STEPS_H_

#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cudnn.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "runtime_cuda/engine/lt_gemm.h"
#include "tessera/serving/model_zoo.h"

namespace tessera::runtime_cuda::internal {

using Step = std::function<absl::Status(cudaStream_t)>;

// The libraries and workspaces every step may use (owned by the engine).
struct Libraries {
  cublasLtHandle_t lt = nullptr;
  cudnnHandle_t cudnn = nullptr;  // its stream is the engine's
  Workspace lt_workspace{};
  Workspace conv_workspace{};
  bool fused_attention = true;  // heads of 64: the fused kernel; else batched GEMMs
};

// Where one (graph, batch)'s data lives on the device.
struct StepContext {
  Libraries libs;
  const serving::ModelGraph* graph = nullptr;
  int batch = 0;
  std::vector<__half*> tensors;  // by tensor id
  std::vector<__half*> params;   // by param id
  const int32_t* token_ids = nullptr;
  __half* scratch = nullptr;  // AttentionScratchBytes
};

// Scratch bytes the graph's attention ops need (0 without unfused attention).
int64_t AttentionScratchBytes(const serving::ModelGraph& graph, int batch, bool fused_attention);

absl::Status AppendOpSteps(const StepContext& ctx, const serving::Op& op, std::vector<Step>* steps);

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_ENGINE_OP_STEPS_H_
