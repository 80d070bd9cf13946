// BERT-base (post-LN encoder) and GPT-2 small (pre-LN decoder, full-sequence forward) in the zoo
// IR.
#include <algorithm>
#include <string>

#include "fmt/core.h"
#include "serving/reference/zoo_builder.h"

namespace tessera::serving::internal {
namespace {

constexpr int kHeadDim = 64;  // kept at every scale (the GPU's fused attention needs it)

struct TransformerShape {
  int layers, heads, hidden, vocab, positions;
};

TransformerShape ShapeOf(int layers, int vocab, int positions, const ZooOptions& options) {
  const int heads = std::max(2, 12 / options.width_divisor);
  return {options.max_layers > 0 ? std::min(layers, options.max_layers) : layers, heads,
          heads * kHeadDim, options.vocab > 0 ? options.vocab : vocab,
          options.max_positions > 0 ? options.max_positions : positions};
}

// h = LN(h + proj(attn(qkv(h)))); h = LN(h + fc2(gelu(fc1(h)))).
int BertLayer(GraphBuilder& b, const std::string& name, int h, int heads, int hidden) {
  constexpr float kEps = 1e-12f;
  int qkv = b.Linear(name + ".attention.qkv", h, {.out_features = 3 * hidden});
  int a = b.Attention(name + ".attention", qkv, heads, /*causal=*/false);
  int x = b.Linear(name + ".attention.output", a, {.out_features = hidden, .residual = h});
  x = b.LayerNorm(name + ".attention.norm", x, kEps);
  int f =
      b.Linear(name + ".intermediate", x, {.out_features = 4 * hidden, .act = Activation::kGelu});
  int y = b.Linear(name + ".output", f, {.out_features = hidden, .residual = x});
  return b.LayerNorm(name + ".output.norm", y, kEps);
}

// x = x + proj(attn(qkv(LN(x)))); x = x + fc2(gelu(fc1(LN(x)))).
int Gpt2Block(GraphBuilder& b, const std::string& name, int x, int heads, int hidden) {
  constexpr float kEps = 1e-5f;
  int n = b.LayerNorm(name + ".ln_1", x, kEps);
  int qkv = b.Linear(name + ".attn.c_attn", n, {.out_features = 3 * hidden});
  int a = b.Attention(name + ".attn", qkv, heads, /*causal=*/true);
  int x1 = b.Linear(name + ".attn.c_proj", a, {.out_features = hidden, .residual = x});
  n = b.LayerNorm(name + ".ln_2", x1, kEps);
  int f = b.Linear(name + ".mlp.c_fc", n, {.out_features = 4 * hidden, .act = Activation::kGelu});
  return b.Linear(name + ".mlp.c_proj", f, {.out_features = hidden, .residual = x1});
}

}  // namespace

ModelGraph BuildBertBase(int tokens, const ZooOptions& options) {
  const TransformerShape s = ShapeOf(12, 30522, 512, options);
  GraphBuilder b("bert_base", tokens, true, {tokens});
  b.set_vocab(s.vocab);
  int table = -1;
  int h = b.Embedding("embeddings", b.input(), s.vocab, s.positions, s.hidden, &table);
  h = b.LayerNorm("embeddings.norm", h, 1e-12f);
  for (int i = 0; i < s.layers; ++i)
    h = BertLayer(b, fmt::format("encoder.{}", i), h, s.heads, s.hidden);
  return std::move(b).Finish(b.TakeToken("cls", h, 0));
}

ModelGraph BuildGpt2(int tokens, const ZooOptions& options) {
  const TransformerShape s = ShapeOf(12, 50257, 1024, options);
  GraphBuilder b("gpt2", tokens, true, {tokens});
  b.set_vocab(s.vocab);
  int wte = -1;
  int x = b.Embedding("wte", b.input(), s.vocab, s.positions, s.hidden, &wte);
  for (int i = 0; i < s.layers; ++i) x = Gpt2Block(b, fmt::format("h.{}", i), x, s.heads, s.hidden);
  x = b.LayerNorm("ln_f", x, 1e-5f);
  x = b.TakeToken("last", x, -1);
  return std::move(b).Finish(
      b.Linear("lm_head", x, {.out_features = s.vocab, .shared_weight = wte, .bias = false}));
}

}  // namespace tessera::serving::internal
