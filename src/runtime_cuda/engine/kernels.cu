// Elementwise, pooling and embedding kernels (see kernels.h).
#include <cstdint>

#include "runtime_cuda/engine/kernel_util.cuh"

namespace tessera::runtime_cuda::internal {
namespace {

constexpr int kVec = 8;  // halves per 16-byte vector

__global__ void BiasActivationScalar(BiasActivationArgs a) {
  const int64_t n = a.rows * a.channels;
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    float v = __half2float(a.x[i]);
    if (a.bias != nullptr) v += __half2float(a.bias[i % a.channels]);
    if (a.residual != nullptr) v += __half2float(a.residual[i]);
    a.y[i] = __float2half_rn(Activate(v, a.act));
  }
}

// Eight channels per thread with 16-byte loads; REQUIRES channels % 8 == 0, 16-byte alignment.
__global__ void BiasActivationVector(BiasActivationArgs a) {
  const int64_t vectors = a.rows * a.channels / kVec;
  for (int64_t i = GlobalThread(); i < vectors; i += GridStride()) {
    const int c = static_cast<int>((i * kVec) % a.channels);
    const uint4 zero = make_uint4(0, 0, 0, 0);
    uint4 xv = reinterpret_cast<const uint4*>(a.x)[i];
    uint4 bv = a.bias != nullptr ? *reinterpret_cast<const uint4*>(a.bias + c) : zero;
    uint4 rv = a.residual != nullptr ? reinterpret_cast<const uint4*>(a.residual)[i] : zero;
    const __half* xh = reinterpret_cast<const __half*>(&xv);
    const __half* bh = reinterpret_cast<const __half*>(&bv);
    const __half* rh = reinterpret_cast<const __half*>(&rv);
    uint4 out;
    __half* oh = reinterpret_cast<__half*>(&out);
#pragma unroll
    for (int k = 0; k < kVec; ++k) {
      const float v = __half2float(xh[k]) + __half2float(bh[k]) + __half2float(rh[k]);
      oh[k] = __float2half_rn(Activate(v, a.act));
    }
    reinterpret_cast<uint4*>(a.y)[i] = out;
  }
}

bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

__global__ void MaxPoolKernel(PoolArgs a) {
  const int64_t n = static_cast<int64_t>(a.batch) * a.out_h * a.out_w * a.c;
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    const int c = static_cast<int>(i % a.c);
    const int ow = static_cast<int>((i / a.c) % a.out_w);
    const int oh = static_cast<int>((i / a.c / a.out_w) % a.out_h);
    const int64_t b = i / a.c / a.out_w / a.out_h;
    const int h0 = oh * a.stride - a.pad, w0 = ow * a.stride - a.pad;
    float m = -INFINITY;
    for (int ih = max(h0, 0); ih < min(h0 + a.kernel, a.h); ++ih) {
      for (int iw = max(w0, 0); iw < min(w0 + a.kernel, a.w); ++iw) {
        m = fmaxf(m, __half2float(a.x[((b * a.h + ih) * a.w + iw) * a.c + c]));
      }
    }
    a.y[i] = __float2half_rn(m);
  }
}

__global__ void AdaptiveAvgPoolKernel(PoolArgs a) {
  const int64_t n = static_cast<int64_t>(a.batch) * a.out_h * a.out_w * a.c;
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    const int c = static_cast<int>(i % a.c);
    const int ow = static_cast<int>((i / a.c) % a.out_w);
    const int oh = static_cast<int>((i / a.c / a.out_w) % a.out_h);
    const int64_t b = i / a.c / a.out_w / a.out_h;
    const int h0 = oh * a.h / a.out_h, h1 = ((oh + 1) * a.h + a.out_h - 1) / a.out_h;
    const int w0 = ow * a.w / a.out_w, w1 = ((ow + 1) * a.w + a.out_w - 1) / a.out_w;
    float sum = 0.0f;
    for (int ih = h0; ih < h1; ++ih) {
      for (int iw = w0; iw < w1; ++iw)
        sum += __half2float(a.x[((b * a.h + ih) * a.w + iw) * a.c + c]);
    }
    a.y[i] = __float2half_rn(sum / static_cast<float>((h1 - h0) * (w1 - w0)));
  }
}

__global__ void EmbeddingKernel(const int32_t* ids, const __half* tokens, const __half* positions,
                                __half* y, int64_t n, int len, int dim, int vocab) {
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    const int64_t token = i / dim;
    const int d = static_cast<int>(i % dim);
    const int t = static_cast<int>(token % len);
    const int id = min(max(ids[token], 0), vocab - 1);
    y[i] = __float2half_rn(__half2float(tokens[static_cast<int64_t>(id) * dim + d]) +
                           __half2float(positions[static_cast<int64_t>(t) * dim + d]));
  }
}

__global__ void TakeTokenKernel(const __half* x, __half* y, int64_t n, int len, int dim,
                                int token) {
  for (int64_t i = GlobalThread(); i < n; i += GridStride()) {
    const int64_t b = i / dim;
    y[i] = x[(b * len + token) * dim + i % dim];
  }
}

}  // namespace

cudaError_t LaunchBiasActivation(const BiasActivationArgs& a, cudaStream_t stream) {
  const bool vector = a.channels % kVec == 0 && Aligned16(a.x) && Aligned16(a.y) &&
                      Aligned16(a.bias) && Aligned16(a.residual);
  const int64_t n = a.rows * a.channels;
  if (vector) {
    BiasActivationVector<<<GridFor(n / kVec), kThreads, 0, stream>>>(a);
  } else {
    BiasActivationScalar<<<GridFor(n), kThreads, 0, stream>>>(a);
  }
  return cudaGetLastError();
}

cudaError_t LaunchMaxPool(const PoolArgs& a, cudaStream_t stream) {
  MaxPoolKernel<<<GridFor(int64_t{a.batch} * a.out_h * a.out_w * a.c), kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

cudaError_t LaunchAdaptiveAvgPool(const PoolArgs& a, cudaStream_t stream) {
  AdaptiveAvgPoolKernel<<<GridFor(int64_t{a.batch} * a.out_h * a.out_w * a.c), kThreads, 0,
                          stream>>>(a);
  return cudaGetLastError();
}

cudaError_t LaunchEmbedding(const int32_t* ids, const __half* tokens, const __half* positions,
                            __half* y, int batch, int len, int dim, int vocab,
                            cudaStream_t stream) {
  const int64_t n = int64_t{batch} * len * dim;
  EmbeddingKernel<<<GridFor(n), kThreads, 0, stream>>>(ids, tokens, positions, y, n, len, dim,
                                                       vocab);
  return cudaGetLastError();
}

cudaError_t LaunchTakeToken(const __half* x, __half* y, int batch, int len, int dim, int token,
                            cudaStream_t stream) {
  const int64_t n = int64_t{batch} * dim;
  TakeTokenKernel<<<GridFor(n), kThreads, 0, stream>>>(x, y, n, len, dim, token);
  return cudaGetLastError();
}

}  // namespace tessera::runtime_cuda::internal
