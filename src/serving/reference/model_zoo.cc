#include "tessera/serving/model_zoo.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_join.h"
#include "fmt/core.h"
#include "serving/reference/zoo_builder.h"

namespace tessera::serving {
namespace {

constexpr int kMinImageSide = 32;  // five stride-2 stages leave at least 1x1
constexpr int kMaxImageSide = 1024;
constexpr uint64_t kInputStream = 0xFFFF'FFFFull;  // the input's "param id" for the hash

uint64_t Mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// 64 hashed bits for element `index` of stream `stream` under `seed`: counter-based, so any
// element can be made independently (and in any order).
uint64_t HashBits(uint64_t seed, uint64_t stream, uint64_t index) {
  return Mix(Mix(seed ^ Mix(stream)) + index * 0xD1B54A32D192ED03ull);
}

// Uniform in [-1, 1), 24 random bits.
float HashUniform(uint64_t seed, uint64_t stream, uint64_t index) {
  return static_cast<float>(HashBits(seed, stream, index) >> 40) * 0x1.0p-23f - 1.0f;
}

int TokenLimit(std::string_view model, const ZooOptions& options) {
  if (options.max_positions > 0) return options.max_positions;
  return model == "gpt2" ? 1024 : 512;
}

}  // namespace

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kConv2d:
      return "conv2d";
    case OpKind::kMaxPool:
      return "max_pool";
    case OpKind::kAvgPool:
      return "avg_pool";
    case OpKind::kAdd:
      return "add";
    case OpKind::kActivation:
      return "activation";
    case OpKind::kLinear:
      return "linear";
    case OpKind::kEmbedding:
      return "embedding";
    case OpKind::kLayerNorm:
      return "layer_norm";
    case OpKind::kAttention:
      return "attention";
    case OpKind::kTakeToken:
      return "take_token";
  }
  return "unknown";
}

int64_t TensorInfo::Elements() const {
  int64_t n = 1;
  for (int d : dims) n *= d;
  return n;
}

int64_t ParamInfo::Elements() const {
  int64_t n = 1;
  for (int d : dims) n *= d;
  return n;
}

int64_t ModelGraph::ParamElements() const {
  int64_t n = 0;
  for (const ParamInfo& p : params) n += p.Elements();
  return n;
}

std::string ModelGraph::DebugString() const {
  std::string out = fmt::format("{} input {}: {} ops, {} params\n", model, input_size, ops.size(),
                                ParamElements());
  for (const Op& op : ops) {
    const TensorInfo& t = tensors[op.output];
    out += fmt::format("  {} {} [{}]\n", OpKindName(op.kind), t.name, absl::StrJoin(t.dims, ","));
  }
  return out;
}

ZooOptions ZooOptions::Small() {
  return {.width_divisor = 8,
          .max_blocks_per_stage = 1,
          .max_layers = 2,
          .vocab = 512,
          .max_positions = 64,
          .classes = 10};
}

absl::Status ZooOptions::Validate() const {
  const int w = width_divisor;
  if (w < 1 || w > 64 || (w & (w - 1)) != 0) {
    return absl::InvalidArgumentError(
        fmt::format("ZooOptions.width_divisor {} must be a power of two in [1, 64]", w));
  }
  const std::pair<const char*, int> non_negative[] = {
      {"max_blocks_per_stage", max_blocks_per_stage},
      {"max_layers", max_layers},
      {"vocab", vocab},
      {"max_positions", max_positions},
      {"classes", classes}};
  for (const auto& [field, value] : non_negative) {
    if (value < 0) {
      return absl::InvalidArgumentError(
          fmt::format("ZooOptions.{} {} must be >= 0 (0: the full model's)", field, value));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> ZooModels() {
  return {"bert_base", "gpt2", "mobilenet_v2", "resnet50", "vgg16"};
}

absl::StatusOr<ModelGraph> BuildModel(std::string_view model, int input,
                                      const ZooOptions& options) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  const bool tokens = model == "bert_base" || model == "gpt2";
  const bool image = model == "resnet50" || model == "mobilenet_v2" || model == "vgg16";
  if (!tokens && !image) {
    return absl::InvalidArgumentError(fmt::format("unknown model '{}'; the zoo has: {}", model,
                                                  absl::StrJoin(ZooModels(), ", ")));
  }
  const int lo = tokens ? 1 : kMinImageSide;
  const int hi = tokens ? TokenLimit(model, options) : kMaxImageSide;
  if (input < lo || input > hi) {
    return absl::InvalidArgumentError(fmt::format("{}: input {} {} is out of range [{}, {}]", model,
                                                  input, tokens ? "tokens" : "pixels", lo, hi));
  }
  if (model == "resnet50") return internal::BuildResnet50(input, options);
  if (model == "mobilenet_v2") return internal::BuildMobilenetV2(input, options);
  if (model == "vgg16") return internal::BuildVgg16(input, options);
  if (model == "bert_base") return internal::BuildBertBase(input, options);
  return internal::BuildGpt2(input, options);
}

std::vector<uint16_t> ParamHalfBits(const ModelGraph& graph, int param, uint64_t seed) {
  const ParamInfo& p = graph.params[param];
  std::vector<uint16_t> bits(static_cast<size_t>(p.Elements()));
  for (size_t i = 0; i < bits.size(); ++i) {
    bits[i] = FloatToHalfBits(p.offset + p.scale * HashUniform(seed, param, i));
  }
  return bits;
}

std::vector<float> ParamValues(const ModelGraph& graph, int param, uint64_t seed) {
  std::vector<uint16_t> bits = ParamHalfBits(graph, param, seed);
  std::vector<float> values(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) values[i] = HalfBitsToFloat(bits[i]);
  return values;
}

std::vector<float> MakeInput(const ModelGraph& graph, int batch, uint64_t seed) {
  std::vector<float> values(static_cast<size_t>(batch * graph.InputElements()));
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = graph.token_input
                    ? static_cast<float>(HashBits(seed, kInputStream, i) % graph.vocab)
                    : RoundToHalf(HashUniform(seed, kInputStream, i));
  }
  return values;
}

uint16_t FloatToHalfBits(float value) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof(x));
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);   // NaN
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520: infinity
  if (abs < 0x38800000u) {  // below 2^-14: a subnormal half, exactly scaled by 2^24 and rounded
    const float scaled = std::fabs(value) * 16777216.0f;
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(scaled)));
  }
  const uint32_t mantissa = abs & 0x7FFFFFu;
  uint32_t bits = (((abs >> 23) - 112u) << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (bits & 1u))) ++bits;
  return static_cast<uint16_t>(sign | bits);
}

float HalfBitsToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  const uint32_t mantissa = bits & 0x3FFu;
  if (exponent == 0) {
    const float v = static_cast<float>(mantissa) * 0x1.0p-24f;
    return sign ? -v : v;
  }
  uint32_t x = sign | (mantissa << 13);
  x |= exponent == 31 ? 0x7F800000u : (exponent + 112u) << 23;
  float out;
  std::memcpy(&out, &x, sizeof(out));
  return out;
}

namespace internal {

int ScaleWidth(int width, const ZooOptions& options) {
  if (options.width_divisor == 1) return width;
  return std::max(8, (width / options.width_divisor + 7) / 8 * 8);
}

int ScaleBlocks(int blocks, const ZooOptions& options) {
  return options.max_blocks_per_stage > 0 ? std::min(blocks, options.max_blocks_per_stage) : blocks;
}

}  // namespace internal
}  // namespace tessera::serving
