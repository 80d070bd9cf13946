#include "tessera/serving/reference.h"

#include <cmath>

#include "fmt/core.h"
#include "serving/reference/reference_ops.h"

namespace tessera::serving {
namespace {

using internal::OpArgs;

absl::Status CheckArguments(const ModelGraph& g, int batch, const std::vector<float>& input,
                            const std::vector<std::vector<float>>& weights) {
  if (batch < 1) {
    return absl::InvalidArgumentError(fmt::format("{}: batch {} must be >= 1", g.model, batch));
  }
  const int64_t want = batch * g.InputElements();
  if (static_cast<int64_t>(input.size()) != want) {
    return absl::InvalidArgumentError(fmt::format("{}: input has {} values; batch {} needs {}",
                                                  g.model, input.size(), batch, want));
  }
  if (weights.size() != g.params.size()) {
    return absl::InvalidArgumentError(fmt::format("{}: {} weight tensors given, the graph has {}",
                                                  g.model, weights.size(), g.params.size()));
  }
  for (size_t p = 0; p < weights.size(); ++p) {
    if (static_cast<int64_t>(weights[p].size()) != g.params[p].Elements()) {
      return absl::InvalidArgumentError(fmt::format("{}: weight {} has {} values, needs {}",
                                                    g.model, g.params[p].name, weights[p].size(),
                                                    g.params[p].Elements()));
    }
  }
  if (!g.token_input) return absl::OkStatus();
  for (float id : input) {
    if (!(id >= 0 && id < g.vocab) || id != std::floor(id)) {
      return absl::InvalidArgumentError(
          fmt::format("{}: token id {} is not an integer in [0, {})", g.model, id, g.vocab));
    }
  }
  return absl::OkStatus();
}

void RunOp(const OpArgs& a) {
  switch (a.op->kind) {
    case OpKind::kConv2d:
      return internal::Conv2d(a);
    case OpKind::kMaxPool:
      return internal::MaxPool(a);
    case OpKind::kAvgPool:
      return internal::AvgPool(a);
    case OpKind::kAdd:
    case OpKind::kActivation:
      return internal::AddOrActivate(a);
    case OpKind::kLinear:
      return internal::Linear(a);
    case OpKind::kEmbedding:
      return internal::Embedding(a);
    case OpKind::kLayerNorm:
      return internal::LayerNorm(a);
    case OpKind::kAttention:
      return internal::Attention(a);
    case OpKind::kTakeToken:
      return internal::TakeToken(a);
  }
}

}  // namespace

float ApplyActivation(Activation act, float x) {
  switch (act) {
    case Activation::kNone:
      return x;
    case Activation::kRelu:
      return x > 0.0f ? x : 0.0f;
    case Activation::kRelu6:
      return std::fmin(std::fmax(x, 0.0f), 6.0f);
    case Activation::kGelu: {
      constexpr float kSqrt2OverPi = 0.7978845608028654f;
      return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    }
  }
  return x;
}

std::vector<std::vector<float>> MakeWeights(const ModelGraph& graph, uint64_t seed) {
  std::vector<std::vector<float>> weights;
  weights.reserve(graph.params.size());
  for (size_t p = 0; p < graph.params.size(); ++p) {
    weights.push_back(ParamValues(graph, static_cast<int>(p), seed));
  }
  return weights;
}

absl::StatusOr<std::vector<float>> ReferenceForward(
    const ModelGraph& graph, int batch, const std::vector<float>& input,
    const std::vector<std::vector<float>>& weights) {
  if (absl::Status s = CheckArguments(graph, batch, input, weights); !s.ok()) return s;
  std::vector<std::vector<float>> values(graph.tensors.size());
  values[graph.input_tensor] = input;
  if (!graph.token_input) {
    for (float& v : values[graph.input_tensor]) v = RoundToHalf(v);
  }
  for (const Op& op : graph.ops) {
    std::vector<float>& out = values[op.output];
    out.assign(static_cast<size_t>(batch * graph.tensors[op.output].Elements()), 0.0f);
    OpArgs a{.op = &op,
             .in_dims = &graph.tensors[op.input].dims,
             .out_dims = &graph.tensors[op.output].dims,
             .batch = batch,
             .x = values[op.input].data(),
             .residual = op.residual >= 0 ? values[op.residual].data() : nullptr,
             .weight = op.weight >= 0 ? weights[op.weight].data() : nullptr,
             .bias = op.bias >= 0 ? weights[op.bias].data() : nullptr,
             .y = out.data()};
    RunOp(a);
    for (float& v : out) v = RoundToHalf(v);
  }
  return std::move(values[graph.output_tensor]);
}

absl::StatusOr<std::vector<float>> ReferenceForward(const ModelGraph& graph, int batch,
                                                    const std::vector<float>& input,
                                                    uint64_t seed) {
  return ReferenceForward(graph, batch, input, MakeWeights(graph, seed));
}

}  // namespace tessera::serving
