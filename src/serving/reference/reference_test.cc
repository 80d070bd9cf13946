// The small zoo models end to end on the CPU reference.
#include "tessera/serving/reference.h"

#include <algorithm>
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::serving {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

int SmallInput(const std::string& model) {
  return model == "bert_base" || model == "gpt2" ? 12 : 40;
}

class SmallModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(graph_,
                         BuildModel(GetParam(), SmallInput(GetParam()), ZooOptions::Small()));
  }
  std::vector<float> Forward(int batch, uint64_t input_seed, uint64_t weight_seed) {
    absl::StatusOr<std::vector<float>> out =
        ReferenceForward(graph_, batch, MakeInput(graph_, batch, input_seed), weight_seed);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::vector<float>{};
  }
  ModelGraph graph_;
};

TEST_P(SmallModelTest, FiniteDeterministicAndSeeded) {
  std::vector<float> out = Forward(2, 1, 1);
  ASSERT_EQ(static_cast<int64_t>(out.size()), 2 * graph_.OutputElements());
  float max_abs = 0.0f;
  for (float v : out) {
    ASSERT_TRUE(std::isfinite(v));
    max_abs = std::max(max_abs, std::fabs(v));
  }
  EXPECT_GT(max_abs, 1e-3f);
  EXPECT_LT(max_abs, 1e3f);
  EXPECT_EQ(out, Forward(2, 1, 1));
  EXPECT_NE(out, Forward(2, 1, 2));
  EXPECT_NE(out, Forward(2, 2, 1));
}

TEST_P(SmallModelTest, ItemsOfABatchAreIndependent) {
  std::vector<float> input = MakeInput(graph_, 2, 5);
  ASSERT_OK_AND_ASSIGN(std::vector<float> both, ReferenceForward(graph_, 2, input, 1));
  std::vector<float> second(input.begin() + graph_.InputElements(), input.end());
  ASSERT_OK_AND_ASSIGN(std::vector<float> alone, ReferenceForward(graph_, 1, second, 1));
  EXPECT_EQ(std::vector<float>(both.begin() + graph_.OutputElements(), both.end()), alone);
}

TEST_P(SmallModelTest, BadInputSizeIsInvalidArgument) {
  EXPECT_THAT(ReferenceForward(graph_, 2, std::vector<float>(3), 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(GetParam()), HasSubstr("batch 2 needs"))));
  EXPECT_THAT(ReferenceForward(graph_, 0, {}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch 0")));
}

INSTANTIATE_TEST_SUITE_P(Zoo, SmallModelTest, ::testing::ValuesIn(ZooModels()));

TEST(ReferenceTest, CausalModelIgnoresLaterTokensOnlyWhereItShould) {
  // gpt2's logits (last position) depend on an earlier token; bert's [CLS] state on a later one.
  for (const char* model : {"gpt2", "bert_base"}) {
    ASSERT_OK_AND_ASSIGN(ModelGraph g, BuildModel(model, 8, ZooOptions::Small()));
    std::vector<float> in = MakeInput(g, 1, 3);
    ASSERT_OK_AND_ASSIGN(std::vector<float> a, ReferenceForward(g, 1, in, 1));
    in[model == std::string("gpt2") ? 0 : 7] =
        static_cast<float>((static_cast<int>(in[0]) + 1) % g.vocab);
    ASSERT_OK_AND_ASSIGN(std::vector<float> b, ReferenceForward(g, 1, in, 1));
    EXPECT_NE(a, b) << model;
  }
}

TEST(ReferenceTest, WrongWeightsAreInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(ModelGraph g, BuildModel("vgg16", 32, ZooOptions::Small()));
  std::vector<std::vector<float>> w = MakeWeights(g, 1);
  w[0].pop_back();
  EXPECT_THAT(ReferenceForward(g, 1, MakeInput(g, 1, 1), w),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("features.0.0.weight")));
}

}  // namespace
}  // namespace tessera::serving
