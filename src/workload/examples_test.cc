// The bundled continuous-learning and serving examples (data/examples/adapt) load with the
// bundled model registry and say what their headers say.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/workload/workload.h"

namespace tessera::workload {
namespace {

constexpr double kDayMeans[] = {600, 800, 600, 350, 700, 450};

absl::StatusOr<Workload> LoadExample(const std::string& name) {
  ASSIGN_OR_RETURN(std::string data, DataDir());
  ASSIGN_OR_RETURN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  return LoadWorkloadFile(data + "/examples/adapt/" + name, registry);
}

// Six models, model k replaying group k of 6 of the workload's one trace.
void ExpectSixGroups(const Workload& w) {
  ASSERT_EQ(w.models.size(), 6u);
  ASSERT_EQ(w.traces.size(), 1u);
  for (size_t k = 0; k < w.models.size(); ++k) {
    EXPECT_EQ(w.models[k].demand.split_of, 6);
    EXPECT_EQ(w.models[k].demand.split_index, static_cast<int>(k));
    EXPECT_EQ(w.models[k].input, InputDistribution{.fixed = 224});
  }
}

TEST(AdaptExamplesTest, ClDayHasSixTenantsOnTheSplitFunctionsTrace) {
  ASSERT_OK_AND_ASSIGN(Workload w, LoadExample("cl-day.workload.yaml"));
  ExpectSixGroups(w);
  ASSERT_EQ(w.tenants.size(), 6u);
  for (size_t k = 0; k < w.models.size(); ++k) {
    EXPECT_EQ(w.models[k].demand.rate_rps, kDayMeans[k]);
    EXPECT_EQ(w.tenants[k].model, w.models[k].model);
    EXPECT_EQ(w.tenants[k].retraining_window_s, 120);
  }
}

TEST(AdaptExamplesTest, ServingDayIsClDayWithoutTenants) {
  ASSERT_OK_AND_ASSIGN(Workload serving, LoadExample("serving-day.workload.yaml"));
  ASSERT_OK_AND_ASSIGN(Workload cl, LoadExample("cl-day.workload.yaml"));
  EXPECT_TRUE(serving.tenants.empty());
  EXPECT_EQ(serving.models, cl.models);
  EXPECT_EQ(serving.traces, cl.traces);
}

TEST(AdaptExamplesTest, ClHourLlmSplitsTheLlmTraceOverSixTenants) {
  ASSERT_OK_AND_ASSIGN(Workload w, LoadExample("cl-hour-llm.workload.yaml"));
  ExpectSixGroups(w);
  ASSERT_EQ(w.tenants.size(), 6u);
  double total = 0;
  for (size_t k = 0; k < w.models.size(); ++k) {
    total += w.models[k].demand.rate_rps;
    EXPECT_EQ(w.tenants[k].retraining_window_s, 60);
  }
  EXPECT_NEAR(total, 3500, 1e-9);  // the cl-day means, by repeating the trace's requests
  for (const WorkloadModel& m : w.models) EXPECT_GT(m.demand.repeat, 500);
}

TEST(AdaptExamplesTest, ServingDayH100SplitsTheFunctionsInFive) {
  ASSERT_OK_AND_ASSIGN(Workload w, LoadExample("serving-day-h100.workload.yaml"));
  ASSERT_EQ(w.models.size(), 5u);
  EXPECT_TRUE(w.tenants.empty());
  const double means[] = {4000, 5000, 1500, 2000, 1000};
  for (size_t k = 0; k < w.models.size(); ++k) {
    EXPECT_EQ(w.models[k].demand.split_of, 5);
    EXPECT_EQ(w.models[k].demand.split_index, static_cast<int>(k));
    EXPECT_EQ(w.models[k].demand.rate_rps, means[k]);
  }
}

}  // namespace
}  // namespace tessera::workload
