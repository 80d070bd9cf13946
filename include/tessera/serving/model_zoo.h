// tessera/serving/model_zoo.h — the model zoo as a small IR: a list of operators over named,
// per-item tensors, with deterministic weights. The CPU reference (reference.h) and the CUDA engine
// (tessera/runtime_cuda/engine.h) both run this IR, in the same order, with the same weights.
//
// Models: resnet50 (v1.5), mobilenet_v2, vgg16 (input: the image side in pixels, 3 channels),
// bert_base (input: sequence length; output: the final hidden state of the first token, [CLS],
// 768 values per item), gpt2 (GPT-2 small, full-sequence forward; output: the logits of the last
// position, 50257 values per item; the LM head is tied to the token embedding).
//
// Conventions (the GPU follows them exactly):
//   * Tensors are per item (the batch is the outer dimension, added at run time). Images are
//     {H, W, C} (NHWC); token sequences {T, D}; token ids {T} (floats holding integers).
//   * Conv weights are {O, KH, KW, C/groups} (KRSC, cuDNN's NHWC filter layout); batch norm is
//     folded into the conv bias. Linear weights are {N, K} (out x in, row-major): y = x W^T + b,
//     applied to the item's tensor viewed as rows of K values (so an {H, W, C} tensor flattens in
//     HWC order).
//   * Fused epilogue: conv, linear and add compute out = act(f(x) + bias + residual).
//   * Attention reads a fused qkv tensor {T, 3D} laid out [q | k | v], head h at columns
//     [h*D/H, (h+1)*D/H) of each part, and writes {T, D}: softmax(q k^T / sqrt(D/H)) v per head.
//
// Weights: param p's element i is offset + scale * u(seed, p, i), u uniform in [-1, 1) from a
// counter-based hash (SplitMix64), rounded to fp16. Scales are ~sqrt(3/fan_in) (He-style for ReLU
// nets, the last conv of each residual branch scaled down as a folded batch norm with small gamma
// would be) so activations stay well inside the fp16 range at full size.
//
// Example:
//   ASSIGN_OR_RETURN(ModelGraph g, BuildModel("resnet50", /*input=*/224, ZooOptions{}));
//   std::vector<float> w = ParamValues(g, /*param=*/0, /*seed=*/1);   // fp16-rounded floats
//   ASSIGN_OR_RETURN(ModelGraph tiny, BuildModel("gpt2", 16, ZooOptions::Small()));
//
// Thread-safe: everything here is a pure function of its arguments.
#ifndef TESSERA_SERVING_MODEL_ZOO_H_
#define TESSERA_SERVING_MODEL_ZOO_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera::serving {

enum class OpKind {
  kConv2d,   // input, weight {O,KH,KW,C/g}, bias {O}, optional residual; kernel/stride/pad/groups
  kMaxPool,  // kernel, stride, pad (padding never wins the max)
  kAvgPool,  // adaptive average pool to out_side x out_side (1: global average pool)
  kAdd,      // input + residual, then act
  kActivation,  // act(input), elementwise
  kLinear,      // rows of K: x W^T + bias (+ residual), then act
  kEmbedding,   // token table weight {V,D}[id] + position table bias {P,D}[t]
  kLayerNorm,   // over the last dim; weight = gamma, bias = beta, eps
  kAttention,   // qkv {T,3D} -> {T,D}; heads, causal
  kTakeToken,   // {T,D} -> {1,D}: token `token` (0: first, -1: last)
};
enum class Activation { kNone, kRelu, kRelu6, kGelu };  // GELU: the tanh form

std::string_view OpKindName(OpKind kind);

struct TensorInfo {
  std::string name;
  std::vector<int> dims;  // per item
  int64_t Elements() const;
};

struct ParamInfo {
  std::string name;
  std::vector<int> dims;
  float offset = 0.0f;  // value = offset + scale * u, u in [-1, 1)
  float scale = 0.0f;
  int64_t Elements() const;
};

struct Op {
  OpKind kind = OpKind::kActivation;
  int input = -1;     // tensor id
  int residual = -1;  // tensor id or -1
  int output = -1;    // tensor id
  int weight = -1;    // param id or -1
  int bias = -1;      // param id or -1
  Activation act = Activation::kNone;
  int kernel = 1, stride = 1, pad = 0, groups = 1;  // conv, max pool
  int out_side = 1;                                 // avg pool
  int heads = 1;                                    // attention
  bool causal = false;                              // attention
  int token = 0;                                    // take token
  float eps = 1e-5f;                                // layer norm
};

struct ModelGraph {
  std::string model;
  int input_size = 0;        // image side or sequence length
  bool token_input = false;  // bert_base, gpt2: the input holds token ids
  int vocab = 0;             // token models: ids must be in [0, vocab)
  std::vector<TensorInfo> tensors;
  std::vector<ParamInfo> params;
  std::vector<Op> ops;
  int input_tensor = 0;
  int output_tensor = 0;

  int64_t InputElements() const { return tensors[input_tensor].Elements(); }    // per item
  int64_t OutputElements() const { return tensors[output_tensor].Elements(); }  // per item
  int64_t ParamElements() const;
  std::string DebugString() const;  // one line per op
};

// Shrinks each architecture while keeping its operator kinds, so the CPU reference runs in
// milliseconds. Defaults: full size.
struct ZooOptions {
  // CNN channels / width_divisor (rounded up to a multiple of 8); transformers keep heads of 64
  // and have max(2, 12 / width_divisor) of them. A power of two in [1, 64].
  int width_divisor = 1;
  int max_blocks_per_stage = 0;  // CNNs: blocks (or convs for vgg16) per stage; 0: all
  int max_layers = 0;            // transformers: layers; 0: all
  int vocab = 0;                 // transformers: vocabulary size; 0: the real one
  int max_positions = 0;         // transformers: position table size; 0: the real one
  int classes = 0;               // CNNs: classifier outputs; 0: 1000

  // Width / 8 (transformers: 2 heads, hidden 128), one block per stage, 2 layers, vocab 512,
  // 64 positions, 10 classes.
  static ZooOptions Small();
  absl::Status Validate() const;  // InvalidArgument naming the bad field
  bool operator==(const ZooOptions&) const = default;
};

// The zoo's model names, sorted.
std::vector<std::string> ZooModels();

// The model's graph for `input` (image side, or tokens). InvalidArgument, naming the model and the
// limit, for an unknown model or an input out of range (images 32..1024 pixels; bert_base 1..512
// tokens and gpt2 1..1024, or the options' max_positions).
absl::StatusOr<ModelGraph> BuildModel(std::string_view model, int input, const ZooOptions& options);

// Param `param` of `graph`, every element rounded to fp16 (returned as floats).
std::vector<float> ParamValues(const ModelGraph& graph, int param, uint64_t seed);
// Same values as fp16 bit patterns, for upload to a GPU.
std::vector<uint16_t> ParamHalfBits(const ModelGraph& graph, int param, uint64_t seed);

// A deterministic input for `batch` items: pixels in [-1, 1), or token ids in [0, vocab).
std::vector<float> MakeInput(const ModelGraph& graph, int batch, uint64_t seed);

// fp16 conversion (round to nearest even; overflow to infinity), shared by CPU and GPU code.
uint16_t FloatToHalfBits(float value);
float HalfBitsToFloat(uint16_t bits);
inline float RoundToHalf(float value) { return HalfBitsToFloat(FloatToHalfBits(value)); }

}  // namespace tessera::serving

#endif  // TESSERA_SERVING_MODEL_ZOO_H_
