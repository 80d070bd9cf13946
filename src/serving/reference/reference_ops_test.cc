// Each reference operator against a hand-computed tiny case.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/serving/reference.h"

namespace tessera::serving {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::Pointwise;

// A graph of one op from tensor 0 (dims `in`) to tensor 1 (dims `out`); params as given.
ModelGraph OneOp(Op op, std::vector<int> in, std::vector<int> out,
                 std::vector<std::vector<int>> params = {}) {
  ModelGraph g;
  g.model = "tiny";
  g.tensors = {{"in", std::move(in)}, {"out", std::move(out)}};
  for (auto& dims : params) g.params.push_back({"p", std::move(dims)});
  op.input = 0;
  op.output = 1;
  g.ops = {op};
  g.output_tensor = 1;
  return g;
}

std::vector<float> Forward(const ModelGraph& g, int batch, std::vector<float> in,
                           std::vector<std::vector<float>> weights = {}) {
  absl::StatusOr<std::vector<float>> out = ReferenceForward(g, batch, in, weights);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<float>{};
}

const std::vector<float> kOneToNine = {1, 2, 3, 4, 5, 6, 7, 8, 9};

TEST(ReferenceOpsTest, ConvPaddingAndStride) {
  Op op{.kind = OpKind::kConv2d, .weight = 0, .bias = 1, .kernel = 3, .stride = 2, .pad = 1};
  ModelGraph g = OneOp(op, {3, 3, 1}, {2, 2, 1}, {{1, 3, 3, 1}, {1}});
  EXPECT_THAT(Forward(g, 1, kOneToNine, {std::vector<float>(9, 1.0f), {0.5f}}),
              ElementsAre(12.5f, 16.5f, 24.5f, 28.5f));
}

TEST(ReferenceOpsTest, DepthwiseConvWithActivation) {
  Op op{.kind = OpKind::kConv2d, .weight = 0, .bias = 1, .act = Activation::kRelu6, .groups = 2};
  ModelGraph g = OneOp(op, {1, 2, 2}, {1, 2, 2}, {{2, 1, 1, 1}, {2}});
  // Channel 0 x2, channel 1 x3 (then bias -1); relu6 clips.
  EXPECT_THAT(Forward(g, 1, {1, 1, 4, -1}, {{2, 3}, {0, -1}}), ElementsAre(2, 2, 6, 0));
}

TEST(ReferenceOpsTest, GroupedConvMixesOnlyItsGroup) {
  Op op{.kind = OpKind::kConv2d, .weight = 0, .bias = 1, .groups = 2};
  ModelGraph g = OneOp(op, {1, 1, 4}, {1, 1, 2}, {{2, 1, 1, 2}, {2}});
  EXPECT_THAT(Forward(g, 1, {1, 2, 3, 4}, {{1, 10, 100, 1000}, {0, 0}}), ElementsAre(21, 4300));
}

TEST(ReferenceOpsTest, ConvResidualBatchAndActivation) {
  Op op{.kind = OpKind::kConv2d, .weight = 0, .bias = 1, .act = Activation::kRelu};
  ModelGraph g = OneOp(op, {1, 1, 1}, {1, 1, 1}, {{1, 1, 1, 1}, {1}});
  g.ops[0].residual = 0;  // the input itself: y = relu(2x + 1 + x)
  EXPECT_THAT(Forward(g, 2, {1, -2}, {{2}, {1}}), ElementsAre(4, 0));
}

TEST(ReferenceOpsTest, MaxPoolIgnoresPadding) {
  Op op{.kind = OpKind::kMaxPool, .kernel = 3, .stride = 2, .pad = 1};
  ModelGraph g = OneOp(op, {3, 3, 1}, {2, 2, 1});
  std::vector<float> negative(9);
  for (int i = 0; i < 9; ++i) negative[i] = -kOneToNine[i];
  EXPECT_THAT(Forward(g, 1, kOneToNine), ElementsAre(5, 6, 8, 9));
  EXPECT_THAT(Forward(g, 1, negative), ElementsAre(-1, -2, -4, -5));
}

TEST(ReferenceOpsTest, AdaptiveAndGlobalAveragePool) {
  EXPECT_THAT(Forward(OneOp({.kind = OpKind::kAvgPool, .out_side = 1}, {3, 3, 1}, {1, 1, 1}), 1,
                      kOneToNine),
              ElementsAre(5));
  // 3 -> 2: windows [0, 2) and [1, 3) in each direction.
  EXPECT_THAT(Forward(OneOp({.kind = OpKind::kAvgPool, .out_side = 2}, {3, 3, 1}, {2, 2, 1}), 1,
                      kOneToNine),
              ElementsAre(3, 4, 6, 7));
}

TEST(ReferenceOpsTest, Activations) {
  EXPECT_FLOAT_EQ(ApplyActivation(Activation::kGelu, 1.0f), 0.8411920f);
  EXPECT_NEAR(ApplyActivation(Activation::kGelu, -3.0f), -0.00363739f, 1e-6);
  EXPECT_EQ(ApplyActivation(Activation::kRelu6, 7.0f), 6.0f);
  EXPECT_EQ(ApplyActivation(Activation::kRelu, -7.0f), 0.0f);
  Op op{.kind = OpKind::kActivation, .act = Activation::kGelu};
  EXPECT_THAT(Forward(OneOp(op, {2}, {2}), 1, {1, 0}), Pointwise(FloatNear(1e-3), {0.8412f, 0.0f}));
  Op add{.kind = OpKind::kAdd, .residual = 0, .act = Activation::kRelu};
  EXPECT_THAT(Forward(OneOp(add, {2}, {2}), 1, {1.5f, -1}), ElementsAre(3, 0));
}

TEST(ReferenceOpsTest, LinearWithBiasAndResidual) {
  Op op{.kind = OpKind::kLinear, .weight = 0, .bias = 1};
  ModelGraph g = OneOp(op, {2, 2}, {2, 3}, {{3, 2}, {3}});
  std::vector<std::vector<float>> w = {{1, 0, 0, 1, 1, 1}, {0, 0, 1}};
  EXPECT_THAT(Forward(g, 1, {1, 2, 3, 4}, w), ElementsAre(1, 2, 4, 3, 4, 8));
  ModelGraph flat = OneOp(op, {1, 1, 2}, {1, 3}, {{3, 2}, {3}});  // {H, W, C} flattens
  EXPECT_THAT(Forward(flat, 2, {1, 2, 3, 4}, w), ElementsAre(1, 2, 4, 3, 4, 8));
  ModelGraph sq = OneOp(op, {1, 3}, {1, 3}, {{3, 3}, {3}});
  sq.ops[0].residual = 0;
  EXPECT_THAT(Forward(sq, 1, {1, 2, 3}, {{1, 0, 0, 0, 1, 0, 0, 0, 1}, {0, 0, 0}}),
              ElementsAre(2, 4, 6));
}

TEST(ReferenceOpsTest, LayerNorm) {
  Op op{.kind = OpKind::kLayerNorm, .weight = 0, .bias = 1, .eps = 0.0f};
  ModelGraph g = OneOp(op, {1, 4}, {1, 4}, {{4}, {4}});
  EXPECT_THAT(Forward(g, 1, {1, 2, 3, 4}, {{1, 1, 1, 2}, {0, 0, 0, 1}}),
              Pointwise(FloatNear(2e-3), {-1.3416f, -0.4472f, 0.4472f, 3.6833f}));
}

TEST(ReferenceOpsTest, AttentionCausalAndNot) {
  // T=2, D=2, one head. q0=[1,0], q1=[0,1]; k0=[1,0], k1=[0,0]; v0=[1,0], v1=[0,1].
  const std::vector<float> qkv = {1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1};
  Op op{.kind = OpKind::kAttention, .heads = 1};
  // Token 0 sees scores [1/sqrt(2), 0]: softmax [0.6698, 0.3302]; token 1 scores [0, 0].
  EXPECT_THAT(Forward(OneOp(op, {2, 6}, {2, 2}), 1, qkv),
              Pointwise(FloatNear(1e-3), {0.6698f, 0.3302f, 0.5f, 0.5f}));
  op.causal = true;  // token 0 sees only itself
  EXPECT_THAT(Forward(OneOp(op, {2, 6}, {2, 2}), 1, qkv),
              Pointwise(FloatNear(1e-3), {1.0f, 0.0f, 0.5f, 0.5f}));
}

TEST(ReferenceOpsTest, AttentionHeadsAreIndependent) {
  // T=1, D=2, two heads of size 1: one token attends to itself, output = v.
  Op op{.kind = OpKind::kAttention, .heads = 2};
  EXPECT_THAT(Forward(OneOp(op, {1, 6}, {1, 2}), 2, {1, 2, 3, 4, 5, 6, 0, 0, 0, 0, -5, 7}),
              ElementsAre(5, 6, -5, 7));
}

TEST(ReferenceOpsTest, EmbeddingAndTakeToken) {
  Op op{.kind = OpKind::kEmbedding, .weight = 0, .bias = 1};
  ModelGraph g = OneOp(op, {2}, {2, 2}, {{3, 2}, {2, 2}});
  g.token_input = true;
  g.vocab = 3;
  std::vector<std::vector<float>> w = {{0, 1, 10, 11, 20, 21}, {0.5f, 0, 0, 0.5f}};
  EXPECT_THAT(Forward(g, 1, {2, 1}, w), ElementsAre(20.5f, 21, 10, 11.5f));
  EXPECT_THAT(ReferenceForward(g, 1, {3, 0}, w),
              tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                         ::testing::HasSubstr("token id 3")));
  Op last{.kind = OpKind::kTakeToken, .token = -1};
  EXPECT_THAT(Forward(OneOp(last, {3, 1}, {1, 1}), 2, {1, 2, 3, 4, 5, 6}), ElementsAre(3, 6));
}

}  // namespace
}  // namespace tessera::serving
