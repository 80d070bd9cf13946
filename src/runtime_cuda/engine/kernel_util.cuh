// Device helpers shared by the engine's .cu files.
#ifndef TESSERA_SRC_RUNTIME_CUDA_ENGINE_KERNEL_UTIL_CUH_
#define TESSERA_SRC_RUNTIME_CUDA_ENGINE_KERNEL_UTIL_CUH_

#include <cuda_fp16.h>

#include <cstdint>

#include "runtime_cuda/engine/kernels.h"

namespace tessera::runtime_cuda::internal {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items.
inline unsigned GridFor(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > (1 << 20) ? (1 << 20) : blocks));
}

__device__ __forceinline__ int64_t GlobalThread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t GridStride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

__device__ __forceinline__ float Activate(float v, int act) {
  switch (act) {
    case kActRelu:
      return fmaxf(v, 0.0f);
    case kActRelu6:
      return fminf(fmaxf(v, 0.0f), 6.0f);
    case kActGelu:
      return 0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
    default:
      return v;
  }
}

__device__ __forceinline__ float WarpSum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float WarpMax(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_ENGINE_KERNEL_UTIL_CUH_
