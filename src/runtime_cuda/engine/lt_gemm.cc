#include "runtime_cuda/engine/lt_gemm.h"

#include <cstdint>

#include "fmt/core.h"
#include "runtime_cuda/engine/kernels.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "tessera/base/status.h"

namespace tessera::runtime_cuda::internal {
namespace {

constexpr int64_t kHalfBytes = 2;

absl::StatusOr<cublasLtEpilogue_t> EpilogueFor(int act, bool bias) {
  switch (act) {
    case kActNone:
      return bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    case kActRelu:
      return bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
    case kActGelu:
      return bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    default:
      return absl::InvalidArgumentError(fmt::format("cuBLASLt epilogue: activation {}", act));
  }
}

// The largest power of two (<= 256) dividing the address and the batch stride in bytes.
uint32_t AlignmentOf(const void* p, int64_t stride_elements, int batch) {
  uint64_t bits = reinterpret_cast<uintptr_t>(p) | 256u;
  if (batch > 1) bits |= static_cast<uint64_t>(stride_elements * kHalfBytes);
  return static_cast<uint32_t>(bits & (~bits + 1));
}

template <typename T>
absl::Status SetDesc(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr, const T& v) {
  RETURN_IF_CUBLAS_ERROR(cublasLtMatmulDescSetAttribute(d, attr, &v, sizeof(v)));
  return absl::OkStatus();
}

// A column-major fp16 layout, batched when batch > 1.
absl::StatusOr<LtLayoutPtr> Layout(uint64_t rows, uint64_t cols, int64_t ld, int batch,
                                   int64_t stride) {
  ASSIGN_OR_RETURN(LtLayoutPtr l, MakeLtLayout(CUDA_R_16F, rows, cols, ld));
  if (batch > 1) {
    const int32_t count = batch;
    RETURN_IF_CUBLAS_ERROR(cublasLtMatrixLayoutSetAttribute(
        l.get(), CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)));
    RETURN_IF_CUBLAS_ERROR(cublasLtMatrixLayoutSetAttribute(
        l.get(), CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
  }
  return l;
}

}  // namespace

absl::StatusOr<LtGemm> LtGemm::Create(cublasLtHandle_t handle, const GemmSpec& s,
                                      const GemmPointers& p, Workspace workspace) {
  LtGemm g;
  g.handle_ = handle;
  g.p_ = p;
  g.workspace_ = workspace;
  g.alpha_ = s.alpha;
  g.beta_ = p.residual != nullptr ? 1.0f : 0.0f;
  ASSIGN_OR_RETURN(cublasLtEpilogue_t epilogue, EpilogueFor(s.act, p.bias != nullptr));
  ASSIGN_OR_RETURN(g.desc_, MakeLtMatmulDesc());
  const cublasOperation_t trans_a = s.w_transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t trans_b = CUBLAS_OP_N;
  RETURN_IF_ERROR(SetDesc(g.desc_.get(), CUBLASLT_MATMUL_DESC_TRANSA, trans_a));
  RETURN_IF_ERROR(SetDesc(g.desc_.get(), CUBLASLT_MATMUL_DESC_TRANSB, trans_b));
  RETURN_IF_ERROR(SetDesc(g.desc_.get(), CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue));
  if (p.bias != nullptr) {
    RETURN_IF_ERROR(SetDesc(g.desc_.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER, p.bias));
  }
  // A = W: stored column-major as k x n (ld k) when W is row-major n x k, else n x k (ld n).
  if (s.w_transposed) {
    ASSIGN_OR_RETURN(g.a_, Layout(s.k, s.n, s.k, s.batch, s.stride_w));
  } else {
    ASSIGN_OR_RETURN(g.a_, Layout(s.n, s.k, s.n, s.batch, s.stride_w));
  }
  ASSIGN_OR_RETURN(g.b_, Layout(s.k, s.m, s.k, s.batch, s.stride_x));  // B = X^T
  ASSIGN_OR_RETURN(g.c_, Layout(s.n, s.m, s.n, s.batch, s.stride_y));
  ASSIGN_OR_RETURN(g.d_, Layout(s.n, s.m, s.n, s.batch, s.stride_y));

  ASSIGN_OR_RETURN(LtPreferencePtr pref, MakeLtPreference());
  const uint64_t ws = workspace.bytes;
  RETURN_IF_CUBLAS_ERROR(cublasLtMatmulPreferenceSetAttribute(
      pref.get(), CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> alignments[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, AlignmentOf(p.w, s.stride_w, s.batch)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, AlignmentOf(p.x, s.stride_x, s.batch)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
       AlignmentOf(p.residual != nullptr ? p.residual : p.y, s.stride_y, s.batch)},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, AlignmentOf(p.y, s.stride_y, s.batch)}};
  for (const auto& [attr, bytes] : alignments) {
    RETURN_IF_CUBLAS_ERROR(
        cublasLtMatmulPreferenceSetAttribute(pref.get(), attr, &bytes, sizeof(bytes)));
  }
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  RETURN_IF_CUBLAS_ERROR(cublasLtMatmulAlgoGetHeuristic(handle, g.desc_.get(), g.a_.get(),
                                                        g.b_.get(), g.c_.get(), g.d_.get(),
                                                        pref.get(), 1, &result, &found));
  if (found == 0) {
    return absl::InternalError(
        fmt::format("cuBLASLt has no algorithm for m={} n={} k={} batch={} epilogue={}", s.m, s.n,
                    s.k, s.batch, static_cast<int>(epilogue)));
  }
  g.algo_ = result.algo;
  return g;
}

absl::Status LtGemm::Run(cudaStream_t stream) const {
  const void* c = p_.residual != nullptr ? p_.residual : p_.y;
  RETURN_IF_CUBLAS_ERROR(cublasLtMatmul(handle_, desc_.get(), &alpha_, p_.w, a_.get(), p_.x,
                                        b_.get(), &beta_, c, c_.get(), p_.y, d_.get(), &algo_,
                                        workspace_.ptr, workspace_.bytes, stream));
  return absl::OkStatus();
}

}  // namespace tessera::runtime_cuda::internal
