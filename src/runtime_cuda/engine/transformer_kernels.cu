// Layer norm, attention head split/merge and row softmax (see kernels.h). One warp per row for
// the row-wise kernels, fp32 math.
#include <cstdint>

#include "runtime_cuda/engine/kernel_util.cuh"

namespace tessera::runtime_cuda::internal {
namespace {

constexpr int kWarpsPerBlock = kThreads / 32;

unsigned RowBlocks(int64_t rows) {
  return static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
}

__device__ __forceinline__ int64_t WarpRow() {
  return static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
}

__global__ void LayerNormKernel(const __half* x, const __half* gamma, const __half* beta, __half* y,
                                int64_t rows, int dim, float eps) {
  const int64_t row = WarpRow();
  if (row >= rows) return;
  const int lane = threadIdx.x % 32;
  const __half* xr = x + row * dim;
  float sum = 0.0f;
  for (int d = lane; d < dim; d += 32) sum += __half2float(xr[d]);
  const float mean = WarpSum(sum) / static_cast<float>(dim);
  float sq = 0.0f;
  for (int d = lane; d < dim; d += 32) {
    const float v = __half2float(xr[d]) - mean;
    sq += v * v;
  }
  const float inv = rsqrtf(WarpSum(sq) / static_cast<float>(dim) + eps);
  for (int d = lane; d < dim; d += 32) {
    const float v = (__half2float(xr[d]) - mean) * inv;
    y[row * dim + d] = __float2half_rn(v * __half2float(gamma[d]) + __half2float(beta[d]));
  }
}

__global__ void SplitHeadsKernel(const __half* qkv, __half* out, int64_t n, int len, int heads,
                                 int hd) {
  const int dim = heads * hd;
  const int64_t part_size = n / 3;
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    const int col = static_cast<int>(i % (3 * dim));
    const int64_t token = i / (3 * dim);
    const int64_t b = token / len;
    const int t = static_cast<int>(token % len);
    const int part = col / dim, h = (col % dim) / hd, j = col % hd;
    out[part * part_size + ((b * heads + h) * len + t) * hd + j] = qkv[i];
  }
}

__global__ void MergeHeadsKernel(const __half* o, __half* y, int64_t n, int len, int heads,
                                 int hd) {
  const int dim = heads * hd;
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    const int col = static_cast<int>(i % dim);
    const int64_t token = i / dim;
    const int64_t b = token / len;
    const int t = static_cast<int>(token % len);
    const int h = col / hd, j = col % hd;
    y[i] = o[((b * heads + h) * len + t) * hd + j];
  }
}

// Any length: three passes over the row in global memory.
__global__ void SoftmaxKernel(__half* scores, int64_t rows, int len, bool causal) {
  const int64_t row = WarpRow();
  if (row >= rows) return;
  const int lane = threadIdx.x % 32;
  const int visible = causal ? static_cast<int>(row % len) + 1 : len;
  __half* s = scores + row * len;
  float m = -INFINITY;
  for (int j = lane; j < visible; j += 32) m = fmaxf(m, __half2float(s[j]));
  m = WarpMax(m);
  float sum = 0.0f;
  for (int j = lane; j < visible; j += 32) sum += expf(__half2float(s[j]) - m);
  const float inv = 1.0f / WarpSum(sum);
  for (int j = lane; j < len; j += 32) {
    s[j] = __float2half_rn(j < visible ? expf(__half2float(s[j]) - m) * inv : 0.0f);
  }
}

// Even lengths up to 64 * kPairs: the row is read once, as half2, into registers (lane l holds
// column pairs l, l + 32, ...), and written once.
template <int kPairs>
__global__ void SoftmaxInRegisters(__half* scores, int64_t rows, int len, bool causal) {
  const int64_t row = WarpRow();
  if (row >= rows) return;
  const int lane = threadIdx.x % 32;
  const int visible = causal ? static_cast<int>(row % len) + 1 : len;
  const int pairs = len / 2;
  __half2* s = reinterpret_cast<__half2*>(scores + row * len);
  float v[2 * kPairs];
  float m = -INFINITY;
#pragma unroll
  for (int i = 0; i < kPairs; ++i) {
    const int p = lane + 32 * i;
    const float2 f = p < pairs ? __half22float2(s[p]) : make_float2(-INFINITY, -INFINITY);
    v[2 * i] = 2 * p < visible ? f.x : -INFINITY;
    v[2 * i + 1] = 2 * p + 1 < visible ? f.y : -INFINITY;
    m = fmaxf(m, fmaxf(v[2 * i], v[2 * i + 1]));
  }
  m = WarpMax(m);  // finite: column 0 is always visible
  float sum = 0.0f;
#pragma unroll
  for (int k = 0; k < 2 * kPairs; ++k) {
    const int column = 2 * (lane + 32 * (k / 2)) + k % 2;
    v[k] = column < visible ? expf(v[k] - m) : 0.0f;
    sum += v[k];
  }
  const float inv = 1.0f / WarpSum(sum);
#pragma unroll
  for (int i = 0; i < kPairs; ++i) {
    const int p = lane + 32 * i;
    if (p < pairs) s[p] = __floats2half2_rn(v[2 * i] * inv, v[2 * i + 1] * inv);
  }
}

template <int kPairs>
void LaunchSoftmaxInRegisters(__half* scores, int64_t rows, int len, bool causal,
                              cudaStream_t stream) {
  SoftmaxInRegisters<kPairs><<<RowBlocks(rows), kThreads, 0, stream>>>(scores, rows, len, causal);
}

}  // namespace

cudaError_t LaunchLayerNorm(const __half* x, const __half* gamma, const __half* beta, __half* y,
                            int64_t rows, int dim, float eps, cudaStream_t stream) {
  LayerNormKernel<<<RowBlocks(rows), kThreads, 0, stream>>>(x, gamma, beta, y, rows, dim, eps);
  return cudaGetLastError();
}

cudaError_t LaunchSplitHeads(const __half* qkv, __half* out, int batch, int len, int heads, int hd,
                             cudaStream_t stream) {
  const int64_t n = int64_t{batch} * len * 3 * heads * hd;
  SplitHeadsKernel<<<GridFor(n), kThreads, 0, stream>>>(qkv, out, n, len, heads, hd);
  return cudaGetLastError();
}

cudaError_t LaunchMergeHeads(const __half* o, __half* y, int batch, int len, int heads, int hd,
                             cudaStream_t stream) {
  const int64_t n = int64_t{batch} * len * heads * hd;
  MergeHeadsKernel<<<GridFor(n), kThreads, 0, stream>>>(o, y, n, len, heads, hd);
  return cudaGetLastError();
}

cudaError_t LaunchSoftmax(__half* scores, int64_t matrices, int len, bool causal,
                          cudaStream_t stream) {
  const int64_t rows = matrices * len;
  if (len % 2 != 0 || len > 2048) {
    SoftmaxKernel<<<RowBlocks(rows), kThreads, 0, stream>>>(scores, rows, len, causal);
  } else if (len <= 64) {
    LaunchSoftmaxInRegisters<1>(scores, rows, len, causal, stream);
  } else if (len <= 128) {
    LaunchSoftmaxInRegisters<2>(scores, rows, len, causal, stream);
  } else if (len <= 256) {
    LaunchSoftmaxInRegisters<4>(scores, rows, len, causal, stream);
  } else if (len <= 512) {
    LaunchSoftmaxInRegisters<8>(scores, rows, len, causal, stream);
  } else if (len <= 1024) {
    LaunchSoftmaxInRegisters<16>(scores, rows, len, causal, stream);
  } else {
    LaunchSoftmaxInRegisters<32>(scores, rows, len, causal, stream);
  }
  return cudaGetLastError();
}

}  // namespace tessera::runtime_cuda::internal
