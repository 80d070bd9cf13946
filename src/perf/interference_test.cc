#include "tessera/perf/interference.h"

#include <cmath>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::perf {
namespace {

using ::testing::HasSubstr;

class InterferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<hw::Catalog> catalog = hw::LoadDefaultCatalog();
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = *std::move(catalog);
    absl::StatusOr<models::ModelRegistry> registry = models::LoadDefaultModelRegistry();
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    absl::StatusOr<std::string> path = DefaultInterferenceCsv();
    ASSERT_TRUE(path.ok()) << path.status();
    csv_ = *path;
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  hw::Catalog catalog_;
  models::ModelRegistry registry_;
  std::string csv_;
};

TEST(ConstantInterferenceTest, FactorOnlyWithNeighbours) {
  ConstantInterference interference(1.2);
  InterferenceJob job{"resnet50", 32, 16, 224};
  EXPECT_DOUBLE_EQ(interference.BudgetSlowdown(job), 1.2);
  EXPECT_DOUBLE_EQ(interference.Slowdown(job, {}), 1.0);
  EXPECT_DOUBLE_EQ(interference.Slowdown(job, {{"bert_base", 64, 8, 128}}), 1.2);
}

TEST(LinearFitTest, RecoversKnownCoefficientsFromSyntheticData) {
  const std::array<double, 4> truth = {0.05, 0.3, 0.4, -0.2};
  std::vector<InterferenceSample> samples;
  int pair = 0;
  for (double ua : {0.1, 0.2, 0.35, 0.45}) {
    for (double ub : {0.05, 0.15, 0.3, 0.5}) {
      double s = 1 + truth[0] + truth[1] * ua + truth[2] * ub + truth[3] * ua * ub;
      samples.push_back({"a", "b", ua, ub, s, pair++, true});
    }
  }
  ASSERT_OK_AND_ASSIGN(LinearFit fit, FitLinearInterference(samples));
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(fit.c[i], truth[i], 1e-6) << i;
  EXPECT_EQ(fit.samples, 16);
  EXPECT_NEAR(fit.Predict(0.2, 0.3), 1 + 0.05 + 0.06 + 0.12 - 0.012, 1e-6);
  EXPECT_NEAR(fit.Predict(0, 0), 1.05, 1e-6);
  // Exact data: held-out predictions are exact too.
  ASSERT_OK_AND_ASSIGN(CrossValidation cv, CrossValidateLinearInterference(samples, 4, 1.1));
  EXPECT_LT(cv.fitted_mae, 1e-6);
  EXPECT_GT(cv.constant_mae, 0.05);
}

TEST(LinearFitTest, TooFewSamplesIsAnError) {
  std::vector<InterferenceSample> samples = {{"a", "b", 0.1, 0.2, 1.2, 0, true}};
  EXPECT_THAT(FitLinearInterference(samples).status().message(), HasSubstr("at least 4"));
}

TEST_F(InterferenceTest, ReadsTheBundledCsvIncludingJobsWithoutProfileRows) {
  ASSERT_OK_AND_ASSIGN(
      ProfileTable profiles,
      LoadProfileCsv(csv_.substr(0, csv_.find("/datasets/")) + "/profiles/h100-sm-partitions.csv",
                     catalog_, registry_));
  ASSERT_OK_AND_ASSIGN(std::vector<InterferenceSample> samples,
                       ReadInterferenceCsv(csv_, catalog_, registry_, &profiles));
  EXPECT_EQ(samples.size(), 2u * 49);
  int unprofiled = 0;
  for (const InterferenceSample& s : samples) {
    EXPECT_GT(s.u_victim, 0);
    EXPECT_LT(s.u_victim, 1);
    if (!s.victim_profiled) {
      ++unprofiled;
      EXPECT_TRUE(s.victim.starts_with("vit_b_16") || s.victim.starts_with("efficientnet_b0"))
          << s.victim;
    }
  }
  EXPECT_EQ(unprofiled, 2 * 2 * 7);  // 2 jobs x 7 rows as job_a and 7 as job_b
}

TEST_F(InterferenceTest, FittedModelBeatsGpuletsConstantUnderCrossValidation) {
  ASSERT_OK_AND_ASSIGN(std::vector<InterferenceSample> samples,
                       ReadInterferenceCsv(csv_, catalog_, registry_, nullptr));
  for (int folds : {5, 0}) {
    ASSERT_OK_AND_ASSIGN(CrossValidation cv, CrossValidateLinearInterference(samples, folds, 1.1));
    EXPECT_EQ(cv.folds, folds == 0 ? 49 : 5);
    // Every measured slowdown is above 1.1, so the constant is off by > 2% everywhere.
    EXPECT_GT(cv.constant_mape, 0.10);
    EXPECT_LT(cv.fitted_mape, 0.06);
    EXPECT_LT(cv.fitted_mape, cv.constant_mape / 2);
    EXPECT_LT(cv.fitted_mape, cv.mean_mape);  // the pressures carry information
  }
}

TEST_F(InterferenceTest, LinearModelUsesProfilesAndSumsNeighbours) {
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* h100, catalog_.Find("h100"));
  ASSERT_OK_AND_ASSIGN(
      ProfileTable profiles,
      LoadProfileCsv(csv_.substr(0, csv_.find("/datasets/")) + "/profiles/h100-sm-partitions.csv",
                     catalog_, registry_));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LinearInterference> model,
                       FitInterferenceModel(csv_, *h100, catalog_, registry_, &profiles));
  InterferenceJob resnet{"resnet50", 64, 32, 224};
  InterferenceJob mobilenet{"mobilenet_v2", 32, 64, 224};
  EXPECT_TRUE(PressureSource(*h100, &registry_, &profiles).Pressure(resnet).has_value());
  EXPECT_DOUBLE_EQ(model->Slowdown(resnet, {}), 1.0);
  double one = model->Slowdown(resnet, {mobilenet});
  double two = model->Slowdown(resnet, {mobilenet, mobilenet});
  EXPECT_GT(one, 1.0);
  EXPECT_GT(two, one);  // more busy neighbours, more pressure
  EXPECT_GE(model->BudgetSlowdown(resnet), 1.1);
  EXPECT_LT(model->BudgetSlowdown(resnet), 1.6);
  // A job without profile rows gets the fit's mean pressure.
  EXPECT_DOUBLE_EQ(model->PressureOf({"vit_b_16", 64, 16, 224}), model->fit().mean_pressure);
  EXPECT_THAT(model->Describe(), HasSubstr("interference_64_68.csv"));
}

TEST_F(InterferenceTest, BadCsvNamesFileLineAndColumn) {
  const std::string header =
      "gpu,job_a,sms_a,job_b,sms_b,solo_a_ms,solo_b_ms,coloc_a_ms,coloc_b_ms,slowdown_a,"
      "slowdown_b\n";
  const std::string good =
      "H100-SXM5-80GB,resnet50_b32,64,vgg16_b32,68,3.7,6.7,4.6,8.2,1.26,1.22\n";
  struct Case {
    std::string row, column;
  };
  for (const Case& c : std::vector<Case>{
           {"H100-SXM5-80GB,resnet50_b32,64,vgg16_b32,68,-3.7,6.7,4.6,8.2,1.26,1.22\n",
            "solo_a_ms"},
           {"H100-SXM5-80GB,resnet50,64,vgg16_b32,68,3.7,6.7,4.6,8.2,1.26,1.22\n", "job_a"},
           {"H100-SXM5-80GB,resnet50_b32,64,nosuchmodel_b4,68,3.7,6.7,4.6,8.2,1.26,1.22\n",
            "job_b"},
           {"H100-SXM5-80GB,resnet50_b32,64,vgg16_b32,68,3.7,6.7,4.6,8.2,1.26,x\n", "slowdown_b"},
           {"NoSuchGpu,resnet50_b32,64,vgg16_b32,68,3.7,6.7,4.6,8.2,1.26,1.22\n", "gpu"},
           {"H100-SXM5-80GB,resnet50_b32,0,vgg16_b32,68,3.7,6.7,4.6,8.2,1.26,1.22\n", "sms_a"},
       }) {
    std::string path = Write("bad_interference.csv", header + good + c.row);
    absl::Status status = ReadInterferenceCsv(path, catalog_, registry_, nullptr).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.row;
    EXPECT_THAT(status.message(), HasSubstr("bad_interference.csv:3")) << c.row;
    EXPECT_THAT(status.message(), HasSubstr(c.column)) << c.row;
  }
  std::string missing = Write("missing_column.csv", "gpu,job_a\nH100-SXM5-80GB,resnet50_b32\n");
  EXPECT_THAT(ReadInterferenceCsv(missing, catalog_, registry_, nullptr).status().message(),
              HasSubstr("missing_column.csv"));
  std::string empty = Write("empty_interference.csv", header);
  EXPECT_THAT(ReadInterferenceCsv(empty, catalog_, registry_, nullptr).status().message(),
              HasSubstr("no measurements"));
}

}  // namespace
}  // namespace tessera::perf
