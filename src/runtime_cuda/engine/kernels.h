// The engine's own CUDA kernels, as host launch functions on a stream. Every launcher returns the
// launch's cudaError_t (cudaGetLastError), so it can be wrapped by RETURN_IF_CUDA_ERROR and
// captured in a CUDA graph. Data is fp16 (NHWC images, row-major sequences) with fp32 math; the
// layouts and semantics are those of the CPU reference (tessera/serving/reference.h).
//
// Example:
//   RETURN_IF_CUDA_ERROR(LaunchBiasActivation({.x = y, .bias = b, .y = y, .rows = n * h * w,
//                                             .channels = c, .act = kActRelu}, stream));
#ifndef TESSERA_SRC_RUNTIME_CUDA_ENGINE_KERNELS_H_
#define TESSERA_SRC_RUNTIME_CUDA_ENGINE_KERNELS_H_

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace tessera::runtime_cuda::internal {

// Activation codes (the order of serving::Activation).
enum : int { kActNone = 0, kActRelu = 1, kActRelu6 = 2, kActGelu = 3 };

// y[r, c] = act(x[r, c] + bias[c] + residual[r, c]); bias and residual may be null; y may be x.
struct BiasActivationArgs {
  const __half* x = nullptr;
  const __half* bias = nullptr;
  const __half* residual = nullptr;
  __half* y = nullptr;
  int64_t rows = 0;
  int channels = 0;
  int act = kActNone;
};
cudaError_t LaunchBiasActivation(const BiasActivationArgs& a, cudaStream_t stream);

// NHWC pooling over `batch` images of h x w x c.
struct PoolArgs {
  const __half* x = nullptr;
  __half* y = nullptr;
  int batch = 0, h = 0, w = 0, c = 0;
  int out_h = 0, out_w = 0;
  int kernel = 1, stride = 1, pad = 0;  // max pool
};
cudaError_t LaunchMaxPool(const PoolArgs& a, cudaStream_t stream);
cudaError_t LaunchAdaptiveAvgPool(const PoolArgs& a, cudaStream_t stream);  // to out_h x out_w

// y[n, t, :] = tokens[clamp(ids[n, t])] + positions[t], for `batch` sequences of `len` tokens.
cudaError_t LaunchEmbedding(const int32_t* ids, const __half* tokens, const __half* positions,
                            __half* y, int batch, int len, int dim, int vocab, cudaStream_t stream);

// y[n, :] = x[n, token, :] (token already resolved to [0, len)).
cudaError_t LaunchTakeToken(const __half* x, __half* y, int batch, int len, int dim, int token,
                            cudaStream_t stream);

// Row-wise layer norm over the last dim: y = (x - mean) / sqrt(var + eps) * gamma + beta.
cudaError_t LaunchLayerNorm(const __half* x, const __half* gamma, const __half* beta, __half* y,
                            int64_t rows, int dim, float eps, cudaStream_t stream);

// qkv {batch, len, 3, heads, hd} -> q, k, v, each {batch, heads, len, hd} (q at out,
// k at out + n, v at out + 2n with n = batch * len * heads * hd).
cudaError_t LaunchSplitHeads(const __half* qkv, __half* out, int batch, int len, int heads, int hd,
                             cudaStream_t stream);
// o {batch, heads, len, hd} -> y {batch, len, heads * hd}.
cudaError_t LaunchMergeHeads(const __half* o, __half* y, int batch, int len, int heads, int hd,
                             cudaStream_t stream);
// In place over `matrices` row-major len x len score matrices: row i becomes softmax(row i),
// with columns j > i zeroed when causal.
cudaError_t LaunchSoftmax(__half* scores, int64_t matrices, int len, bool causal,
                          cudaStream_t stream);

// Fused attention for heads of kFusedHeadDim: qkv {batch, len, 3, heads, 64} -> y {batch, len,
// heads * 64}, softmax(scale * q k^T) v per head (causal: key j > query i masked); the scores stay
// on chip. p is rounded to fp16 before p v, as in the unfused path. REQUIRES: qkv and y 16-byte
// aligned.
constexpr int kFusedHeadDim = 64;
cudaError_t LaunchFusedAttention(const __half* qkv, __half* y, int batch, int len, int heads,
                                 float scale, bool causal, cudaStream_t stream);

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_ENGINE_KERNELS_H_
