#include "serving/reference/zoo_builder.h"

#include <cmath>
#include <utility>

#include "tessera/base/status.h"

namespace tessera::serving::internal {
namespace {

constexpr float kBiasScale = 0.05f;

int OutSide(int in, int kernel, int stride, int pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

bool HasGain(Activation act) { return act == Activation::kRelu || act == Activation::kRelu6; }

}  // namespace

GraphBuilder::GraphBuilder(std::string model, int input_size, bool token_input,
                           std::vector<int> input_dims) {
  graph_.model = std::move(model);
  graph_.input_size = input_size;
  graph_.token_input = token_input;
  graph_.input_tensor = AddTensor("input", std::move(input_dims));
}

int GraphBuilder::AddTensor(const std::string& name, std::vector<int> dims) {
  for (int d : dims) TESSERA_CHECK(d > 0);
  graph_.tensors.push_back({name, std::move(dims)});
  return static_cast<int>(graph_.tensors.size()) - 1;
}

int GraphBuilder::AddParam(const std::string& name, std::vector<int> dims, float scale,
                           float offset) {
  graph_.params.push_back({name, std::move(dims), offset, scale});
  return static_cast<int>(graph_.params.size()) - 1;
}

int GraphBuilder::AddOp(Op op, const std::string& name, std::vector<int> out_dims) {
  op.output = AddTensor(name, std::move(out_dims));
  graph_.ops.push_back(op);
  return op.output;
}

int GraphBuilder::Conv(const std::string& name, int in, const ConvSpec& spec) {
  const std::vector<int>& d = dims(in);
  TESSERA_CHECK(d.size() == 3 && d[2] % spec.groups == 0 && spec.out_channels % spec.groups == 0);
  const int cin = d[2] / spec.groups;
  const float fan_in = static_cast<float>(spec.kernel * spec.kernel * cin);
  const float scale = spec.gain * std::sqrt((HasGain(spec.act) ? 6.0f : 3.0f) / fan_in);
  Op op{.kind = OpKind::kConv2d, .input = in, .residual = spec.residual};
  op.weight = AddParam(name + ".weight", {spec.out_channels, spec.kernel, spec.kernel, cin}, scale);
  op.bias = AddParam(name + ".bias", {spec.out_channels}, kBiasScale);
  op.act = spec.act;
  op.kernel = spec.kernel;
  op.stride = spec.stride;
  op.pad = spec.pad;
  op.groups = spec.groups;
  const int h = OutSide(d[0], spec.kernel, spec.stride, spec.pad);
  const int w = OutSide(d[1], spec.kernel, spec.stride, spec.pad);
  return AddOp(op, name, {h, w, spec.out_channels});
}

int GraphBuilder::MaxPool(const std::string& name, int in, int kernel, int stride, int pad) {
  const std::vector<int>& d = dims(in);
  Op op{.kind = OpKind::kMaxPool, .input = in, .kernel = kernel, .stride = stride, .pad = pad};
  return AddOp(op, name,
               {OutSide(d[0], kernel, stride, pad), OutSide(d[1], kernel, stride, pad), d[2]});
}

int GraphBuilder::AvgPool(const std::string& name, int in, int out_side) {
  Op op{.kind = OpKind::kAvgPool, .input = in, .out_side = out_side};
  return AddOp(op, name, {out_side, out_side, dims(in)[2]});
}

int GraphBuilder::Linear(const std::string& name, int in, const LinearSpec& spec) {
  const std::vector<int>& d = dims(in);
  const int k = d.size() == 2 ? d[1] : static_cast<int>(graph_.tensors[in].Elements());
  const int rows = static_cast<int>(graph_.tensors[in].Elements() / k);
  Op op{.kind = OpKind::kLinear, .input = in, .residual = spec.residual, .act = spec.act};
  if (spec.shared_weight >= 0) {
    TESSERA_CHECK(graph_.params[spec.shared_weight].dims ==
                  (std::vector<int>{spec.out_features, k}));
    op.weight = spec.shared_weight;
  } else {
    const float scale = std::sqrt((HasGain(spec.act) ? 6.0f : 3.0f) / static_cast<float>(k));
    op.weight = AddParam(name + ".weight", {spec.out_features, k}, scale);
  }
  if (spec.bias) op.bias = AddParam(name + ".bias", {spec.out_features}, kBiasScale);
  return AddOp(op, name, {rows, spec.out_features});
}

int GraphBuilder::LayerNorm(const std::string& name, int in, float eps) {
  const int dim = dims(in).back();
  Op op{.kind = OpKind::kLayerNorm, .input = in, .eps = eps};
  op.weight = AddParam(name + ".weight", {dim}, 0.1f, 1.0f);
  op.bias = AddParam(name + ".bias", {dim}, kBiasScale);
  return AddOp(op, name, dims(in));
}

int GraphBuilder::Attention(const std::string& name, int qkv, int heads, bool causal) {
  const std::vector<int>& d = dims(qkv);
  TESSERA_CHECK(d.size() == 2 && d[1] % (3 * heads) == 0);
  Op op{.kind = OpKind::kAttention, .input = qkv, .heads = heads, .causal = causal};
  return AddOp(op, name, {d[0], d[1] / 3});
}

int GraphBuilder::TakeToken(const std::string& name, int in, int token) {
  Op op{.kind = OpKind::kTakeToken, .input = in, .token = token};
  return AddOp(op, name, {1, dims(in)[1]});
}

int GraphBuilder::Embedding(const std::string& name, int tokens, int vocab, int positions, int dim,
                            int* token_table) {
  Op op{.kind = OpKind::kEmbedding, .input = tokens};
  op.weight = AddParam(name + ".tokens", {vocab, dim}, 0.1f);
  op.bias = AddParam(name + ".positions", {positions, dim}, 0.05f);
  *token_table = op.weight;
  return AddOp(op, name, {dims(tokens)[0], dim});
}

ModelGraph GraphBuilder::Finish(int output) && {
  graph_.output_tensor = output;
  return std::move(graph_);
}

}  // namespace tessera::serving::internal
