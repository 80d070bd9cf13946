#include "runtime_cuda/engine/op_steps.h"

#include <cmath>
#include <memory>

#include "runtime_cuda/engine/cudnn_conv.h"
#include "runtime_cuda/engine/kernels.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "tessera/base/status.h"

namespace tessera::runtime_cuda::internal {
namespace {

using serving::Activation;
using serving::Op;
using serving::OpKind;

int ActCode(Activation act) { return static_cast<int>(act); }

const std::vector<int>& DimsOf(const StepContext& c, int tensor) {
  return c.graph->tensors[tensor].dims;
}
int64_t ElementsOf(const StepContext& c, int tensor) { return c.graph->tensors[tensor].Elements(); }
const __half* Param(const StepContext& c, int param) {
  return param >= 0 ? c.params[param] : nullptr;
}
const __half* Tensor(const StepContext& c, int tensor) {
  return tensor >= 0 ? c.tensors[tensor] : nullptr;
}

// A planned GEMM as a step; the GEMM lives as long as the step.
absl::Status AppendGemm(const StepContext& c, const GemmSpec& spec, const GemmPointers& p,
                        std::vector<Step>* steps) {
  ASSIGN_OR_RETURN(LtGemm gemm, LtGemm::Create(c.libs.lt, spec, p, c.libs.lt_workspace));
  auto shared = std::make_shared<LtGemm>(std::move(gemm));
  steps->push_back([shared](cudaStream_t s) { return shared->Run(s); });
  return absl::OkStatus();
}

void AppendBiasActivation(const BiasActivationArgs& a, std::vector<Step>* steps) {
  steps->push_back([a](cudaStream_t s) {
    RETURN_IF_CUDA_ERROR(LaunchBiasActivation(a, s));
    return absl::OkStatus();
  });
}

// y[m x n] = act(x[m x k] W^T + bias + residual); ReLU6 (no cuBLASLt epilogue) as a kernel.
absl::Status AppendDense(const StepContext& c, const Op& op, int64_t m, int64_t n, int64_t k,
                         std::vector<Step>* steps) {
  const bool relu6 = op.act == Activation::kRelu6;
  GemmSpec spec{.m = m, .n = n, .k = k, .act = relu6 ? kActNone : ActCode(op.act)};
  __half* y = c.tensors[op.output];
  RETURN_IF_ERROR(AppendGemm(c, spec,
                             {.x = Tensor(c, op.input),
                              .w = Param(c, op.weight),
                              .bias = Param(c, op.bias),
                              .residual = Tensor(c, op.residual),
                              .y = y},
                             steps));
  if (relu6) {
    AppendBiasActivation(
        {.x = y, .y = y, .rows = m, .channels = static_cast<int>(n), .act = kActRelu6}, steps);
  }
  return absl::OkStatus();
}

absl::Status AppendConv(const StepContext& c, const Op& op, std::vector<Step>* steps) {
  const std::vector<int>& in = DimsOf(c, op.input);
  const std::vector<int>& out = DimsOf(c, op.output);
  const int64_t pixels = int64_t{c.batch} * out[0] * out[1];
  if (op.kernel == 1 && op.stride == 1 && op.pad == 0 && op.groups == 1) {
    return AppendDense(c, op, pixels, out[2], in[2], steps);  // NHWC 1x1 conv = GEMM
  }
  const ConvShape shape{.batch = c.batch,
                        .h = in[0],
                        .w = in[1],
                        .c = in[2],
                        .out_c = out[2],
                        .out_h = out[0],
                        .out_w = out[1],
                        .kernel = op.kernel,
                        .stride = op.stride,
                        .pad = op.pad,
                        .groups = op.groups};
  __half* y = c.tensors[op.output];
  ASSIGN_OR_RETURN(CudnnConv conv,
                   CudnnConv::Create(c.libs.cudnn, shape,
                                     {.x = Tensor(c, op.input), .w = Param(c, op.weight), .y = y},
                                     c.libs.conv_workspace));
  auto shared = std::make_shared<CudnnConv>(std::move(conv));
  steps->push_back([shared](cudaStream_t) { return shared->Run(); });
  AppendBiasActivation({.x = y,
                        .bias = Param(c, op.bias),
                        .residual = Tensor(c, op.residual),
                        .y = y,
                        .rows = pixels,
                        .channels = out[2],
                        .act = ActCode(op.act)},
                       steps);
  return absl::OkStatus();
}

absl::Status AppendLinear(const StepContext& c, const Op& op, std::vector<Step>* steps) {
  const int64_t n = DimsOf(c, op.output).back();
  const int64_t m = c.batch * ElementsOf(c, op.output) / n;
  const int64_t k = c.batch * ElementsOf(c, op.input) / m;
  return AppendDense(c, op, m, n, k, steps);
}

absl::Status AppendPool(const StepContext& c, const Op& op, std::vector<Step>* steps) {
  const std::vector<int>& in = DimsOf(c, op.input);
  const std::vector<int>& out = DimsOf(c, op.output);
  const PoolArgs a{.x = Tensor(c, op.input),
                   .y = c.tensors[op.output],
                   .batch = c.batch,
                   .h = in[0],
                   .w = in[1],
                   .c = in[2],
                   .out_h = out[0],
                   .out_w = out[1],
                   .kernel = op.kernel,
                   .stride = op.stride,
                   .pad = op.pad};
  const bool max = op.kind == OpKind::kMaxPool;
  steps->push_back([a, max](cudaStream_t s) {
    RETURN_IF_CUDA_ERROR(max ? LaunchMaxPool(a, s) : LaunchAdaptiveAvgPool(a, s));
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

bool Fused(const Libraries& libs, const serving::ModelGraph& g, const Op& op) {
  return libs.fused_attention && g.tensors[op.output].dims[1] / op.heads == kFusedHeadDim;
}

absl::Status AppendAttention(const StepContext& c, const Op& op, std::vector<Step>* steps) {
  const int len = DimsOf(c, op.output)[0], dim = DimsOf(c, op.output)[1];
  const int heads = op.heads, hd = dim / heads, batch = c.batch;
  const bool causal = op.causal;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  if (Fused(c.libs, *c.graph, op)) {
    const __half* qkv = Tensor(c, op.input);
    __half* y = c.tensors[op.output];
    steps->push_back([=](cudaStream_t s) {
      RETURN_IF_CUDA_ERROR(LaunchFusedAttention(qkv, y, batch, len, heads, scale, causal, s));
      return absl::OkStatus();
    });
    return absl::OkStatus();
  }
  const int64_t n = int64_t{batch} * len * dim;  // elements of q (and k, v, o)
  const int bh = batch * heads;
  __half* q = c.scratch;
  __half* k = q + n;
  __half* v = k + n;
  __half* o = v + n;
  __half* scores = o + n;
  const __half* qkv = Tensor(c, op.input);
  __half* y = c.tensors[op.output];
  steps->push_back([=](cudaStream_t s) {
    RETURN_IF_CUDA_ERROR(LaunchSplitHeads(qkv, q, batch, len, heads, hd, s));
    return absl::OkStatus();
  });
  const int64_t head = int64_t{len} * hd, square = int64_t{len} * len;
  GemmSpec qk{.m = len,
              .n = len,
              .k = hd,
              .batch = bh,
              .stride_x = head,
              .stride_w = head,
              .stride_y = square,
              .alpha = 1.0f / std::sqrt(static_cast<float>(hd))};
  RETURN_IF_ERROR(AppendGemm(c, qk, {.x = q, .w = k, .y = scores}, steps));
  steps->push_back([=](cudaStream_t s) {
    RETURN_IF_CUDA_ERROR(LaunchSoftmax(scores, bh, len, causal, s));
    return absl::OkStatus();
  });
  GemmSpec pv{.m = len,
              .n = hd,
              .k = len,
              .w_transposed = false,
              .batch = bh,
              .stride_x = square,
              .stride_w = head,
              .stride_y = head};
  RETURN_IF_ERROR(AppendGemm(c, pv, {.x = scores, .w = v, .y = o}, steps));
  steps->push_back([=](cudaStream_t s) {
    RETURN_IF_CUDA_ERROR(LaunchMergeHeads(o, y, batch, len, heads, hd, s));
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

absl::Status AppendRowOp(const StepContext& c, const Op& op, std::vector<Step>* steps) {
  const std::vector<int>& in = DimsOf(c, op.input);
  const __half* x = Tensor(c, op.input);
  __half* y = c.tensors[op.output];
  const __half* w = Param(c, op.weight);
  const __half* b = Param(c, op.bias);
  const int batch = c.batch, len = in[0], dim = DimsOf(c, op.output).back();
  const int64_t rows = batch * ElementsOf(c, op.output) / dim;
  const float eps = op.eps;
  const int vocab = c.graph->vocab, token = op.token >= 0 ? op.token : len + op.token;
  const int32_t* ids = c.token_ids;
  const OpKind kind = op.kind;
  steps->push_back([=](cudaStream_t s) {
    switch (kind) {
      case OpKind::kLayerNorm:
        RETURN_IF_CUDA_ERROR(LaunchLayerNorm(x, w, b, y, rows, dim, eps, s));
        break;
      case OpKind::kEmbedding:
        RETURN_IF_CUDA_ERROR(LaunchEmbedding(ids, w, b, y, batch, len, dim, vocab, s));
        break;
      default:
        RETURN_IF_CUDA_ERROR(LaunchTakeToken(x, y, batch, len, dim, token, s));
    }
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

}  // namespace

int64_t AttentionScratchBytes(const serving::ModelGraph& graph, int batch, bool fused_attention) {
  int64_t bytes = 0;
  const Libraries libs{.fused_attention = fused_attention};
  for (const Op& op : graph.ops) {
    if (op.kind != OpKind::kAttention || Fused(libs, graph, op)) continue;
    const std::vector<int>& out = graph.tensors[op.output].dims;
    const int64_t n = int64_t{batch} * out[0] * out[1];
    const int64_t scores = int64_t{batch} * op.heads * out[0] * out[0];
    bytes = std::max(bytes, (4 * n + scores) * 2);
  }
  return bytes;
}

absl::Status AppendOpSteps(const StepContext& c, const Op& op, std::vector<Step>* steps) {
  switch (op.kind) {
    case OpKind::kConv2d:
      return AppendConv(c, op, steps);
    case OpKind::kLinear:
      return AppendLinear(c, op, steps);
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      return AppendPool(c, op, steps);
    case OpKind::kAttention:
      return AppendAttention(c, op, steps);
    case OpKind::kAdd:
    case OpKind::kActivation:
      AppendBiasActivation({.x = Tensor(c, op.input),
                            .residual = Tensor(c, op.residual),
                            .y = c.tensors[op.output],
                            .rows = c.batch * ElementsOf(c, op.output),
                            .channels = 1,
                            .act = ActCode(op.act)},
                           steps);
      return absl::OkStatus();
    case OpKind::kLayerNorm:
    case OpKind::kEmbedding:
    case OpKind::kTakeToken:
      return AppendRowOp(c, op, steps);
  }
  return absl::InternalError("unknown op kind");
}

}  // namespace tessera::runtime_cuda::internal
