#include "tessera/predict/predictor.h"

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/rng.h"
#include "tessera/base/status_matchers.h"

namespace tessera::predict {
namespace {

using perf::ProfileKey;
using perf::ProfileRow;
using ::tessera::testing::StatusIs;
using ::testing::AllOf;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The bundled catalog, registry and the two grids, loaded once.
class PredictorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = DataDir();
    ASSERT_TRUE(dir.ok()) << dir.status();
    auto catalog = hw::LoadCatalogDir(*dir + "/gpus");
    auto registry = models::LoadModelRegistryDir(*dir + "/models");
    ASSERT_TRUE(catalog.ok() && registry.ok());
    catalog_ = new hw::Catalog(*catalog);
    registry_ = new models::ModelRegistry(*registry);
    auto h100 =
        perf::LoadProfileCsv(*dir + "/profiles/h100-sm-partitions.csv", *catalog_, *registry_);
    auto a100 = perf::LoadProfileCsv(*dir + "/profiles/a100-parvagpu.csv", *catalog_, *registry_);
    ASSERT_TRUE(h100.ok() && a100.ok());
    h100_ = new perf::ProfileTable(*h100);
    a100_ = new perf::ProfileTable(*a100);
  }

  PredictorInputs Inputs() const { return {catalog_, registry_}; }

  // A seeded random `fraction` of the table's rows for training, the rest for testing.
  static void Split(const perf::ProfileTable& table, double fraction, uint64_t seed,
                    std::vector<ProfileRow>& train, std::vector<ProfileRow>& test) {
    std::vector<ProfileRow> rows;
    for (const auto& [key, row] : table.rows()) rows.push_back(row);
    RngStream rng(seed, 0);
    for (size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng.Next() % i]);
    size_t n = static_cast<size_t>(std::ceil(fraction * rows.size()));
    train.assign(rows.begin(), rows.begin() + n);
    test.assign(rows.begin() + n, rows.end());
  }

  std::unique_ptr<Predictor> Fitted(std::string_view name, const std::vector<ProfileRow>& train) {
    auto predictor = MakePredictor(name, Inputs());
    EXPECT_TRUE(predictor.ok()) << predictor.status();
    EXPECT_OK((*predictor)->Fit(train));
    return std::move(*predictor);
  }

  // Mean absolute percentage error of latency on `test`, in %; over the rows it can predict when
  // `skip_failures` (the table has no rows of some (model, procs)), else every row must predict.
  static double Mape(const Predictor& predictor, const std::vector<ProfileRow>& test,
                     bool skip_failures = false) {
    double sum = 0;
    int n = 0;
    for (const ProfileRow& row : test) {
      auto p = predictor.Predict(row.key);
      if (!skip_failures) EXPECT_TRUE(p.ok()) << p.status();
      if (!p.ok()) continue;
      sum += std::abs(p->latency_ms - row.latency_ms) / row.latency_ms;
      ++n;
    }
    return 100 * sum / std::max(n, 1);
  }

  static ProfileKey H100Key(std::string partition, std::string model, int input, int batch) {
    return {"H100-SXM5-80GB", *hw::ParsePartition(partition), std::move(model), input, batch, 1};
  }

  static hw::Catalog* catalog_;
  static models::ModelRegistry* registry_;
  static perf::ProfileTable* h100_;
  static perf::ProfileTable* a100_;
};

hw::Catalog* PredictorTest::catalog_ = nullptr;
models::ModelRegistry* PredictorTest::registry_ = nullptr;
perf::ProfileTable* PredictorTest::h100_ = nullptr;
perf::ProfileTable* PredictorTest::a100_ = nullptr;

TEST_F(PredictorTest, FactoryKnowsTheNamesAndChecksInputs) {
  EXPECT_THAT(PredictorNames(), ElementsAre("table", "roofline", "learned"));
  for (const std::string& name : PredictorNames()) {
    ASSERT_OK_AND_ASSIGN(auto predictor, MakePredictor(name, Inputs()));
    EXPECT_EQ(predictor->name(), name);
  }
  EXPECT_THAT(MakePredictor("oracle", Inputs()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'oracle'"), HasSubstr("table, roofline, learned"))));
  EXPECT_THAT(MakePredictor("table", {catalog_, nullptr}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
}

TEST_F(PredictorTest, ShareOfSmPartitionsAndMigInstances) {
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* h100, catalog_->Find("H100-SXM5-80GB"));
  ASSERT_OK_AND_ASSIGN(PartitionShare sm64, ShareOf(*h100, hw::Partition::Sm(64)));
  EXPECT_EQ(sm64.sms, 64);
  EXPECT_DOUBLE_EQ(sm64.compute_fraction, 64.0 / 132);
  EXPECT_DOUBLE_EQ(sm64.bandwidth_fraction, 1);
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* a100, catalog_->Find("A100-SXM4-80GB"));
  ASSERT_OK_AND_ASSIGN(PartitionShare mig, ShareOf(*a100, hw::Partition::Mig("3g.40gb")));
  EXPECT_EQ(mig.sms, 42);
  EXPECT_DOUBLE_EQ(mig.compute_fraction, 42.0 / 108);
  EXPECT_DOUBLE_EQ(mig.bandwidth_fraction, 0.5);
  EXPECT_THAT(ShareOf(*a100, hw::Partition::Mig("9g.99gb")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("9g.99gb")));
  // A30 1g.6gb+me has no SM count in the catalog: its compute slices' share of the SMs (1 of 4
  // slices, 56 SMs), not the whole GPU.
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* a30, catalog_->Find("A30-24GB"));
  ASSERT_OK_AND_ASSIGN(PartitionShare me, ShareOf(*a30, hw::Partition::Mig("1g.6gb+me")));
  EXPECT_EQ(me.sms, 14);
  EXPECT_DOUBLE_EQ(me.compute_fraction, 0.25);
}

TEST_F(PredictorTest, RooflineMsIsTheSlowerCeilingTimesProcs) {
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* h100, catalog_->Find("H100-SXM5-80GB"));
  ASSERT_OK_AND_ASSIGN(const models::ModelInfo* resnet, registry_->Find("resnet50"));
  ProfileKey key = H100Key("sm:64", "resnet50", 224, 64);
  double compute_ms = 64 * 8.178 / (64.0 / 132 * *h100->peak_fp16_dense_tflops);
  double memory_ms =
      (25.557 * 2 + 64 * *resnet->activation_mb_per_item) / *h100->memory_bandwidth_gbps;
  EXPECT_THAT(RooflineMs(*h100, *resnet, key),
              ::tessera::testing::IsOkAndHolds(DoubleNear(std::max(compute_ms, memory_ms), 1e-9)));
  key.procs = 3;
  EXPECT_THAT(RooflineMs(*h100, *resnet, key), ::tessera::testing::IsOkAndHolds(DoubleNear(
                                                   3 * std::max(compute_ms, memory_ms), 1e-9)));
  models::ModelInfo bare = *resnet;
  bare.activation_mb_per_item.reset();
  EXPECT_THAT(RooflineMs(*h100, bare, key),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("activation_mb_per_item")));
}

TEST_F(PredictorTest, EveryPredictorChecksItsInputs) {
  std::vector<ProfileRow> train, test;
  Split(*h100_, 0.15, 1, train, test);
  for (const std::string& name : PredictorNames()) {
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(auto predictor, MakePredictor(name, Inputs()));
    EXPECT_THAT(predictor->Predict(test[0].key), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(predictor->Save(), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(predictor->Fit({}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs at least")));
    std::vector<ProfileRow> mixed = train;
    mixed.push_back(a100_->rows().begin()->second);
    EXPECT_THAT(predictor->Fit(mixed),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("two GPUs")));
    ASSERT_OK(predictor->Fit(train));
    ProfileKey foreign = test[0].key;
    foreign.gpu = "A100-SXM4-80GB";
    EXPECT_THAT(predictor->Predict(foreign),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("A100-SXM4-80GB")));
    EXPECT_THAT(predictor->Predict(H100Key("sm:20", "resnet50", 224, 8)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sm:20")));
    EXPECT_THAT(predictor->Predict(H100Key("9g.99gb", "resnet50", 224, 8)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("9g.99gb")));
    EXPECT_THAT(predictor->Predict(H100Key("sm:64", "bert_base", 4096, 8)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("maximum 512")));
    EXPECT_THAT(predictor->Predict(H100Key("sm:64", "alexnet", 224, 8)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("alexnet")));
  }
}

TEST_F(PredictorTest, FitRejectsRowsItCannotLearnFromNamingTheKey) {
  std::vector<ProfileRow> train, test;
  Split(*h100_, 0.15, 7, train, test);
  struct Case {
    std::string what;
    std::function<void(ProfileRow&)> spoil;
  };
  std::vector<Case> cases = {
      {"latency_ms", [](ProfileRow& r) { r.latency_ms = std::nan(""); }},
      {"latency_ms", [](ProfileRow& r) { r.latency_ms = 0; }},
      {"latency_ms", [](ProfileRow& r) { r.latency_ms = INFINITY; }},
      {"latency_ms_p90", [](ProfileRow& r) { r.latency_ms_p90 = -1; }},
      {"at least 1", [](ProfileRow& r) { r.key.batch = 0; }},
      {"sm:20", [](ProfileRow& r) { r.key.partition = hw::Partition::Sm(20); }},
      {"maximum", [](ProfileRow& r) { r.key = H100Key("sm:64", "bert_base", 4096, 8); }},
  };
  for (const std::string& name : PredictorNames()) {
    for (const Case& c : cases) {
      SCOPED_TRACE(name + " " + c.what);
      std::vector<ProfileRow> rows = train;
      c.spoil(rows[3]);
      ASSERT_OK_AND_ASSIGN(auto predictor, MakePredictor(name, Inputs()));
      EXPECT_THAT(predictor->Fit(rows),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           AllOf(HasSubstr(rows[3].key.ToString()), HasSubstr(c.what))));
    }
  }
}

// Rows made exactly 2 x roofline + 0.5 ms: the least-squares fit recovers efficiency 2, overhead
// 0.5. A clone fitted on its own rows uses its own line, not its family's.
TEST_F(PredictorTest, RooflineRecoversAnExactLineAndClonesUseTheirOwn) {
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* h100, catalog_->Find("H100-SXM5-80GB"));
  std::vector<ProfileRow> rows;
  auto add = [&](const std::string& model, double efficiency, double overhead) {
    ASSERT_OK_AND_ASSIGN(const models::ModelInfo* info, registry_->Find(model));
    for (int batch : {1, 4, 16, 64}) {
      for (const char* partition : {"sm:32", "sm:132"}) {
        ProfileRow row;
        row.key = H100Key(partition, model, 224, batch);
        ASSERT_OK_AND_ASSIGN(double roofline, RooflineMs(*h100, *info, row.key));
        row.latency_ms = efficiency * roofline + overhead;
        rows.push_back(row);
      }
    }
  };
  add("resnet50", 2, 0.5);
  add("vgg16~3", 5, 3);      // same family (cnn), its own line
  add("densenet121", 1, 0);  // pulls the family line away from both
  auto roofline = Fitted("roofline", rows);
  ASSERT_OK_AND_ASSIGN(nlohmann::json saved, roofline->Save());
  const nlohmann::json& line = saved["fit"]["latency"]["by_model"]["resnet50"];
  EXPECT_NEAR(line["efficiency"].get<double>(), 2, 1e-6);
  EXPECT_NEAR(line["overhead_ms"].get<double>(), 0.5, 1e-6);
  for (const auto& [model, efficiency, overhead] :
       {std::tuple{"resnet50", 2.0, 0.5}, std::tuple{"vgg16~3", 5.0, 3.0}}) {
    SCOPED_TRACE(model);
    ASSERT_OK_AND_ASSIGN(const models::ModelInfo* info, registry_->Find(model));
    ProfileKey key = H100Key("sm:64", model, 224, 8);  // not a training row
    ASSERT_OK_AND_ASSIGN(double rl, RooflineMs(*h100, *info, key));
    ASSERT_OK_AND_ASSIGN(Prediction p, roofline->Predict(key));
    EXPECT_NEAR(p.latency_ms, efficiency * rl + overhead, 1e-6 * p.latency_ms);
  }
}

TEST_F(PredictorTest, TableAnswersMeasuredRowsExactly) {
  std::vector<ProfileRow> train, test;
  Split(*h100_, 0.15, 2, train, test);
  auto table = Fitted("table", train);
  for (const ProfileRow& row : train) {
    ASSERT_OK_AND_ASSIGN(Prediction p, table->Predict(row.key));
    EXPECT_DOUBLE_EQ(p.latency_ms, row.latency_ms);
    EXPECT_EQ(p.memory_mib, row.memory_mib);
    EXPECT_EQ(table->Uncertainty(row.key), 0);
  }
  // Off the measured range along batch: the nearest row scaled, still positive and finite.
  ASSERT_OK_AND_ASSIGN(Prediction far, table->Predict(H100Key("sm:16", "vgg16", 224, 256)));
  EXPECT_GT(far.latency_ms, 0);
}

TEST_F(PredictorTest, RooflinePredictsHeldOutRowsAndMemory) {
  std::vector<ProfileRow> train, test;
  Split(*h100_, 0.15, 3, train, test);
  auto roofline = Fitted("roofline", train);
  EXPECT_LT(Mape(*roofline, test), 25);
  double memory_error = 0;
  for (const ProfileRow& row : test) {
    ASSERT_OK_AND_ASSIGN(Prediction p, roofline->Predict(row.key));
    ASSERT_TRUE(p.memory_mib.has_value());
    ASSERT_TRUE(p.latency_ms_p90.has_value());  // the H100 grid has p90
    memory_error += std::abs(*p.memory_mib - *row.memory_mib) / *row.memory_mib / test.size();
  }
  EXPECT_LT(memory_error, 0.10);
}

TEST_F(PredictorTest, LearnedMeetsTheGateOnBothGridsAndBeatsTheOthers) {
  for (const perf::ProfileTable* grid : {h100_, a100_}) {
    std::vector<ProfileRow> train, test;
    Split(*grid, 0.15, 1, train, test);
    SCOPED_TRACE(train[0].key.gpu);
    auto learned = Fitted("learned", train);
    double mape = Mape(*learned, test);
    EXPECT_LT(mape, 8.0);
    EXPECT_LT(mape, Mape(*Fitted("roofline", train), test));
    EXPECT_LT(mape, Mape(*Fitted("table", train), test, /*skip_failures=*/true));
    for (const ProfileRow& row : test) {
      double u = learned->Uncertainty(row.key);
      ASSERT_TRUE(std::isfinite(u));
      ASSERT_GE(u, 0);
    }
  }
}

// The trees are constrained on the batch axis but free on derived features that move with it
// (design.md, "Predictors"); on the bundled grid the prediction still does not dip along batch.
TEST_F(PredictorTest, LearnedGrowsWithBatchAcrossTheH100Grid) {
  std::vector<ProfileRow> train, test;
  Split(*h100_, 0.15, 1, train, test);
  auto learned = Fitted("learned", train);
  const ProfileRow* previous = nullptr;
  for (const auto& [key, row] : h100_->rows()) {
    if (previous != nullptr && previous->key.partition == key.partition &&
        previous->key.model == key.model && previous->key.input == key.input &&
        previous->key.procs == key.procs) {
      ASSERT_OK_AND_ASSIGN(Prediction smaller, learned->Predict(previous->key));
      ASSERT_OK_AND_ASSIGN(Prediction larger, learned->Predict(key));
      EXPECT_GE(larger.latency_ms, 0.99 * smaller.latency_ms) << key.ToString();
    }
    previous = &row;
  }
}

TEST_F(PredictorTest, LearnedIsDeterministicAndPredictsUnseenModels) {
  std::vector<ProfileRow> train, test, without_vgg;
  Split(*h100_, 0.15, 4, train, test);
  auto a = Fitted("learned", train);
  auto b = Fitted("learned", train);
  for (size_t i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(Prediction pa, a->Predict(test[i].key));
    ASSERT_OK_AND_ASSIGN(Prediction pb, b->Predict(test[i].key));
    EXPECT_EQ(pa.latency_ms, pb.latency_ms);
    EXPECT_EQ(a->Uncertainty(test[i].key), b->Uncertainty(test[i].key));
  }
  for (const ProfileRow& row : train) {
    if (row.key.model != "vgg16") without_vgg.push_back(row);
  }
  auto blind = Fitted("learned", without_vgg);
  ASSERT_OK_AND_ASSIGN(Prediction vgg, blind->Predict(H100Key("sm:64", "vgg16", 224, 32)));
  EXPECT_GT(vgg.latency_ms, 0);
  EXPECT_GT(blind->Uncertainty(H100Key("sm:64", "vgg16", 224, 32)), 0);
}

TEST_F(PredictorTest, SavedPredictorsLoadAndPredictTheSame) {
  std::vector<ProfileRow> train, test;
  Split(*h100_, 0.15, 5, train, test);
  for (const std::string& name : PredictorNames()) {
    SCOPED_TRACE(name);
    auto fitted = Fitted(name, train);
    ASSERT_OK_AND_ASSIGN(nlohmann::json saved, fitted->Save());
    EXPECT_EQ(saved["format"], "tessera-predictor");
    EXPECT_EQ(saved["predictor"], name);
    EXPECT_EQ(saved["gpu"], "H100-SXM5-80GB");
    // Through text, as `tessera profiles fit` writes it.
    ASSERT_OK_AND_ASSIGN(auto loaded, LoadPredictor(nlohmann::json::parse(saved.dump()), Inputs()));
    EXPECT_EQ(loaded->name(), name);
    for (size_t i = 0; i < 30; ++i) {
      ASSERT_OK_AND_ASSIGN(Prediction want, fitted->Predict(test[i].key));
      ASSERT_OK_AND_ASSIGN(Prediction got, loaded->Predict(test[i].key));
      EXPECT_DOUBLE_EQ(got.latency_ms, want.latency_ms) << test[i].key.ToString();
      EXPECT_EQ(got.memory_mib.has_value(), want.memory_mib.has_value());
      if (got.memory_mib) EXPECT_DOUBLE_EQ(*got.memory_mib, *want.memory_mib);
      EXPECT_DOUBLE_EQ(loaded->Uncertainty(test[i].key), fitted->Uncertainty(test[i].key));
    }
  }
}

TEST_F(PredictorTest, LoadRejectsBadDocumentsNamingTheField) {
  std::vector<ProfileRow> train, test;
  Split(*h100_, 0.15, 6, train, test);
  auto bad = [&](const nlohmann::json& doc, std::string_view field) {
    EXPECT_THAT(LoadPredictor(doc, Inputs()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(field)))
        << doc.dump().substr(0, 200);
  };
  bad(nlohmann::json::array(), "(top level)");
  bad({{"format", "other"}}, "field format");
  ASSERT_OK_AND_ASSIGN(nlohmann::json table, Fitted("table", train)->Save());
  ASSERT_OK_AND_ASSIGN(nlohmann::json roofline, Fitted("roofline", train)->Save());
  ASSERT_OK_AND_ASSIGN(nlohmann::json learned, Fitted("learned", train)->Save());
  nlohmann::json doc = table;
  doc["version"] = 2;
  bad(doc, "field version");
  doc = table;
  doc["predictor"] = "oracle";
  bad(doc, "field predictor");
  doc = table;
  doc["rows"][0]["latency_ms"] = "fast";
  bad(doc, "field rows[0].latency_ms");
  doc = table;
  doc["rows"][0]["batch"] = 1e300;
  bad(doc, "field rows[0].batch");
  doc = table;
  doc["rows"][1]["partition"] = "sm:x";
  bad(doc, "field rows[1].partition");
  doc = roofline;
  doc["fit"]["latency"].erase("global");
  bad(doc, "field fit.latency.global");
  doc = roofline;
  doc["fit"]["tail_ratios"]["p90"] = "x";
  bad(doc, "field fit.tail_ratios.p90");
  doc = learned;
  doc.erase("boosters");
  bad(doc, "field boosters");
  doc = learned;
  doc["boosters"][0] = {{"learner", 3}};
  bad(doc, "field boosters[0]");
  doc = learned;
  doc["boosters"][1]["learner"]["learner_model_param"]["num_feature"] = "5";
  bad(doc, "field boosters[1]");
  doc = table;
  doc["rows"][0]["latency_ms"] = -2;
  bad(doc, "field rows[0].latency_ms");
  doc = table;
  doc["rows"][0]["model"] = "alexnet";
  bad(doc, "field rows[0].model");
  doc = learned;
  doc["feature_names"][0] = "batch";
  bad(doc, "field feature_names");
  doc = learned;
  doc["baseline"]["global"]["launch_ms"] = -1;
  bad(doc, "field baseline.global.launch_ms");
  doc = learned;
  doc["gpu"] = "Z900";
  EXPECT_THAT(LoadPredictor(doc, Inputs()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("Z900")));
}

}  // namespace
}  // namespace tessera::predict
