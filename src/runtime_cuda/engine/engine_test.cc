// The CUDA engine against the CPU reference. Device tests skip cleanly without a GPU; the
// no-device test checks that Create says Unavailable (so the binary starts without a driver).
//
// Tolerance: fp16 storage on both sides, but different summation orders (cuBLASLt / cuDNN tiles)
// and fp16 roundings that can flip between them: max |gpu - cpu| <= 0.03 * max(1, max |cpu|).
#include "tessera/runtime_cuda/engine.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/runtime_cuda/engine_check.h"
#include "tessera/serving/reference.h"

namespace tessera::runtime_cuda {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

constexpr float kTolerance = 0.03f;

bool HaveDevice() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

int SmallInput(const std::string& model) {
  return model == "bert_base" || model == "gpt2" ? 24 : 64;
}

TEST(EngineCheckTest, ScaledErrorIsRelativeToTheLargestReferenceValue) {
  EXPECT_FLOAT_EQ(ScaledError({1.0f, 2.5f}, {1.0f, 2.0f}), 0.25f);
  EXPECT_FLOAT_EQ(ScaledError({0.1f}, {0.0f}), 0.1f);  // scale at least 1
}

TEST(EngineCheckTest, NeedsADevice) {
  if (HaveDevice()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_THAT(CheckEngineAgainstReference({}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(EngineCheckTest, SmallModelsPassOnTheDevice) {
  if (!HaveDevice()) GTEST_SKIP() << "no CUDA device";
  ASSERT_OK_AND_ASSIGN(std::vector<EngineCheckRow> rows, CheckEngineAgainstReference({}));
  EXPECT_EQ(rows.size(), EngineModels().size());
  for (const EngineCheckRow& row : rows)
    EXPECT_TRUE(row.passed) << row.model << " " << row.scaled_error;
}

TEST(EngineNoDeviceTest, CreateIsUnavailableWithoutDevice) {
  if (HaveDevice()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_THAT(Engine::Create({}), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("GPU")));
}

TEST(EngineNoDeviceTest, ModelsAreTheZoos) { EXPECT_EQ(EngineModels(), serving::ZooModels()); }

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveDevice()) GTEST_SKIP() << "no CUDA device";
    EngineOptions options;
    options.seed = 5;
    options.zoo = serving::ZooOptions::Small();
    ASSERT_OK_AND_ASSIGN(engine_, Engine::Create(options));
  }
  // The reference output for `key` on the (small) zoo with the engine's seed.
  std::vector<float> Reference(const ModelKey& key, const std::vector<float>& input,
                               const serving::ZooOptions& zoo = serving::ZooOptions::Small()) {
    absl::StatusOr<serving::ModelGraph> g = serving::BuildModel(key.model, key.input, zoo);
    EXPECT_TRUE(g.ok()) << g.status();
    absl::StatusOr<std::vector<float>> out = serving::ReferenceForward(*g, key.batch, input, 5);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::vector<float>{};
  }
  std::vector<float> Input(const ModelKey& key, uint64_t seed,
                           const serving::ZooOptions& zoo = serving::ZooOptions::Small()) {
    absl::StatusOr<serving::ModelGraph> g = serving::BuildModel(key.model, key.input, zoo);
    return g.ok() ? serving::MakeInput(*g, key.batch, seed) : std::vector<float>{};
  }
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, SmallModelsMatchReference) {
  for (const std::string& model : EngineModels()) {
    const ModelKey key{model, 2, SmallInput(model)};
    ASSERT_OK(engine_->Prepare(key));
    const std::vector<float> input = Input(key, 9);
    ASSERT_OK(engine_->SetInput(key, input));
    ASSERT_OK_AND_ASSIGN(double ns, engine_->Run(key));
    EXPECT_GT(ns, 0.0);
    ASSERT_OK_AND_ASSIGN(std::vector<float> gpu, engine_->Output(key));
    const std::vector<float> cpu = Reference(key, input);
    ASSERT_EQ(gpu.size(), cpu.size()) << model;
    EXPECT_LE(ScaledError(gpu, cpu), kTolerance) << model;
  }
}

// Fused and unfused attention (batched GEMMs + softmax) on lengths of one and several 64-key
// tiles, partial tiles, odd and even lengths.
TEST_F(EngineTest, AttentionPathsMatchReference) {
  serving::ZooOptions zoo = serving::ZooOptions::Small();
  zoo.max_positions = 256;
  for (bool fused : {true, false}) {
    EngineOptions options;
    options.seed = 5;
    options.zoo = zoo;
    options.fused_attention = fused;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Engine> engine, Engine::Create(options));
    for (const ModelKey& key : {ModelKey{"gpt2", 2, 37}, ModelKey{"gpt2", 1, 150},
                                ModelKey{"bert_base", 3, 64}, ModelKey{"bert_base", 2, 130}}) {
      ASSERT_OK(engine->Prepare(key));
      const std::vector<float> input = Input(key, 11, zoo);
      ASSERT_OK(engine->SetInput(key, input));
      ASSERT_OK(engine->Run(key).status());
      ASSERT_OK_AND_ASSIGN(std::vector<float> gpu, engine->Output(key));
      EXPECT_LE(ScaledError(gpu, Reference(key, input, zoo)), kTolerance)
          << key.model << " " << key.input << (fused ? " fused" : " unfused");
    }
  }
}

TEST_F(EngineTest, DefaultInputIsMakeInputWithTheSeed) {
  const ModelKey key{"gpt2", 3, 17};
  ASSERT_OK(engine_->Prepare(key));
  ASSERT_OK(engine_->Run(key).status());
  ASSERT_OK_AND_ASSIGN(std::vector<float> gpu, engine_->Output(key));
  EXPECT_LE(ScaledError(gpu, Reference(key, Input(key, 5))), kTolerance);
}

TEST_F(EngineTest, ReplayIsDeterministicAndPrepareIdempotent) {
  const ModelKey key{"resnet50", 2, 48};
  ASSERT_OK(engine_->Prepare(key));
  const int64_t bytes = engine_->MemoryBytes();
  ASSERT_OK(engine_->Prepare(key));
  EXPECT_EQ(engine_->MemoryBytes(), bytes);
  ASSERT_OK(engine_->Run(key).status());
  ASSERT_OK_AND_ASSIGN(std::vector<float> first, engine_->Output(key));
  ASSERT_OK(engine_->Run(key).status());
  ASSERT_OK_AND_ASSIGN(std::vector<float> second, engine_->Output(key));
  EXPECT_EQ(first, second);
}

TEST_F(EngineTest, ErrorsAreStatuses) {
  EXPECT_THAT(engine_->Prepare({"alexnet", 1, 224}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("alexnet")));
  EXPECT_THAT(engine_->Prepare({"bert_base", 1, 100}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bert_base")));
  EXPECT_THAT(engine_->Prepare({"vgg16", 0, 64}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch 0")));
  EXPECT_THAT(engine_->Run({"vgg16", 1, 64}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Prepare")));
  const ModelKey key{"bert_base", 1, 8};
  ASSERT_OK(engine_->Prepare(key));
  EXPECT_THAT(engine_->SetInput(key, {1, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs 8")));
  EXPECT_THAT(engine_->SetInput(key, std::vector<float>(8, 1e6f)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token id")));
}

TEST(EngineStreamTest, RunsOnTheCallersStream) {
  if (!HaveDevice()) GTEST_SKIP() << "no CUDA device";
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  {
    EngineOptions options;
    options.stream = stream;
    options.zoo = serving::ZooOptions::Small();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Engine> engine, Engine::Create(options));
    ASSERT_OK(engine->Prepare({"mobilenet_v2", 4, 32}));
    ASSERT_OK(engine->Run({"mobilenet_v2", 4, 32}).status());
  }
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

// Full-size shapes (the ones latency is measured on) against the reference, batch 1.
TEST(EngineFullSizeTest, MatchesReference) {
  if (!HaveDevice()) GTEST_SKIP() << "no CUDA device";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Engine> engine, Engine::Create({}));
  for (const ModelKey& key : {ModelKey{"resnet50", 1, 224}, ModelKey{"gpt2", 1, 32}}) {
    ASSERT_OK(engine->Prepare(key));
    ASSERT_OK(engine->Run(key).status());
    ASSERT_OK_AND_ASSIGN(std::vector<float> gpu, engine->Output(key));
    ASSERT_OK_AND_ASSIGN(serving::ModelGraph g,
                         serving::BuildModel(key.model, key.input, serving::ZooOptions{}));
    ASSERT_OK_AND_ASSIGN(std::vector<float> cpu,
                         serving::ReferenceForward(g, 1, serving::MakeInput(g, 1, 1), 1));
    EXPECT_LE(ScaledError(gpu, cpu), kTolerance) << key.model;
  }
}

}  // namespace
}  // namespace tessera::runtime_cuda
