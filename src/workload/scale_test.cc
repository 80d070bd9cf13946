#include "tessera/workload/scale.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"

namespace tessera::workload {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

Workload ThreeDemands() {
  Workload w{.name = "mix"};
  w.models.push_back({"resnet50", 15, {.fixed = 224}, {.rate_rps = 100}});
  w.models.push_back(
      {"bert_base", 25, {.fixed = 128}, {.kind = Demand::Kind::kGamma, .rate_rps = 40, .cv = 2}});
  w.models.push_back({"gpt2",
                      40,
                      {.fixed = 256},
                      {.kind = Demand::Kind::kTrace,
                       .rate_rps = 9.5,
                       .trace = "functions",
                       .trace_key = "47658c9c",
                       .scale = 3}});
  w.traces.push_back({.name = "functions", .format = TraceSpec::Format::kAzureFunctions});
  return w;
}

TEST(ScaleRatesTest, MultipliesEveryRateAndTraceScale) {
  Workload w = ThreeDemands();
  ASSERT_OK_AND_ASSIGN(Workload scaled, ScaleRates(w, 2.5));
  EXPECT_DOUBLE_EQ(scaled.models[0].demand.rate_rps, 250);
  EXPECT_DOUBLE_EQ(scaled.models[1].demand.rate_rps, 100);
  EXPECT_DOUBLE_EQ(scaled.models[1].demand.cv, 2);  // the shape of the arrivals is kept
  EXPECT_DOUBLE_EQ(scaled.models[2].demand.rate_rps, 23.75);
  EXPECT_DOUBLE_EQ(scaled.models[2].demand.scale, 7.5);
  EXPECT_DOUBLE_EQ(scaled.models[0].demand.scale, 1);  // meaningless for Poisson: left alone
  // Everything else is unchanged.
  for (size_t i = 0; i < w.models.size(); ++i) {
    EXPECT_EQ(scaled.models[i].model, w.models[i].model);
    EXPECT_EQ(scaled.models[i].slo_ms, w.models[i].slo_ms);
    EXPECT_EQ(scaled.models[i].input, w.models[i].input);
  }
  EXPECT_EQ(scaled.traces, w.traces);
}

TEST(ScaleRatesTest, OneGivesTheWorkloadBack) {
  Workload w = ThreeDemands();
  ASSERT_OK_AND_ASSIGN(Workload same, ScaleRates(w, 1));
  EXPECT_EQ(same, w);
}

TEST(ScaleRatesTest, RejectsScalesThatAreNotPositiveNumbers) {
  Workload w = ThreeDemands();
  for (double k : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity()}) {
    EXPECT_THAT(ScaleRates(w, k), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("rate scale must be a positive number")))
        << k;
  }
}

// The bundled H100 mix loads with the registry and profiles it names, and scales.
TEST(ScaleRatesTest, BundledH100MixLoadsAndScales) {
  ASSERT_OK_AND_ASSIGN(std::string data, DataDir());
  ASSERT_OK_AND_ASSIGN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  ASSERT_OK_AND_ASSIGN(Workload w,
                       LoadWorkloadFile(data + "/examples/h100-mix.workload.yaml", registry));
  ASSERT_EQ(w.models.size(), 5u);
  double total = 0;
  for (const WorkloadModel& m : w.models) total += m.demand.rate_rps;
  EXPECT_DOUBLE_EQ(total, 20000);  // 6,000 + 3,000 + 1,000 + 2,000 + 8,000 req/s
  const WorkloadModel& bert = w.models[w.ModelIndex("bert_base")];
  EXPECT_EQ(bert.slo_ms, 25);
  EXPECT_EQ(bert.input.kind, InputDistribution::Kind::kEmpirical);
  EXPECT_EQ(bert.input.MaxSize(), 512);  // ContextTokens / 8 clamped to BERT's 512
  ASSERT_OK_AND_ASSIGN(Workload half, ScaleRates(w, 0.5));
  EXPECT_DOUBLE_EQ(half.models[0].demand.rate_rps, w.models[0].demand.rate_rps / 2);
}

}  // namespace
}  // namespace tessera::workload
