// The workload loader: the format, canonical names, trace summaries, and one test per malformed
// input checking the located message.
#include "tessera/workload/workload.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "workload_test_util.h"

namespace tessera::workload {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestDir;
using testing::TestRegistry;
using testing::WriteFile;

constexpr char kFunctionA[] = "47658c9cff05caaffd85722b6f81dd163f680f03d4026474a098f966e2f528b3";

// The data folder's examples/ (it need not exist: paths are resolved lexically first).
std::string ExamplesDir() { return testing::DatasetPath("../examples"); }

absl::StatusOr<Workload> Parse(const std::string& text, const std::string& base_dir = "") {
  models::ModelRegistry registry = TestRegistry();
  return ParseWorkload(text, "w.yaml", base_dir.empty() ? ExamplesDir() : base_dir, registry);
}

constexpr char kMix[] = R"(name: h100-mix
models:
  - model: resnet-50             # an alias: stored as resnet50
    slo_ms: 15
    input: {empirical: {sizes: [448, 224], weights: [1, 3]}}
    demand: {gamma: {rate_rps: 3000, cv: 2.0}}
  - model: gpt2
    slo_ms: 40
    input: {uniform: {min: 32, max: 512}}
    demand: {trace: {name: functions, function: 47658c9cff05, scale: 10}}
  - model: bert
    slo_ms: 25
    demand: {trace: {name: llm, inputs_from_trace: true}}
traces:
  - {name: functions, format: azure-functions,
     path: ../datasets/azure-functions-2019-slice/real10/invocations.csv,
     minutes: [600, 660], within_minute_cv: 1}
  - {name: llm, format: azure-llm,
     path: ../datasets/azure-llm-2023-code/AzureLLMInferenceTrace_code.csv, tokens_per_input: 8}
)";

TEST(ParseWorkloadTest, ReadsTheExampleMix) {
  ASSERT_OK_AND_ASSIGN(Workload w, Parse(kMix));
  EXPECT_EQ(w.name, "h100-mix");
  ASSERT_EQ(w.models.size(), 3u);
  const WorkloadModel& resnet = w.models[0];
  EXPECT_EQ(resnet.model, "resnet50");
  EXPECT_EQ(resnet.slo_ms, 15);
  EXPECT_EQ(resnet.input, (InputDistribution{.kind = InputDistribution::Kind::kEmpirical,
                                             .sizes = {224, 448},
                                             .weights = {0.75, 0.25}}));
  EXPECT_EQ(resnet.demand.kind, Demand::Kind::kGamma);
  EXPECT_EQ(resnet.demand.rate_rps, 3000);
  EXPECT_EQ(resnet.demand.cv, 2.0);

  const WorkloadModel& gpt2 = w.models[1];
  EXPECT_EQ(gpt2.input,
            (InputDistribution{.kind = InputDistribution::Kind::kUniform, .min = 32, .max = 512}));
  EXPECT_EQ(gpt2.demand.trace_key, kFunctionA);  // the prefix, resolved
  EXPECT_EQ(gpt2.demand.scale, 10);
  // Function 47658c9c runs at about 197 invocations a minute: x10 is about 33 requests/s.
  EXPECT_NEAR(gpt2.demand.rate_rps, 33, 3);

  const WorkloadModel& bert = w.models[2];
  EXPECT_EQ(bert.model, "bert_base");
  EXPECT_TRUE(bert.demand.inputs_from_trace);
  EXPECT_EQ(bert.input.kind, InputDistribution::Kind::kEmpirical);
  EXPECT_EQ(bert.input.MaxSize(), 512);     // long contexts clamped to BERT's maximum
  EXPECT_NEAR(bert.input.Mean(), 190, 40);  // median context 1,469 tokens / 8
  EXPECT_NEAR(bert.demand.rate_rps, 8819.0 / (57 * 60), 0.1);

  ASSERT_EQ(w.traces.size(), 2u);
  EXPECT_EQ(w.traces[0].format, TraceSpec::Format::kAzureFunctions);
  EXPECT_EQ(w.traces[0].first_minute, 600);
  EXPECT_EQ(w.traces[0].last_minute, 660);
  EXPECT_EQ(w.traces[0].path, testing::DatasetPath(testing::kReal10));
  EXPECT_EQ(w.traces[1].tokens_per_input, 8);
  EXPECT_EQ(w.ModelIndex("bert_base"), 2);
  EXPECT_EQ(w.ModelIndex("bert"), -1);
  EXPECT_EQ(w.FindTrace("llm"), &w.traces[1]);
  EXPECT_THAT(w.DebugString(), HasSubstr("resnet50 slo 15 ms, input empirical 2 sizes 224..448"));
}

TEST(ParseWorkloadTest, DefaultsAPoissonModelsInputToTheReferenceSize) {
  ASSERT_OK_AND_ASSIGN(Workload w, Parse("name: w\n"
                                         "models:\n"
                                         "  - {model: bert-base, slo_ms: 10,\n"
                                         "     demand: {poisson: {rate_rps: 5.5}}}\n"));
  EXPECT_EQ(w.models[0].input, InputDistribution{.fixed = 128});
  EXPECT_EQ(w.models[0].demand, (Demand{.kind = Demand::Kind::kPoisson, .rate_rps = 5.5}));
  EXPECT_TRUE(w.traces.empty());
}

TEST(ParseWorkloadTest, CsvTraceKeysAndRatesComeFromTheRows) {
  const std::string dir = TestDir();
  WriteFile(dir, "t.csv", "timestamp_s,model,input_size\n1,bert,10\n2,bert,30\n4,gpt2,5\n");
  ASSERT_OK_AND_ASSIGN(Workload w,
                       Parse("name: w\n"
                             "models:\n"
                             "  - {model: bert_base, slo_ms: 10,\n"
                             "     demand: {trace: {name: t, inputs_from_trace: true, scale: 2}}}\n"
                             "  - {model: resnet50, slo_ms: 10, demand: {trace: {name: t, model: "
                             "gpt2, scale: 2}}}\n"
                             "traces: [{name: t, format: csv, path: t.csv}]\n",
                             dir));
  EXPECT_EQ(w.models[0].demand.trace_key, "bert_base");
  EXPECT_EQ(w.models[0].input, (InputDistribution{.kind = InputDistribution::Kind::kEmpirical,
                                                  .sizes = {10, 30},
                                                  .weights = {0.5, 0.5}}));
  EXPECT_EQ(w.models[0].demand.rate_rps, 1.0);  // 2 rows in 4 s, x2
  EXPECT_EQ(w.models[1].demand.trace_key, "gpt2");
  EXPECT_EQ(w.models[1].demand.rate_rps, 0.5);
}

TEST(LoadWorkloadFileTest, ResolvesPathsAgainstTheFilesFolder) {
  const std::string dir = TestDir();
  WriteFile(dir, "t.csv", "timestamp_s,model\n0,resnet50\n");
  const std::string path = WriteFile(dir, "w.yaml",
                                     "name: w\n"
                                     "models: [{model: resnet50, slo_ms: 5, demand: {trace: "
                                     "{name: t}}}]\n"
                                     "traces: [{name: t, format: csv, path: t.csv}]\n");
  models::ModelRegistry registry = TestRegistry();
  ASSERT_OK_AND_ASSIGN(Workload w, LoadWorkloadFile(path, registry));
  EXPECT_EQ(w.traces[0].path, dir + "/t.csv");
  EXPECT_THAT(LoadWorkloadFile(dir + "/none.yaml", registry),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.yaml: cannot open file")));
}

// ---- one test per malformed input; each checks file:line:column, the field and the advice.

void ExpectError(const std::string& text, const std::string& message,
                 const std::string& base_dir = "") {
  EXPECT_THAT(Parse(text, base_dir),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
      << text;
}

constexpr char kHead[] = "name: w\nmodels:\n";

TEST(ParseWorkloadErrorsTest, UnknownModel) {
  ExpectError(std::string(kHead) + "  - model: alexnet\n    slo_ms: 10\n",
              "w.yaml:3:12: field models[0].model: unknown model 'alexnet'; known models: "
              "resnet50, bert_base, gpt2");
}

TEST(ParseWorkloadErrorsTest, MissingSlo) {
  ExpectError(std::string(kHead) + "  - model: resnet50\n    demand: {poisson: {rate_rps: 5}}\n",
              "w.yaml:3:5: field models[0].slo_ms: missing required field; add it");
}

TEST(ParseWorkloadErrorsTest, NegativeRate) {
  ExpectError(std::string(kHead) +
                  "  - model: resnet50\n    slo_ms: 10\n    demand: {poisson: {rate_rps: -5}}\n",
              "w.yaml:5:34: field models[0].demand.poisson.rate_rps: must be positive, found -5");
}

TEST(ParseWorkloadErrorsTest, NonPositiveCv) {
  ExpectError(std::string(kHead) +
                  "  - {model: resnet50, slo_ms: 10,\n"
                  "     demand: {gamma: {rate_rps: 5, cv: 0}}}\n",
              "w.yaml:4:40: field models[0].demand.gamma.cv: must be positive, found 0");
}

TEST(ParseWorkloadErrorsTest, TwoDemands) {
  ExpectError(std::string(kHead) +
                  "  - {model: resnet50, slo_ms: 10,\n"
                  "     demand: {poisson: {rate_rps: 5}, gamma: {rate_rps: 5, cv: 2}}}\n",
              "w.yaml:4:14: field models[0].demand: give exactly one of poisson, gamma, trace, "
              "found poisson, gamma");
}

TEST(ParseWorkloadErrorsTest, UnknownTrace) {
  ExpectError(
      std::string(kHead) + "  - {model: resnet50, slo_ms: 10, demand: {trace: {name: nope}}}\n",
      "w.yaml:3:58: field models[0].demand.trace.name: trace 'nope' is not defined; "
      "define it under traces: (defined: none)");
}

TEST(ParseWorkloadErrorsTest, UnusedTrace) {
  ExpectError(std::string(kHead) +
                  "  - {model: resnet50, slo_ms: 10, demand: {poisson: {rate_rps: 5}}}\n"
                  "traces:\n"
                  "  - {name: llm, format: azure-llm,\n"
                  "     path: ../datasets/azure-llm-2023-code/AzureLLMInferenceTrace_code.csv}\n",
              "w.yaml:5:12: field traces[0].name: trace 'llm' is not used by any model; remove it");
}

constexpr char kFunctionsModel[] =
    "  - {model: resnet50, slo_ms: 10, demand: {trace: {name: f, function: 47658c9c}}}\n"
    "traces:\n";

TEST(ParseWorkloadErrorsTest, MinutesAfterEachOther) {
  ExpectError(std::string(kHead) + kFunctionsModel +
                  "  - {name: f, format: azure-functions, minutes: [700, 600],\n"
                  "     path: ../datasets/azure-functions-2019-slice/real10/invocations.csv}\n",
              "w.yaml:5:49: field traces[0].minutes: first minute 700 is after last minute 600; "
              "write [first, last]");
}

TEST(ParseWorkloadErrorsTest, MinuteOutsideTheDay) {
  ExpectError(std::string(kHead) + kFunctionsModel +
                  "  - {name: f, format: azure-functions, minutes: [1, 1441],\n"
                  "     path: ../datasets/azure-functions-2019-slice/real10/invocations.csv}\n",
              "w.yaml:5:53: field traces[0].minutes[1]: minute 1441 is outside the day; use a "
              "minute in 1..1440");
}

TEST(ParseWorkloadErrorsTest, MissingTraceFile) {
  ExpectError(std::string(kHead) + kFunctionsModel +
                  "  - {name: f, format: azure-functions, path: no/such.csv}\n",
              "w.yaml:5:46: field traces[0].path: trace file 'no/such.csv' not found");
}

TEST(ParseWorkloadErrorsTest, UnknownFunction) {
  ExpectError(std::string(kHead) +
                  "  - {model: resnet50, slo_ms: 10, demand: {trace: {name: f, function: "
                  "ffffffffff}}}\n"
                  "traces:\n"
                  "  - {name: f, format: azure-functions,\n"
                  "     path: ../datasets/azure-functions-2019-slice/real10/invocations.csv}\n",
              "w.yaml:3:71: field models[0].demand.trace.function: no function in");
}

TEST(ParseWorkloadErrorsTest, FunctionKeyTooShort) {
  ExpectError(std::string(kHead) +
                  "  - {model: resnet50, slo_ms: 10, demand: {trace: {name: f, function: 4765}}}\n"
                  "traces:\n"
                  "  - {name: f, format: azure-functions,\n"
                  "     path: ../datasets/azure-functions-2019-slice/real10/invocations.csv}\n",
              "w.yaml:3:71: field models[0].demand.trace.function: '4765' is too short; give the "
              "HashFunction or at least its first 8 characters");
}

TEST(ParseWorkloadErrorsTest, KeyOfAnotherFormat) {
  ExpectError(std::string(kHead) +
                  "  - {model: resnet50, slo_ms: 10, demand: {trace: {name: l}}}\n"
                  "traces:\n"
                  "  - {name: l, format: azure-llm, minutes: [1, 2],\n"
                  "     path: ../datasets/azure-llm-2023-code/AzureLLMInferenceTrace_code.csv}\n",
              "w.yaml:5:43: field traces[0].minutes: applies to azure-functions traces only; "
              "remove it");
}

TEST(ParseWorkloadErrorsTest, MalformedTraceRow) {
  const std::string dir = TestDir();
  const std::string trace = WriteFile(dir, "t.csv", "timestamp_s,model\n1,bert\nsoon,bert\n");
  ExpectError(std::string(kHead) +
                  "  - {model: bert, slo_ms: 10, demand: {trace: {name: t}}}\n"
                  "traces:\n"
                  "  - {name: t, format: csv, path: t.csv}\n",
              trace +
                  ":3: column timestamp_s: expected a number, found 'soon' (trace 't', "
                  "declared at w.yaml:5:5)",
              dir);
}

TEST(ParseWorkloadErrorsTest, ModelListedTwice) {
  ExpectError(std::string(kHead) +
                  "  - {model: bert, slo_ms: 10, demand: {poisson: {rate_rps: 5}}}\n"
                  "  - {model: bert_base, slo_ms: 20, demand: {poisson: {rate_rps: 5}}}\n",
              "w.yaml:4:13: field models[1].model: model bert_base is already listed at "
              "models[0] (w.yaml:3:5); list each model once");
}

TEST(ParseWorkloadErrorsTest, InputSizeAboveTheModelsMaximum) {
  ExpectError(std::string(kHead) +
                  "  - model: bert\n    slo_ms: 10\n"
                  "    input: {empirical: {sizes: [128, 1024], weights: [1, 1]}}\n"
                  "    demand: {poisson: {rate_rps: 5}}\n",
              "w.yaml:5:38: field models[0].input.empirical.sizes[1]: input size 1024 is outside "
              "1..512 (bert_base's maximum input, in tokens)");
}

TEST(ParseWorkloadErrorsTest, NonPositiveWeight) {
  ExpectError(std::string(kHead) +
                  "  - model: bert\n    slo_ms: 10\n"
                  "    input: {empirical: {sizes: [128, 256], weights: [1, 0]}}\n"
                  "    demand: {poisson: {rate_rps: 5}}\n",
              "w.yaml:5:57: field models[0].input.empirical.weights[1]: must be positive, found 0");
}

TEST(ParseWorkloadErrorsTest, InputGivenWithInputsFromTrace) {
  ExpectError(std::string(kHead) +
                  "  - model: bert\n    slo_ms: 10\n    input: {fixed: 128}\n"
                  "    demand: {trace: {name: l, inputs_from_trace: true}}\n"
                  "traces:\n"
                  "  - {name: l, format: azure-llm,\n"
                  "     path: ../datasets/azure-llm-2023-code/AzureLLMInferenceTrace_code.csv}\n",
              "w.yaml:5:12: field models[0].input: remove it: the input sizes of bert_base come "
              "from trace 'l'");
}

TEST(ParseWorkloadErrorsTest, DifferentScalesOnOneLlmTrace) {
  ExpectError(std::string(kHead) +
                  "  - {model: bert, slo_ms: 10, demand: {trace: {name: l, scale: 2}}}\n"
                  "  - {model: gpt2, slo_ms: 10, demand: {trace: {name: l}}}\n"
                  "traces:\n"
                  "  - {name: l, format: azure-llm,\n"
                  "     path: ../datasets/azure-llm-2023-code/AzureLLMInferenceTrace_code.csv}\n",
              "w.yaml:4:47: field models[1].demand.trace: scale 1 differs from 2 given by "
              "bert_base for the same trace 'l'");
}

TEST(ParseWorkloadErrorsTest, EmptyFileAndUnknownKey) {
  ExpectError("", "w.yaml: document: the file is empty");
  ExpectError("name: w\nmodel: []\n",
              "w.yaml:2:1: field model: unknown key 'model'; expected one of: name, models, "
              "traces, tenants");
}

}  // namespace
}  // namespace tessera::workload
