// Trace-driven sources: Azure Functions (both layouts, scale, within-minute processes), Azure LLM,
// tessera CSV, streaming and memory.
#include <malloc.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/workload/arrivals.h"
#include "workload_test_util.h"

namespace tessera::workload {
namespace {

using ::tessera::testing::StatusIs;
using testing::DatasetPath;
using testing::Drain;
using ::testing::HasSubstr;
using testing::TestDir;
using testing::TestRegistry;
using testing::WriteFile;

constexpr char kFunctionA[] = "47658c9cff05caaffd85722b6f81dd163f680f03d4026474a098f966e2f528b3";
constexpr char kFunctionB[] = "2b373145";  // a prefix of an event-triggered function

WorkloadModel TraceModel(std::string name, std::string trace, std::string key, double scale = 1,
                         bool inputs_from_trace = false) {
  WorkloadModel m;
  m.model = std::move(name);
  m.slo_ms = 10;
  m.input.fixed = 100;
  m.demand = {.kind = Demand::Kind::kTrace,
              .trace = std::move(trace),
              .trace_key = std::move(key),
              .scale = scale,
              .inputs_from_trace = inputs_from_trace};
  return m;
}

TraceSpec Trace(TraceSpec::Format format, std::string path) {
  return {.name = "t", .format = format, .path = std::move(path)};
}

std::vector<Arrival> Replay(const Workload& w, double duration_s, uint64_t seed = 1,
                            absl::Status* status = nullptr) {
  models::ModelRegistry registry = TestRegistry();
  auto sources = MakeArrivalSources(w, registry, {.duration_s = duration_s, .seed = seed});
  EXPECT_TRUE(sources.ok()) << sources.status();
  if (!sources.ok()) return {};
  EXPECT_EQ(sources->size(), 1u);
  std::vector<Arrival> arrivals = Drain(*sources->front());
  if (status != nullptr)
    *status = sources->front()->status();
  else
    EXPECT_OK(sources->front()->status());
  return arrivals;
}

// The per-minute counts of the function whose HashFunction starts with `key`, read independently of
// the code under test (`first_minute_column`: 4 for real10, 3 for sampled100).
std::vector<int64_t> FileCounts(const std::string& path, const std::string& key,
                                size_t function_column, size_t first_minute_column, int first,
                                int last) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string f; std::getline(split, f, ',');) fields.push_back(f);
    if (fields[function_column].rfind(key, 0) != 0) continue;
    std::vector<int64_t> counts;
    for (int m = first; m <= last; ++m) {
      counts.push_back(std::stoll(fields[first_minute_column + static_cast<size_t>(m - 1)]));
    }
    return counts;
  }
  ADD_FAILURE() << "no function " << key << " in " << path;
  return {};
}

// Arrivals of `model` per minute since time 0.
std::vector<int64_t> PerMinute(const std::vector<Arrival>& arrivals, int model, size_t minutes) {
  std::vector<int64_t> counts(minutes, 0);
  for (const Arrival& a : arrivals) {
    if (a.model == model) ++counts.at(static_cast<size_t>(a.time_ns / 60'000'000'000));
  }
  return counts;
}

bool InTimeOrder(const std::vector<Arrival>& arrivals) {
  for (size_t i = 1; i < arrivals.size(); ++i) {
    if (arrivals[i].time_ns < arrivals[i - 1].time_ns) return false;
  }
  return true;
}

TEST(FunctionsSourceTest, Real10MinuteCountsAreReproducedAtScale1) {
  const std::string path = DatasetPath(testing::kReal10);
  TraceSpec trace = Trace(TraceSpec::Format::kAzureFunctions, path);
  trace.first_minute = 600;
  trace.last_minute = 610;
  Workload w{
      .name = "f",
      .models = {TraceModel("resnet50", "t", kFunctionA), TraceModel("gpt2", "t", kFunctionB)},
      .traces = {trace}};
  std::vector<Arrival> arrivals = Replay(w, 3600);
  EXPECT_TRUE(InTimeOrder(arrivals));
  EXPECT_EQ(PerMinute(arrivals, 0, 11), FileCounts(path, kFunctionA, 2, 4, 600, 610));
  EXPECT_EQ(PerMinute(arrivals, 1, 11), FileCounts(path, kFunctionB, 2, 4, 600, 610));
  EXPECT_EQ(arrivals.front().input, 100);
}

TEST(FunctionsSourceTest, Sampled100LayoutIsDetected) {
  const std::string path = DatasetPath(testing::kSampled100);
  const std::string key = "a2e59b8ed3a756ff";
  TraceSpec trace = Trace(TraceSpec::Format::kAzureFunctions, path);
  trace.last_minute = 30;
  Workload w{.name = "f", .models = {TraceModel("resnet50", "t", key)}, .traces = {trace}};
  std::vector<int64_t> expected = FileCounts(path, key, 0, 3, 1, 30);
  EXPECT_GT(expected.front(), 0);
  EXPECT_EQ(PerMinute(Replay(w, 1800), 0, 30), expected);
}

TEST(FunctionsSourceTest, FractionalScaledCountsAreRoundedStochastically) {
  const std::string path = DatasetPath(testing::kReal10);
  TraceSpec trace = Trace(TraceSpec::Format::kAzureFunctions, path);
  trace.last_minute = 60;
  Workload w{
      .name = "f", .models = {TraceModel("resnet50", "t", kFunctionA, 0.35)}, .traces = {trace}};
  std::vector<int64_t> file = FileCounts(path, kFunctionA, 2, 4, 1, 60);
  std::vector<int64_t> got = PerMinute(Replay(w, 3600), 0, 60);
  double expected_total = 0, total = 0;
  for (size_t m = 0; m < 60; ++m) {
    const double scaled = 0.35 * static_cast<double>(file[m]);
    EXPECT_TRUE(got[m] == std::floor(scaled) || got[m] == std::ceil(scaled)) << m;
    expected_total += scaled;
    total += static_cast<double>(got[m]);
  }
  std::printf("[stats] functions x0.35 over 60 min: %.0f arrivals (expected %.1f)\n", total,
              expected_total);
  EXPECT_NEAR(total, expected_total, 3 * 0.5 * std::sqrt(60.0));
}

// Minutes 200..319 of function 47658c9c are busy (196-197 a minute), so the gaps are those of one
// Gamma renewal process at a nearly constant rate. (An idle minute inside the window would add one
// gap of a minute and inflate the CV: minute 38 is one.)
TEST(FunctionsSourceTest, GammaWithinMinutesKeepsTheRateAndTheCv) {
  const std::string path = DatasetPath(testing::kReal10);
  TraceSpec trace = Trace(TraceSpec::Format::kAzureFunctions, path);
  trace.first_minute = 200;
  trace.last_minute = 319;
  trace.within_minute_cv = 2.0;
  Workload w{.name = "f", .models = {TraceModel("resnet50", "t", kFunctionA)}, .traces = {trace}};
  std::vector<Arrival> arrivals = Replay(w, 7200);
  double file_total = 0;
  for (int64_t c : FileCounts(path, kFunctionA, 2, 4, 200, 319)) {
    ASSERT_GT(c, 0);
    file_total += static_cast<double>(c);
  }
  double sum = 0, sum_sq = 0;
  for (size_t i = 1; i < arrivals.size(); ++i) {
    const double gap = static_cast<double>(arrivals[i].time_ns - arrivals[i - 1].time_ns);
    sum += gap;
    sum_sq += gap * gap;
  }
  const double n = static_cast<double>(arrivals.size() - 1), mean = sum / n;
  const double cv = std::sqrt(sum_sq / n - mean * mean) / mean;
  std::printf("[stats] functions cv 2 over 120 min: %zu arrivals (file %.0f), gap cv %.3f\n",
              arrivals.size(), file_total, cv);
  // A renewal count has a standard deviation of about cv * sqrt(count): 2 * 153 here.
  EXPECT_NEAR(static_cast<double>(arrivals.size()), file_total, 4 * 2 * std::sqrt(file_total));
  EXPECT_NEAR(cv, 2.0, 0.1);
}

TEST(FunctionsSourceTest, StopsAtTheDuration) {
  TraceSpec trace = Trace(TraceSpec::Format::kAzureFunctions, DatasetPath(testing::kReal10));
  Workload w{.name = "f", .models = {TraceModel("resnet50", "t", kFunctionA)}, .traces = {trace}};
  std::vector<Arrival> arrivals = Replay(w, 90);
  ASSERT_FALSE(arrivals.empty());
  EXPECT_LT(arrivals.back().time_ns, 90'000'000'000);
  EXPECT_GT(arrivals.back().time_ns, 80'000'000'000);
}

TEST(FunctionsSourceTest, AnUnknownFunctionIsAnErrorWhenTheSourceIsMade) {
  TraceSpec trace = Trace(TraceSpec::Format::kAzureFunctions, DatasetPath(testing::kReal10));
  Workload w{.name = "f", .models = {TraceModel("resnet50", "t", "ffffffff")}, .traces = {trace}};
  models::ModelRegistry registry = TestRegistry();
  EXPECT_THAT(MakeArrivalSources(w, registry, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has a HashFunction starting with 'ffffffff'")));
}

TEST(LlmSourceTest, ReplaysTheBundledTraceWithInputsFromTokens) {
  TraceSpec trace = Trace(TraceSpec::Format::kAzureLlm, DatasetPath(testing::kLlmCode));
  trace.tokens_per_input = 8;
  Workload w{.name = "l",
             .models = {TraceModel("bert_base", "t", "", 1, true), TraceModel("gpt2", "t", "")},
             .traces = {trace}};
  std::vector<Arrival> arrivals = Replay(w, 1e6);
  ASSERT_EQ(arrivals.size(), 2u * 8819);
  // Row 1: 18:17:03.9799600, 4808 tokens -> 601 units, clamped to BERT's 512; gpt2 samples its
  // fixed input. Row 2 is 52 ms later with 3180 tokens -> 398.
  EXPECT_EQ(arrivals[0], (Arrival{0, 0, 512}));
  EXPECT_EQ(arrivals[1], (Arrival{0, 1, 100}));
  EXPECT_EQ(arrivals[2], (Arrival{52'000'000, 0, 398}));
  EXPECT_TRUE(InTimeOrder(arrivals));
  // Last row 19:14:19.9280160.
  EXPECT_EQ(arrivals.back().time_ns, (((19 - 18) * 60 + 14 - 17) * 60 + 19 - 3) * 1'000'000'000LL +
                                         928'016'000 - 979'960'000);
}

TEST(LlmSourceTest, ScaleCompressesTimeAndTheDurationCuts) {
  TraceSpec trace = Trace(TraceSpec::Format::kAzureLlm, DatasetPath(testing::kLlmCode));
  Workload w{.name = "l", .models = {TraceModel("gpt2", "t", "", 4, true)}, .traces = {trace}};
  std::vector<Arrival> arrivals = Replay(w, 10);
  ASSERT_GT(arrivals.size(), 2u);
  EXPECT_EQ(arrivals[1].time_ns, 13'000'000);  // 52 ms / 4
  EXPECT_EQ(arrivals[0].input, 1024);          // 4808 tokens, clamped to GPT-2's 1024
  EXPECT_LT(arrivals.back().time_ns, 10'000'000'000);
  // About 2.6 requests/s in the trace, 4x faster: roughly 100 in 10 s.
  EXPECT_GT(arrivals.size(), 50u);
  EXPECT_LT(arrivals.size(), 200u);
}

TEST(CsvTraceSourceTest, RowsDriveTheirModelsThroughTheRegistry) {
  const std::string path = WriteFile(TestDir(), "t.csv",
                                     "timestamp_s,model,input_size\n"
                                     "0.5,bert,100\n"
                                     "0.5,resnet-50,\n"
                                     "1.25,gpt2,7\n"
                                     "2,bert_base,300\n"
                                     "3,bert,5");
  Workload w{.name = "c",
             .models = {TraceModel("bert_base", "t", "bert_base", 1, true),
                        TraceModel("resnet50", "t", "resnet50"), TraceModel("gpt2", "t", "bert")},
             .traces = {Trace(TraceSpec::Format::kCsv, path)}};
  // gpt2 replays BERT's rows (its key is the alias "bert"); gpt2's own rows drive no model.
  EXPECT_EQ(Replay(w, 2.5), (std::vector<Arrival>{{500'000'000, 0, 100},
                                                  {500'000'000, 2, 100},
                                                  {500'000'000, 1, 100},
                                                  {2'000'000'000, 0, 300},
                                                  {2'000'000'000, 2, 100}}));
}

TEST(CsvTraceSourceTest, AMalformedRowEndsTheStreamWithItsLine) {
  const std::string path = WriteFile(TestDir(), "t.csv",
                                     "timestamp_s,model\n"
                                     "0.5,bert\n"
                                     "0.25,bert\n");
  Workload w{.name = "c",
             .models = {TraceModel("bert_base", "t", "")},
             .traces = {Trace(TraceSpec::Format::kCsv, path)}};
  absl::Status status;
  EXPECT_EQ(Replay(w, 10, 1, &status).size(), 1u);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr(path + ":3: column timestamp_s: 0.25 s is earlier")));
}

TEST(CsvTraceSourceTest, DifferentScalesOnOneTraceAreRejected) {
  const std::string path = WriteFile(TestDir(), "t.csv", "timestamp_s,model\n0.5,bert\n");
  Workload w{.name = "c",
             .models = {TraceModel("bert_base", "t", "", 1), TraceModel("gpt2", "t", "bert", 2)},
             .traces = {Trace(TraceSpec::Format::kCsv, path)}};
  models::ModelRegistry registry = TestRegistry();
  EXPECT_THAT(MakeArrivalSources(w, registry, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("different scales")));
}

// Bytes allocated by malloc, in the arena and in mmapped blocks (large vectors).
size_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// 100,000 requests: the source streams them with a constant heap, and a bad last row is reported
// only when reached, after every earlier request was delivered.
TEST(CsvTraceSourceTest, ALongTraceIsStreamedWithoutBuffering) {
  constexpr int kRows = 100'000;
  std::string text = "timestamp_s,model,input_size\n";
  for (int i = 0; i < kRows; ++i) text += fmt::format("{:.4f},bert,{}\n", i * 0.001, 1 + i % 512);
  text += "bad,bert,1\n";
  const std::string path = WriteFile(TestDir(), "long.csv", text);
  text.clear();
  text.shrink_to_fit();
  Workload w{.name = "c",
             .models = {TraceModel("bert_base", "t", "", 1, true)},
             .traces = {Trace(TraceSpec::Format::kCsv, path)}};
  models::ModelRegistry registry = TestRegistry();
  auto sources = MakeArrivalSources(w, registry, {.duration_s = 1e6});
  ASSERT_OK(sources.status());
  ArrivalSource& source = *sources->front();
  Arrival a;
  int count = 0;
  size_t baseline = 0, peak = 0;
  while (source.Next(a)) {
    if (++count == 1000) baseline = HeapInUse();
    if (count > 1000 && count % 1000 == 0) peak = std::max(peak, HeapInUse());
    ASSERT_EQ(a.input, 1 + (count - 1) % 512);
  }
  EXPECT_EQ(count, kRows);
  std::printf("[stats] csv trace of %d rows: heap grew by %zd bytes while streaming\n", kRows,
              static_cast<ssize_t>(peak) - static_cast<ssize_t>(baseline));
  EXPECT_LT(peak, baseline + 64 * 1024);
  EXPECT_THAT(source.status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(fmt::format("{}:{}: column timestamp_s", path, kRows + 2))));
}

}  // namespace
}  // namespace tessera::workload
