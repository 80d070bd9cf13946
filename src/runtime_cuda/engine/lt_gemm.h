// LtGemm — one row-major fp16 GEMM with fp32 accumulation on cuBLASLt, planned once (descriptors,
// alignment, heuristic algorithm) for fixed device pointers and replayed with Run:
//
//   Y[m x n] = act(alpha * X[m x k] . op(W) + bias[n] + residual[m x n])
//
// where op(W) = W^T for W stored n x k (linear weights, attention keys) or W for W stored k x n
// (attention values). cuBLASLt is column-major: a row-major R x C matrix is its column-major
// transpose, so this runs D^T (n x m) = op(W)^T (n x k) . X^T (k x m) with "A" = W and "B" = X.
// Strided batches (attention) repeat the product `batch` times with element strides.
//
// Example:
//   ASSIGN_OR_RETURN(LtGemm g, LtGemm::Create(lt, {.m = tokens, .n = 3072, .k = 768, .act =
//                    kActGelu}, {.x = x, .w = w, .bias = b, .y = y}, workspace));
//   RETURN_IF_ERROR(g.Run(stream));   // capturable
#ifndef TESSERA_SRC_RUNTIME_CUDA_ENGINE_LT_GEMM_H_
#define TESSERA_SRC_RUNTIME_CUDA_ENGINE_LT_GEMM_H_

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "runtime_cuda/engine/cuda_raii.h"

namespace tessera::runtime_cuda::internal {

struct GemmSpec {
  int64_t m = 0, n = 0, k = 0;
  bool w_transposed = true;  // W stored n x k (Y = X W^T); false: W stored k x n (Y = X W)
  int batch = 1;
  int64_t stride_x = 0, stride_w = 0, stride_y = 0;  // elements between batches
  int act = 0;                                       // kActNone, kActRelu or kActGelu
  float alpha = 1.0f;
};

struct GemmPointers {
  const void* x = nullptr;
  const void* w = nullptr;
  const void* bias = nullptr;      // n values, or null
  const void* residual = nullptr;  // like y, or null
  void* y = nullptr;
};

struct Workspace {
  void* ptr = nullptr;
  size_t bytes = 0;
};

class LtGemm {
 public:
  // InvalidArgument for an unsupported activation; Internal when cuBLASLt has no algorithm.
  static absl::StatusOr<LtGemm> Create(cublasLtHandle_t handle, const GemmSpec& spec,
                                       const GemmPointers& p, Workspace workspace);
  absl::Status Run(cudaStream_t stream) const;

 private:
  cublasLtHandle_t handle_ = nullptr;
  GemmPointers p_;
  Workspace workspace_;
  float alpha_ = 1.0f, beta_ = 0.0f;
  LtMatmulDescPtr desc_;
  LtLayoutPtr a_, b_, c_, d_;
  cublasLtMatmulAlgo_t algo_{};
};

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_ENGINE_LT_GEMM_H_
