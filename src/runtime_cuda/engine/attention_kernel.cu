// Fused multi-head attention for heads of 64 (kernels.h: LaunchFusedAttention): one block of 4
// warps per (query tile of 64, head, item); tensor cores (WMMA 16x16x16, fp16 in, fp32
// accumulate) for q k^T and p v; an online softmax (running max and sum per query row) so the
// scores never leave shared memory.
//
// Per block, for each tile of 64 keys (up to the diagonal tile when causal):
//   1. k and v tiles -> shared memory (rows past `len` zero).
//   2. Each warp: its 16 query rows x 64 keys of scores (fp32) -> shared memory.
//   3. Two lanes per query row (32 columns each): scale, mask, new running max, rescale the
//      running sum and output accumulators, p = exp(s - max) as fp16 -> shared memory.
//   4. Each warp: p (16 x 64) . v (64 x 64) -> shared memory; lanes add it to their outputs.
// Finally y = output / sum.
#include <mma.h>

#include <cstdint>

#include "runtime_cuda/engine/kernel_util.cuh"

namespace tessera::runtime_cuda::internal {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kD = kFusedHeadDim;  // 64
constexpr int kTile = 64;          // queries per block; keys per step
constexpr int kWarps = kTile / 16;
constexpr int kLdh = kD + 8;      // padded leading dim of fp16 tiles (halves)
constexpr int kLdf = kTile + 4;   // padded leading dim of fp32 tiles (floats)
constexpr int kHalf = kTile / 2;  // columns per lane

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major>;
using FragKt = wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major>;
using FragV = wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major>;
using FragAcc = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

// Rows [r0, r0 + 64) of one head's q, k or v (64 halves at `src` + row * stride) into a padded
// shared tile; rows at or past `len` become zeros.
__device__ void LoadTile(const __half* src, int r0, int len, int64_t stride, __half* dst) {
  constexpr int kVectors = kD / 8;  // 16-byte vectors per row
  for (int i = threadIdx.x; i < kTile * kVectors; i += blockDim.x) {
    const int r = i / kVectors, c = (i % kVectors) * 8;
    uint4 v = make_uint4(0, 0, 0, 0);
    if (r0 + r < len) v = *reinterpret_cast<const uint4*>(src + int64_t{r0 + r} * stride + c);
    *reinterpret_cast<uint4*>(dst + r * kLdh + c) = v;
  }
}

// out (16 x 64, fp32, ld kLdf) = a (16 x 64 fp16 fragments) . b, b's 16x16 fragment (k, n)
// loaded from b_tile at k * b_k_step + n * b_n_step.
template <typename FragB>
__device__ void WarpProduct(const FragA (&a)[kD / 16], const __half* b_tile, int b_k_step,
                            int b_n_step, float* out) {
#pragma unroll
  for (int n = 0; n < kTile / 16; ++n) {
    FragAcc acc;
    wmma::fill_fragment(acc, 0.0f);
#pragma unroll
    for (int k = 0; k < kD / 16; ++k) {
      FragB b;
      wmma::load_matrix_sync(b, b_tile + k * b_k_step + n * b_n_step, kLdh);
      wmma::mma_sync(acc, a[k], b, acc);
    }
    wmma::store_matrix_sync(out + n * 16, acc, kLdf, wmma::mem_row_major);
  }
}

__global__ void __launch_bounds__(kWarps * 32)
    FusedAttentionKernel(const __half* __restrict__ qkv, __half* __restrict__ y, int len, int heads,
                         float scale, bool causal) {
  __shared__ __align__(32) __half qp[kTile * kLdh];  // q tile, then each warp's p rows
  __shared__ __align__(32) __half ks[kTile * kLdh];
  __shared__ __align__(32) __half vs[kTile * kLdh];
  __shared__ __align__(32) float sf[kWarps * 16 * kLdf];  // per warp: scores, then p v

  const int q0 = blockIdx.x * kTile, h = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int dim = heads * kD;
  const int64_t stride = 3 * int64_t{dim};
  const __half* base = qkv + int64_t{b} * len * stride + h * kD;

  LoadTile(base, q0, len, stride, qp);
  __syncthreads();
  FragA qf[kD / 16];
#pragma unroll
  for (int k = 0; k < kD / 16; ++k) {
    wmma::load_matrix_sync(qf[k], qp + warp * 16 * kLdh + k * 16, kLdh);
  }

  const int row = lane / 2, part = lane % 2;  // query row within the warp; column half
  const int qi = q0 + warp * 16 + row;
  float* s_w = sf + warp * 16 * kLdf;
  __half* p_w = qp + warp * 16 * kLdh;  // only this warp read these q rows
  float* s_row = s_w + row * kLdf + part * kHalf;
  __half* p_row = p_w + row * kLdh + part * kHalf;
  float o[kHalf];
#pragma unroll
  for (int c = 0; c < kHalf; ++c) o[c] = 0.0f;
  float running_max = -INFINITY, running_sum = 0.0f;

  const int key_tiles = causal ? blockIdx.x + 1 : (len + kTile - 1) / kTile;
  for (int kt = 0; kt < key_tiles; ++kt) {
    const int j0 = kt * kTile;
    __syncthreads();  // every warp is done with the previous k and v tiles
    LoadTile(base + dim, j0, len, stride, ks);
    LoadTile(base + 2 * dim, j0, len, stride, vs);
    __syncthreads();
    WarpProduct<FragKt>(qf, ks, 16, 16 * kLdh, s_w);  // k^T: (k, n) at n * 16 rows + k * 16
    __syncwarp();

    float s[kHalf];
    float tile_max = -INFINITY;
#pragma unroll
    for (int c = 0; c < kHalf; ++c) {
      const int j = j0 + part * kHalf + c;
      s[c] = (j >= len || (causal && j > qi)) ? -INFINITY : s_row[c] * scale;
      tile_max = fmaxf(tile_max, s[c]);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    const float new_max = fmaxf(running_max, tile_max);  // finite: key j0 is always visible
    const float correction = expf(running_max - new_max);
    float tile_sum = 0.0f;
#pragma unroll
    for (int c = 0; c < kHalf; ++c) {
      const __half p = __float2half_rn(expf(s[c] - new_max));
      p_row[c] = p;
      tile_sum += __half2float(p);
      o[c] *= correction;
    }
    running_sum = running_sum * correction + tile_sum;
    running_max = new_max;
    __syncwarp();

    FragA pf[kTile / 16];
#pragma unroll
    for (int k = 0; k < kTile / 16; ++k) wmma::load_matrix_sync(pf[k], p_w + k * 16, kLdh);
    WarpProduct<FragV>(pf, vs, 16 * kLdh, 16, s_w);  // v: (k, n) at k * 16 rows + n * 16
    __syncwarp();
#pragma unroll
    for (int c = 0; c < kHalf; ++c) o[c] += s_row[c];
    __syncwarp();
  }
  running_sum += __shfl_xor_sync(0xffffffffu, running_sum, 1);
  if (qi >= len) return;
  __half* out = y + (int64_t{b} * len + qi) * dim + h * kD + part * kHalf;
  const float inv = 1.0f / running_sum;
#pragma unroll
  for (int c = 0; c < kHalf; ++c) out[c] = __float2half_rn(o[c] * inv);
}

}  // namespace

cudaError_t LaunchFusedAttention(const __half* qkv, __half* y, int batch, int len, int heads,
                                 float scale, bool causal, cudaStream_t stream) {
  const dim3 grid((len + kTile - 1) / kTile, heads, batch);
  FusedAttentionKernel<<<grid, kWarps * 32, 0, stream>>>(qkv, y, len, heads, scale, causal);
  return cudaGetLastError();
}

}  // namespace tessera::runtime_cuda::internal
