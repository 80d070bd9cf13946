#include "tessera/serving/model_zoo.h"

#include <cmath>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::serving {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(HalfTest, RoundsToNearestEven) {
  EXPECT_EQ(FloatToHalfBits(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalfBits(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalfBits(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalfBits(65520.0f), 0x7C00);           // rounds up past the largest finite half
  EXPECT_EQ(FloatToHalfBits(1.0f + 0x1.0p-11f), 0x3C00);  // tie: to even
  EXPECT_EQ(FloatToHalfBits(1.0f + 3 * 0x1.0p-11f), 0x3C02);  // tie: to even (up)
  EXPECT_EQ(FloatToHalfBits(0x1.0p-24f), 0x0001);             // smallest subnormal
  EXPECT_EQ(FloatToHalfBits(1e-9f), 0x0000);
  EXPECT_EQ(FloatToHalfBits(0x1.0p-14f), 0x0400);  // smallest normal
  EXPECT_FLOAT_EQ(HalfBitsToFloat(0x0001), 0x1.0p-24f);
  EXPECT_FLOAT_EQ(HalfBitsToFloat(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(HalfBitsToFloat(0xFC00)));
  EXPECT_TRUE(std::isnan(HalfBitsToFloat(FloatToHalfBits(NAN))));
  for (float v : {0.1f, -3.75f, 1000.3f, 1e-5f}) {
    EXPECT_NEAR(RoundToHalf(v), v, std::fabs(v) * 0x1.0p-11f + 0x1.0p-25f) << v;
  }
}

TEST(ModelZooTest, FullSizeParamCounts) {
  struct Case {
    const char* model;
    int input;
    int64_t params_lo, params_hi, outputs;
  };
  // vgg16 and gpt2 match torchvision / HuggingFace exactly; resnet50 and mobilenet_v2 have
  // batch norm folded (no BN params); bert_base has no pooler or token-type table.
  for (const Case& c : {Case{"vgg16", 224, 138357544, 138357544, 1000},
                        Case{"gpt2", 1024, 124439808, 124439808, 50257},
                        Case{"resnet50", 224, 25'400'000, 25'557'032, 1000},
                        Case{"mobilenet_v2", 224, 3'400'000, 3'504'872, 1000},
                        Case{"bert_base", 128, 108'800'000, 109'500'000, 768}}) {
    ASSERT_OK_AND_ASSIGN(ModelGraph g, BuildModel(c.model, c.input, ZooOptions{}));
    EXPECT_GE(g.ParamElements(), c.params_lo) << c.model;
    EXPECT_LE(g.ParamElements(), c.params_hi) << c.model;
    EXPECT_EQ(g.OutputElements(), c.outputs) << c.model;
  }
}

TEST(ModelZooTest, ResnetShapes) {
  ASSERT_OK_AND_ASSIGN(ModelGraph g, BuildModel("resnet50", 224, ZooOptions{}));
  EXPECT_EQ(g.tensors[g.ops[0].output].dims, (std::vector<int>{112, 112, 64}));
  EXPECT_EQ(g.tensors[g.ops[1].output].dims, (std::vector<int>{56, 56, 64}));
  EXPECT_EQ(g.tensors[g.ops[g.ops.size() - 2].output].dims, (std::vector<int>{1, 1, 2048}));
  EXPECT_EQ(g.ops.size(), 1u + 1 + 16 * 3 + 4 + 1 + 1);
}

std::set<OpKind> KindsOf(const ModelGraph& g) {
  std::set<OpKind> kinds;
  for (const Op& op : g.ops) kinds.insert(op.kind);
  return kinds;
}

TEST(ModelZooTest, SmallVersionsKeepOpKinds) {
  for (const std::string& model : ZooModels()) {
    const int input = model == "bert_base" || model == "gpt2" ? 16 : 64;
    ASSERT_OK_AND_ASSIGN(ModelGraph full, BuildModel(model, input, ZooOptions{}));
    ASSERT_OK_AND_ASSIGN(ModelGraph small, BuildModel(model, input, ZooOptions::Small()));
    EXPECT_EQ(KindsOf(full), KindsOf(small)) << model;
    EXPECT_LT(small.ParamElements() * 20, full.ParamElements()) << model;
  }
}

TEST(ModelZooTest, InputOutOfRangeNamesModelAndLimit) {
  EXPECT_THAT(BuildModel("resnet50", 16, ZooOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("resnet50"), HasSubstr("[32, 1024]"))));
  EXPECT_THAT(BuildModel("bert_base", 513, ZooOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("bert_base"), HasSubstr("512"))));
  EXPECT_THAT(BuildModel("gpt2", 65, ZooOptions::Small()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[1, 64]")));
  EXPECT_THAT(BuildModel("alexnet", 224, ZooOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown model 'alexnet'")));
  EXPECT_THAT(BuildModel("vgg16", 224, ZooOptions{.width_divisor = 3}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("width_divisor")));
}

TEST(ModelZooTest, WeightsAreDeterministicAndSeeded) {
  ASSERT_OK_AND_ASSIGN(ModelGraph g, BuildModel("mobilenet_v2", 32, ZooOptions::Small()));
  for (int p : {0, 1, static_cast<int>(g.params.size()) - 1}) {
    std::vector<float> a = ParamValues(g, p, 7);
    EXPECT_EQ(a, ParamValues(g, p, 7));
    EXPECT_NE(a, ParamValues(g, p, 8));
    for (float v : a) {
      EXPECT_LE(std::fabs(v - g.params[p].offset), g.params[p].scale * 1.001f);
      EXPECT_EQ(v, RoundToHalf(v));
    }
  }
  EXPECT_NE(ParamValues(g, 0, 7), ParamValues(g, 2, 7));
  EXPECT_EQ(MakeInput(g, 2, 3), MakeInput(g, 2, 3));
  EXPECT_NE(MakeInput(g, 2, 3), MakeInput(g, 2, 4));
}

TEST(ModelZooTest, TokenInputsAreIdsInVocab) {
  ASSERT_OK_AND_ASSIGN(ModelGraph g, BuildModel("gpt2", 10, ZooOptions::Small()));
  std::vector<float> in = MakeInput(g, 3, 1);
  ASSERT_EQ(in.size(), 30u);
  for (float id : in) {
    EXPECT_EQ(id, std::floor(id));
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 512);
  }
}

}  // namespace
}  // namespace tessera::serving
