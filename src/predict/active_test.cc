#include "tessera/predict/active.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/hw/catalog.h"

namespace tessera::predict {
namespace {

using ::testing::HasSubstr;

constexpr char kGpu[] = "H100-SXM5-80GB";

// latency = batch x 128 / SMs ms; a fake that needs 4 rows to fit and reports the uncertainty
// (and the latency factor) the test gives it.
class FakePredictor : public Predictor {
 public:
  using KeyFn = std::function<double(const perf::ProfileKey&)>;
  FakePredictor(std::string name, KeyFn uncertainty, KeyFn factor)
      : name_(std::move(name)), uncertainty_(uncertainty), factor_(factor) {}
  std::string name() const override { return name_; }
  absl::Status Fit(const std::vector<perf::ProfileRow>& rows) override {
    if (rows.size() < 4) return absl::InvalidArgumentError("needs 4 rows");
    fitted_ = true;
    return absl::OkStatus();
  }
  absl::StatusOr<Prediction> Predict(const perf::ProfileKey& key) const override {
    if (!fitted_) return absl::FailedPreconditionError("not fitted");
    if (key.model == "mystery") return absl::InvalidArgumentError("no gflops_per_item");
    Prediction y;
    y.latency_ms = Truth(key) * factor_(key);
    return y;
  }
  double Uncertainty(const perf::ProfileKey& key) const override { return uncertainty_(key); }
  absl::StatusOr<nlohmann::json> Save() const override { return nlohmann::json::object(); }
  static double Truth(const perf::ProfileKey& key) { return key.batch * 128.0 / key.partition.sms; }

 private:
  std::string name_;
  KeyFn uncertainty_, factor_;
  bool fitted_ = false;
};

double Zero(const perf::ProfileKey&) { return 0; }
double One(const perf::ProfileKey&) { return 1; }

std::vector<perf::ProfileKey> Grid(std::vector<std::string> models = {"bert_base", "resnet50"}) {
  std::vector<perf::ProfileKey> grid;
  for (const std::string& model : models) {
    for (int sms : {16, 32, 64, 132}) {
      for (int batch : {1, 2, 4, 8, 16, 32, 64, 128}) {
        grid.push_back({kGpu, hw::Partition::Sm(sms), model, 224, batch, 1});
      }
    }
  }
  return grid;
}

absl::StatusOr<perf::ProfileRow> Measure(const perf::ProfileKey& key) {
  perf::ProfileRow row;
  row.key = key;
  row.latency_ms = FakePredictor::Truth(key);
  return row;
}

class ActiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<hw::Catalog> catalog = hw::LoadDefaultCatalog();
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = *std::move(catalog);
  }
  PredictorFactory Factory() {
    return [this](std::string_view name) -> absl::StatusOr<std::unique_ptr<Predictor>> {
      std::string n(name);
      ++made_[n];
      FakePredictor::KeyFn u = uncertainty_.count(n) ? uncertainty_[n] : Zero;
      FakePredictor::KeyFn f = factor_.count(n) ? factor_[n] : One;
      return std::make_unique<FakePredictor>(n, u, f);
    };
  }
  absl::StatusOr<ActivePlan> Choose(const std::vector<perf::ProfileKey>& grid,
                                    const std::string& budget) {
    absl::StatusOr<MeasurementBudget> b = ParseMeasurementBudget(budget);
    if (!b.ok()) return b.status();
    options_.budget = *b;
    return ChooseMeasurements(grid, catalog_, options_, Factory(), Measure);
  }

  hw::Catalog catalog_;
  ActiveOptions options_;
  std::map<std::string, FakePredictor::KeyFn> uncertainty_, factor_;
  std::map<std::string, int> made_;
};

TEST_F(ActiveTest, ParsesBudgets) {
  EXPECT_EQ(ParseMeasurementBudget("15%")->value, 0.15);
  EXPECT_EQ(ParseMeasurementBudget("15%")->kind, MeasurementBudget::Kind::kGridShare);
  EXPECT_EQ(ParseMeasurementBudget("3600s")->value, 3600);
  EXPECT_EQ(ParseMeasurementBudget("90 m")->value, 5400);
  EXPECT_EQ(ParseMeasurementBudget("2h")->kind, MeasurementBudget::Kind::kGpuSeconds);
  EXPECT_EQ(ParseMeasurementBudget("2h")->ToString(), "7200 GPU-s");
  for (const char* bad : {"15x", "0%", "101%", "-3s", "", "%", "abc s"}) {
    absl::StatusOr<MeasurementBudget> b = ParseMeasurementBudget(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_THAT(b.status().message(), HasSubstr("expected a share of the grid"));
  }
}

TEST_F(ActiveTest, CostAndCount) {
  MeasurementCost cost;
  EXPECT_DOUBLE_EQ(MeasurementSeconds(100, cost), 5 + 33 * 0.1);
  EXPECT_EQ(BudgetCount({MeasurementBudget::Kind::kGridShare, 0.15}, 64), 10u);
  EXPECT_EQ(BudgetCount({MeasurementBudget::Kind::kGridShare, 0.25}, 64), 16u);
  EXPECT_EQ(BudgetCount({MeasurementBudget::Kind::kGridShare, 0.01}, 64), 1u);
}

TEST_F(ActiveTest, ChoosesTheBudgetsShareOfDistinctGridKeysDeterministically) {
  std::vector<perf::ProfileKey> grid = Grid();
  absl::StatusOr<ActivePlan> plan = Choose(grid, "25%");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->chosen.size(), 16u);
  ASSERT_EQ(plan->measured.size(), 16u);
  std::set<perf::ProfileKey> keys;
  double seconds = 0;
  for (const ChosenConfiguration& c : plan->chosen) {
    keys.insert(c.key);
    EXPECT_NE(std::find(grid.begin(), grid.end(), c.key), grid.end());
    seconds += c.cost_s;
  }
  EXPECT_EQ(keys.size(), 16u);
  EXPECT_DOUBLE_EQ(plan->gpu_seconds, seconds);
  EXPECT_THAT(plan->stop_reason, HasSubstr("budget 25% reached: 16 of 64"));
  absl::StatusOr<ActivePlan> again = Choose(grid, "25%");
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(again->chosen[i].key, plan->chosen[i].key);
}

TEST_F(ActiveTest, SpaceFillingCoversEveryModelThenTheExtremes) {
  options_.space_filling_share = 1;
  absl::StatusOr<ActivePlan> plan = Choose(Grid(), "10%");  // 7 configurations
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->chosen.size(), 7u);
  std::set<std::string> first_two = {plan->chosen[0].key.model, plan->chosen[1].key.model};
  EXPECT_EQ(first_two.size(), 2u);
  // Each model's first point is central; the next ones reach the corners of batch and SMs.
  std::set<int> batches, sms;
  for (const ChosenConfiguration& c : plan->chosen) {
    EXPECT_EQ(c.phase, SelectionPhase::kSpaceFilling);
    batches.insert(c.key.batch);
    sms.insert(c.key.partition.sms);
  }
  EXPECT_TRUE(batches.count(1) && batches.count(128));
  EXPECT_TRUE(sms.count(16) && sms.count(132));
  EXPECT_THAT(plan->chosen[0].reason, HasSubstr("most central"));
  EXPECT_THAT(plan->chosen[2].reason, HasSubstr("farthest from the chosen"));
}

TEST_F(ActiveTest, PhaseTwoMeasuresWhereThePredictorIsLeastSure) {
  options_.space_filling_share = 0.25;
  options_.rounds = 1;
  uncertainty_["learned"] = [](const perf::ProfileKey& k) {
    return k.model == "resnet50" && k.partition.sms == 32 ? 0.5 + k.batch / 1000.0 : 0.01;
  };
  absl::StatusOr<ActivePlan> plan = Choose(Grid(), "25%");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->chosen.size(), 16u);
  int phase2 = 0;
  for (const ChosenConfiguration& c : plan->chosen) {
    if (c.phase != SelectionPhase::kUncertainty) continue;
    ++phase2;
    EXPECT_EQ(c.round, 1);
    EXPECT_THAT(c.reason, HasSubstr("learned uncertainty"));
  }
  EXPECT_EQ(phase2, 12);
  // The first phase-2 pick is the most uncertain unmeasured key.
  const ChosenConfiguration& first = plan->chosen[4];
  EXPECT_EQ(first.key.model, "resnet50");
  EXPECT_EQ(first.key.partition.sms, 32);
  EXPECT_EQ(first.phase, SelectionPhase::kUncertainty);
}

TEST_F(ActiveTest, WithoutUncertaintyItMeasuresWherePredictorsDisagree) {
  options_.space_filling_share = 0.25;
  options_.rounds = 1;
  factor_["roofline"] = [](const perf::ProfileKey& k) {
    return k.model == "bert_base" && k.batch == 64 ? 3.0 : 1.0;
  };
  absl::StatusOr<ActivePlan> plan = Choose(Grid(), "25%");
  ASSERT_TRUE(plan.ok()) << plan.status();
  const ChosenConfiguration& first = plan->chosen[4];
  EXPECT_EQ(first.phase, SelectionPhase::kDisagreement);
  EXPECT_EQ(first.key.model, "bert_base");
  EXPECT_EQ(first.key.batch, 64);
  EXPECT_NEAR(first.score, std::log(3.0), 1e-9);
  EXPECT_THAT(first.reason, HasSubstr("|log(learned / roofline)|"));
  EXPECT_EQ(made_["roofline"], 2);  // the up-front name check, then the round's one fit
}

TEST_F(ActiveTest, WhatThePredictorCannotPredictIsMeasuredFirst) {
  options_.space_filling_share = 0.25;
  options_.rounds = 1;
  uncertainty_["learned"] = [](const perf::ProfileKey&) { return 0.1; };
  absl::StatusOr<ActivePlan> plan = Choose(Grid({"mystery", "resnet50"}), "25%");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->chosen.size(), 16u);
  // After 4 space-filling points, the fake cannot predict "mystery" (no descriptors).
  for (size_t i = 4; i < 16; ++i) EXPECT_EQ(plan->chosen[i].key.model, "mystery") << i;
  EXPECT_EQ(plan->chosen[4].phase, SelectionPhase::kUnpredictable);
  EXPECT_THAT(plan->chosen[4].reason, HasSubstr("learned cannot predict it"));
}

TEST_F(ActiveTest, APredictorThatCannotFitYetLeavesTheRoundToSpaceFilling) {
  options_.space_filling_share = 0;
  options_.rounds = 2;
  absl::StatusOr<ActivePlan> plan = Choose(Grid(), "10%");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->chosen.size(), 7u);
  // Phase 1 gives one point per model (2), round 1 cannot fit (needs 4) and space-fills.
  EXPECT_EQ(plan->chosen[2].phase, SelectionPhase::kSpaceFilling);
  EXPECT_EQ(plan->chosen[2].round, 1);
  EXPECT_THAT(plan->chosen[2].reason, HasSubstr("learned did not fit: needs 4 rows"));
}

TEST_F(ActiveTest, GpuSecondsBudgetIsChargedAtMeasuredCost) {
  absl::StatusOr<ActivePlan> plan = Choose(Grid(), "100s");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_GT(plan->chosen.size(), 5u);
  EXPECT_LT(plan->chosen.size(), 64u);
  EXPECT_LE(plan->gpu_seconds, 100 * 1.1);
  EXPECT_THAT(plan->stop_reason, HasSubstr("budget 100 GPU-s reached"));
}

TEST_F(ActiveTest, AWholeGridBudgetMeasuresEverything) {
  absl::StatusOr<ActivePlan> plan = Choose(Grid({"resnet50"}), "100%");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->chosen.size(), 32u);
  EXPECT_THAT(plan->stop_reason, HasSubstr("every configuration of the grid measured (32)"));
}

TEST_F(ActiveTest, RejectsBadGridsAndOptions) {
  EXPECT_THAT(Choose({}, "10%").status().message(), HasSubstr("the grid is empty"));
  std::vector<perf::ProfileKey> grid = Grid();
  grid.push_back(grid.front());
  EXPECT_THAT(Choose(grid, "10%").status().message(), HasSubstr("twice"));
  grid.back().gpu = "A100-SXM4-80GB";
  EXPECT_THAT(Choose(grid, "10%").status().message(), HasSubstr("names two GPUs"));
  options_.rounds = 0;
  EXPECT_THAT(Choose(Grid(), "10%").status().message(), HasSubstr("rounds"));
}

TEST_F(ActiveTest, MeasuredRowsMustBeOfTheKeyAndFinitePositive) {
  absl::StatusOr<MeasurementBudget> budget = ParseMeasurementBudget("50%");
  ASSERT_TRUE(budget.ok());
  options_.budget = *budget;
  auto wrong_key = [](const perf::ProfileKey& key) -> absl::StatusOr<perf::ProfileRow> {
    absl::StatusOr<perf::ProfileRow> row = Measure(key);
    row->key.batch += 1;
    return row;
  };
  EXPECT_THAT(
      ChooseMeasurements(Grid(), catalog_, options_, Factory(), wrong_key).status().message(),
      HasSubstr("returned a row of"));
  for (double latency :
       {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(), -1.0}) {
    auto bad = [latency](const perf::ProfileKey& key) -> absl::StatusOr<perf::ProfileRow> {
      absl::StatusOr<perf::ProfileRow> row = Measure(key);
      row->latency_ms = latency;
      return row;
    };
    EXPECT_THAT(ChooseMeasurements(Grid(), catalog_, options_, Factory(), bad).status().message(),
                HasSubstr("finite positive latency"));
  }
}

TEST_F(ActiveTest, UnknownPredictorNamesFailBeforeMeasuring) {
  absl::StatusOr<MeasurementBudget> budget = ParseMeasurementBudget("50%");
  ASSERT_TRUE(budget.ok());
  options_.budget = *budget;
  options_.reference_predictor = "oracle";
  int measured = 0;
  auto counting = [&measured](const perf::ProfileKey& key) {
    ++measured;
    return Measure(key);
  };
  auto factory = [](std::string_view name) -> absl::StatusOr<std::unique_ptr<Predictor>> {
    if (name == "oracle") return absl::InvalidArgumentError("unknown predictor 'oracle'");
    return std::make_unique<FakePredictor>(std::string(name), Zero, One);
  };
  absl::StatusOr<ActivePlan> plan =
      ChooseMeasurements(Grid(), catalog_, options_, factory, counting);
  EXPECT_THAT(plan.status().message(), HasSubstr("reference_predictor 'oracle'"));
  EXPECT_EQ(measured, 0);
  options_.reference_predictor = options_.predictor;
  EXPECT_THAT(Choose(Grid(), "50%").status().message(), HasSubstr("is the predictor itself"));
}

TEST_F(ActiveTest, NoFitInARoundWithoutRoomLeft) {
  // 4 configurations of 64: all spent on space filling (one per model, then up to the phase-1
  // share), so the rounds have no room; they must not fit the predictor.
  options_.space_filling_share = 1;
  absl::StatusOr<ActivePlan> plan = Choose(Grid(), "5%");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(made_[options_.predictor], 1);  // the up-front name check only
}

TEST_F(ActiveTest, MigProfilesWithoutAnSmCountAreInTheSpace) {
  const std::string a30 = "A30-24GB";
  std::vector<perf::ProfileKey> grid;
  for (const char* profile : {"1g.6gb", "1g.6gb+me", "2g.12gb", "4g.24gb"}) {
    for (int batch : {1, 4, 16}) {
      grid.push_back({a30, hw::Partition::Mig(profile), "resnet50", 224, batch, 1});
    }
  }
  auto measure = [](const perf::ProfileKey& key) -> absl::StatusOr<perf::ProfileRow> {
    perf::ProfileRow row;
    row.key = key;
    row.latency_ms = key.batch;
    return row;
  };
  absl::StatusOr<MeasurementBudget> budget = ParseMeasurementBudget("50%");
  ASSERT_TRUE(budget.ok());
  options_.budget = *budget;
  absl::StatusOr<ActivePlan> plan =
      ChooseMeasurements(grid, catalog_, options_, Factory(), measure);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->chosen.size(), 6u);
}

TEST_F(ActiveTest, RandomSelectionIsASeededSample) {
  std::vector<perf::ProfileKey> grid = Grid();
  std::vector<perf::ProfileKey> a = RandomSelection(grid, 10, 7), b = RandomSelection(grid, 10, 7);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set<perf::ProfileKey>(a.begin(), a.end()).size(), 10u);
  EXPECT_NE(RandomSelection(grid, 10, 8), a);
}

}  // namespace
}  // namespace tessera::predict
