// `tessera profiles plan|fit|predict`, run in-process on the bundled H100 table.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Data;
using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::tessera::cli::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TempFile(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const std::string kH100 = "profiles/h100-sm-partitions.csv";

Result Plan(const std::string& budget, const std::string& out,
            const std::string& predictor = "roofline") {
  return Tessera({"profiles", "plan", "--profiles", Data(kH100), "--gpu", "h100", "--budget",
                  budget, "--predictor", predictor, "-o", out});
}

TEST(PredictCommandTest, PlanWritesTheChosenConfigurations) {
  std::string configs = TempFile("predict_command_test_configs.csv");
  Result r = Plan("15%", configs);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("chose 53 of 352 configurations of H100-SXM5-80GB (15.1%)"));
  EXPECT_THAT(r.out, HasSubstr("space-filling"));
  EXPECT_THAT(r.out, HasSubstr("estimated GPU time:"));
  EXPECT_THAT(r.out, HasSubstr("the grid is the 352 measured rows of H100-SXM5-80GB"));
  std::vector<std::string> lines = Lines(ReadAll(configs));
  ASSERT_EQ(lines.size(), 54u);
  EXPECT_EQ(lines[0], "gpu,partition,model,input,batch,procs,phase,round,reason");
  EXPECT_THAT(lines[1], StartsWith("H100-SXM5-80GB,sm:"));
  EXPECT_THAT(lines[1], HasSubstr(",space-filling,0,the most central "));
  // The same seed gives the same plan.
  std::string again = TempFile("predict_command_test_configs2.csv");
  ASSERT_EQ(Plan("15%", again).code, 0);
  EXPECT_EQ(ReadAll(again), ReadAll(configs));
}

TEST(PredictCommandTest, PlanWithAGpuSecondsBudget) {
  Result r = Plan("300s", TempFile("predict_command_test_seconds.csv"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("stopped: budget 300 GPU-s reached"));
}

TEST(PredictCommandTest, PlanErrors) {
  std::string out = TempFile("predict_command_test_bad.csv");
  Result r = Plan("15x", out);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("budget '15x': expected a share of the grid (15%"));
  r = Plan("15%", out, "oracle");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--predictor oracle: unknown; expected one of table, roofline"));
  r = Tessera({"profiles", "plan", "--profiles", Data(kH100), "--gpu", "A100-SXM4-80GB", "--budget",
               "10%", "-o", out});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no measured rows of A100-SXM4-80GB (the file has rows of: "
                               "H100-SXM5-80GB)"));
  r = Tessera({"profiles", "plan", "--profiles", "/nonexistent.csv", "--gpu", "h100", "--budget",
               "10%", "-o", out});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent.csv"));
}

TEST(PredictCommandTest, FitOnThePlannedConfigurationsThenPredictTheGrid) {
  std::string configs = TempFile("predict_command_test_fit_configs.csv");
  ASSERT_EQ(Plan("25%", configs).code, 0);
  std::string model = TempFile("predict_command_test_model.json");
  Result r = Tessera({"profiles", "fit", "--profiles", Data(kH100), "--gpu", "h100", "--predictor",
                      "roofline", "--only", configs, "-o", model});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("fitted roofline on 88 measured rows of H100-SXM5-80GB"));
  EXPECT_THAT(r.out, HasSubstr("in-sample error: MAPE "));
  EXPECT_THAT(r.out, HasSubstr("error on the 264 rows not in"));
  nlohmann::json saved = nlohmann::json::parse(ReadAll(model));
  EXPECT_EQ(saved["format"], "tessera-predictor");
  EXPECT_EQ(saved["gpu"], "H100-SXM5-80GB");
  EXPECT_EQ(saved["training"].size(), 88u);

  // With the grid of the table: its measured rows are kept, nothing is left to predict.
  std::string table = TempFile("predict_command_test_full.csv");
  r = Tessera({"profiles", "predict", "--model", model, "--gpu", "h100", "--profiles", Data(kH100),
               "-o", table});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("wrote 352 rows of H100-SXM5-80GB"));
  EXPECT_EQ(ReadAll(table), ReadAll(Data(kH100)));

  // Without it: the product of the training rows' axes, the 88 training rows kept.
  std::string predicted = TempFile("predict_command_test_predicted.csv");
  r = Tessera({"profiles", "predict", "--model", model, "--gpu", "h100", "-o", predicted});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("88 measured (kept)"));
  EXPECT_THAT(r.out, HasSubstr("predicted by roofline"));
  std::string text = ReadAll(predicted);
  EXPECT_THAT(text, HasSubstr(",predicted\n"));
  EXPECT_THAT(text, HasSubstr(",measured\n"));
  Result show = Tessera({"profiles", "show", "--profiles", predicted});
  EXPECT_EQ(show.code, 0) << show.err;  // a valid profile table
}

TEST(PredictCommandTest, FitAndPredictErrors) {
  std::string model = TempFile("predict_command_test_a100.json");
  Result r = Tessera({"profiles", "fit", "--profiles", Data("profiles/a100-migprofiler.csv"),
                      "--gpu", "A100-SXM4-80GB", "--predictor", "roofline", "-o", model});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("fitted roofline on 124 measured rows of A100-SXM4-80GB"));
  r = Tessera({"profiles", "predict", "--model", model, "--gpu", "h100", "-o",
               TempFile("predict_command_test_x.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("was fitted for A100-SXM4-80GB, not H100-SXM5-80GB"));
  std::string junk = WriteFile("predict_command_test_junk.json", "{not json");
  r = Tessera({"profiles", "predict", "--model", junk, "--gpu", "h100", "-o",
               TempFile("predict_command_test_x.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("not JSON"));
  std::string configs =
      WriteFile("predict_command_test_foreign.csv",
                "gpu,partition,model,input,batch,procs\nH100-SXM5-80GB,sm:16,resnet50,224,3,1\n");
  r = Tessera({"profiles", "fit", "--profiles", Data(kH100), "--gpu", "h100", "--only", configs,
               "-o", model});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("batch 3 procs 1 is not a measured row of"));
  r = Tessera({"profiles", "fit", "--profiles", Data(kH100), "--gpu", "h100", "--predictor",
               "magic", "-o", model});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--predictor magic: unknown"));
}

// A damaged "training" list is a field error naming the file and the entry, never an internal
// error; null tails are unknown, as the table predictor writes them.
TEST(PredictCommandTest, PredictRejectsDamagedTrainingRowsNamingTheField) {
  std::string model = TempFile("predict_command_test_training.json");
  Result r = Tessera({"profiles", "fit", "--profiles", Data(kH100), "--gpu", "h100", "--predictor",
                      "roofline", "-o", model});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json saved = nlohmann::json::parse(ReadAll(model));
  std::string out = TempFile("predict_command_test_training.csv");
  auto predict = [&](const nlohmann::json& doc) {
    std::string path = WriteFile("predict_command_test_damaged.json", doc.dump());
    return Tessera({"profiles", "predict", "--model", path, "--gpu", "h100", "-o", out});
  };
  struct Case {
    const char* field;
    nlohmann::json value;  // null: erase the field
    const char* want;
  };
  for (const Case& c :
       {Case{"latency_ms", "fast", "training[2].latency_ms: expected a number"},
        Case{"latency_ms", -1.5, "training[2].latency_ms: must be positive"},
        Case{"latency_ms_p90", "x", "training[2].latency_ms_p90: expected a number"},
        Case{"input", nullptr, "training[2].input: missing"},
        Case{"batch", 1e300, "training[2].batch: expected an integer"},
        Case{"model", 7, "training[2].model: expected a string"},
        Case{"model", "alexnet", "training[2].model"}}) {
    SCOPED_TRACE(c.field);
    nlohmann::json doc = saved;
    if (c.value.is_null()) {
      doc["training"][2].erase(c.field);
    } else {
      doc["training"][2][c.field] = c.value;
    }
    Result bad = predict(doc);
    EXPECT_EQ(bad.code, 1);
    EXPECT_THAT(bad.err, HasSubstr("predict_command_test_damaged.json"));
    EXPECT_THAT(bad.err, HasSubstr(c.want));
    EXPECT_THAT(bad.err, ::testing::Not(HasSubstr("internal")));
  }
  nlohmann::json doc = saved;
  doc["training"][2]["latency_ms_p90"] = nullptr;
  doc["training"][3]["model"] = "ResNet-50";  // an alias: canonicalised
  Result ok = predict(doc);
  EXPECT_EQ(ok.code, 0) << ok.err;
  doc = saved;
  doc["training"] = "rows";
  Result not_list = predict(doc);
  EXPECT_EQ(not_list.code, 1);
  EXPECT_THAT(not_list.err, HasSubstr("training: expected an array"));
}

// The learned predictor through the file: fit writes its boosters, predict loads them.
TEST(PredictCommandTest, LearnedAndTableRoundTripThroughTheModelFile) {
  std::string configs = TempFile("predict_command_test_rt_configs.csv");
  ASSERT_EQ(Plan("25%", configs).code, 0);
  for (const std::string predictor : {"learned", "table"}) {
    SCOPED_TRACE(predictor);
    std::string model = TempFile("predict_command_test_rt_" + predictor + ".json");
    Result r = Tessera({"profiles", "fit", "--profiles", Data(kH100), "--gpu", "h100",
                        "--predictor", predictor, "--only", configs, "-o", model});
    ASSERT_EQ(r.code, 0) << r.err;
    std::string predicted = TempFile("predict_command_test_rt_" + predictor + ".csv");
    r = Tessera({"profiles", "predict", "--model", model, "--gpu", "h100", "-o", predicted});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("88 measured (kept)"));
    EXPECT_THAT(r.out, HasSubstr("predicted by " + predictor));
    EXPECT_THAT(ReadAll(predicted), HasSubstr(",predicted\n"));
    Result show = Tessera({"profiles", "show", "--profiles", predicted});
    EXPECT_EQ(show.code, 0) << show.err;
    // --profiles only says which configurations to cover: a file without measured rows will do.
    std::string keys_only;
    for (const std::string& line : Lines(ReadAll(predicted))) {
      if (keys_only.empty() || line.ends_with(",predicted")) keys_only += line + "\n";
    }
    std::string keys = WriteFile("predict_command_test_rt_keys_" + predictor + ".csv", keys_only);
    r = Tessera({"profiles", "predict", "--model", model, "--gpu", "h100", "--profiles", keys, "-o",
                 TempFile("predict_command_test_rt_again.csv")});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("0 measured (kept)"));
  }
}

TEST(PredictCommandTest, OnlyRejectsCountsOutOfRange) {
  std::string configs = WriteFile(
      "predict_command_test_range.csv",
      "gpu,partition,model,input,batch,procs\nH100-SXM5-80GB,sm:16,resnet50,224,4294967297,1\n");
  Result r = Tessera({"profiles", "fit", "--profiles", Data(kH100), "--gpu", "h100", "--only",
                      configs, "-o", TempFile("predict_command_test_range.json")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("batch"));
  EXPECT_THAT(r.err, HasSubstr("outside 1..1000000"));
}

}  // namespace
}  // namespace tessera::cli
