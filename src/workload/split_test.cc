// Trace splitting (`split: {of, index}`) and mean-rate scaling (`mean_rps`): the groups of a split
// add up to the whole trace in the loader's rates, in the per-minute counts and in the arrivals;
// mean_rps sets the scale; malformed values are rejected with located messages.
#include <algorithm>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "internal/trace_files.h"
#include "tessera/base/status_matchers.h"
#include "tessera/workload/arrivals.h"
#include "tessera/workload/workload.h"
#include "workload_test_util.h"

namespace tessera::workload {
namespace {

using ::tessera::testing::StatusIs;
using testing::DatasetPath;
using testing::Drain;
using ::testing::HasSubstr;
using testing::TestModel;

constexpr int kGroups = 6;
constexpr const char* kModelNames[kGroups] = {"m0", "m1", "m2", "m3", "m4", "m5"};

// Six image models m0..m5 (224 px, max 512).
models::ModelRegistry SixModels() {
  std::vector<models::ModelInfo> infos;
  for (const char* name : kModelNames) {
    infos.push_back(TestModel(name, {}, models::InputUnit::kPixels, 224, 512));
  }
  return models::ModelRegistry(std::move(infos));
}

absl::StatusOr<Workload> Parse(const std::string& text) {
  models::ModelRegistry registry = SixModels();
  return ParseWorkload(text, "w.yaml", DatasetPath(""), registry);
}

// A workload of `groups` models, model k replaying group k of a split of `trace` (a flow mapping
// for traces:) with `extra` added to each demand.
std::string SplitWorkload(int groups, const std::string& trace, const std::string& extra = "") {
  std::string text = "name: split\nmodels:\n";
  for (int k = 0; k < groups; ++k) {
    text += fmt::format(
        "  - {{model: {}, slo_ms: 100, demand: {{trace: {{name: t, split: {{of: "
        "{}, index: {}}}{}}}}}}}\n",
        kModelNames[k], groups, k, extra);
  }
  return text + "traces:\n  - " + trace + "\n";
}

std::string FunctionsTrace(int first, int last) {
  return fmt::format("{{name: t, format: azure-functions, path: {}, minutes: [{}, {}]}}",
                     testing::kSampled100, first, last);
}

std::string LlmTrace() {
  return fmt::format("{{name: t, format: azure-llm, path: {}}}", testing::kLlmCode);
}

// The whole file's invocations per minute (all functions summed), minutes [first, last], read
// independently of the code under test.
std::vector<int64_t> FileMinuteTotals(int first, int last) {
  std::ifstream in(DatasetPath(testing::kSampled100));
  std::string line;
  std::getline(in, line);  // header
  std::vector<int64_t> totals(static_cast<size_t>(last - first + 1), 0);
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string f; std::getline(split, f, ',');) fields.push_back(f);
    for (int m = first; m <= last; ++m) {
      totals[static_cast<size_t>(m - first)] += std::stoll(fields[static_cast<size_t>(2 + m)]);
    }
  }
  return totals;
}

std::vector<std::vector<int64_t>> GroupCounts(int first, int last) {
  std::vector<internal::FunctionSelector> selectors;
  for (int k = 0; k < kGroups; ++k) selectors.push_back({"", kGroups, k});
  auto rows =
      internal::ReadFunctionSelections(DatasetPath(testing::kSampled100), selectors, first, last);
  EXPECT_TRUE(rows.ok()) << rows.status();
  std::vector<std::vector<int64_t>> out;
  for (const auto& matches : *rows) {
    EXPECT_EQ(matches.size(), 1u);
    out.push_back(matches.front().counts);
  }
  return out;
}

TEST(SplitFunctionsTest, GroupsDealTheSortedFunctionsAndSumToTheFile) {
  std::vector<internal::FunctionSelector> selectors;
  for (int k = 0; k < kGroups; ++k) selectors.push_back({"", kGroups, k});
  ASSERT_OK_AND_ASSIGN(auto rows, internal::ReadFunctionSelections(
                                      DatasetPath(testing::kSampled100), selectors, 1, 1440));
  std::vector<int> sizes;
  for (const auto& matches : rows) sizes.push_back(matches.front().functions);
  EXPECT_EQ(sizes, (std::vector<int>{17, 17, 17, 17, 16, 16}));  // 100 functions

  const std::vector<int64_t> totals = FileMinuteTotals(1, 1440);
  for (size_t m = 0; m < totals.size(); ++m) {
    int64_t sum = 0;
    for (const auto& matches : rows) sum += matches.front().counts[m];
    ASSERT_EQ(sum, totals[m]) << "minute " << m + 1;
  }
}

TEST(SplitFunctionsTest, LoaderRatesOfTheGroupsSumToTheWholeTrace) {
  ASSERT_OK_AND_ASSIGN(Workload w, Parse(SplitWorkload(kGroups, FunctionsTrace(1, 1440))));
  const std::vector<int64_t> totals = FileMinuteTotals(1, 1440);
  const double whole_rps =
      static_cast<double>(std::accumulate(totals.begin(), totals.end(), int64_t{0})) / 86400.0;
  double sum = 0;
  for (const WorkloadModel& m : w.models) {
    EXPECT_EQ(m.demand.split_of, kGroups);
    EXPECT_TRUE(m.demand.trace_key.empty());
    EXPECT_GT(m.demand.rate_rps, 0);
    sum += m.demand.rate_rps;
  }
  EXPECT_NEAR(sum, whole_rps, 1e-9 * whole_rps);
  EXPECT_THAT(w.DebugString(), HasSubstr("split 2/6"));
}

TEST(SplitFunctionsTest, ArrivalsOfTheGroupsAddUpToTheWholeFile) {
  ASSERT_OK_AND_ASSIGN(Workload w, Parse(SplitWorkload(kGroups, FunctionsTrace(600, 604))));
  models::ModelRegistry registry = SixModels();
  ASSERT_OK_AND_ASSIGN(auto sources,
                       MakeArrivalSources(w, registry, {.duration_s = 300, .seed = 3}));
  ASSERT_EQ(sources.size(), 1u);
  const std::vector<Arrival> arrivals = Drain(*sources.front());
  ASSERT_OK(sources.front()->status());
  const std::vector<int64_t> totals = FileMinuteTotals(600, 604);
  // Scale 1 and cv 1: each minute's arrivals are exactly its count.
  EXPECT_EQ(static_cast<int64_t>(arrivals.size()),
            std::accumulate(totals.begin(), totals.end(), int64_t{0}));
  const std::vector<std::vector<int64_t>> groups = GroupCounts(600, 604);
  for (int k = 0; k < kGroups; ++k) {
    const int64_t expected = std::accumulate(groups[static_cast<size_t>(k)].begin(),
                                             groups[static_cast<size_t>(k)].end(), int64_t{0});
    EXPECT_EQ(std::count_if(arrivals.begin(), arrivals.end(),
                            [k](const Arrival& a) { return a.model == k; }),
              expected)
        << "group " << k;
  }
}

// The burstiness of each group over the day: peak 10-minute mean rate / day mean rate. The six
// groups of sampled100 peak at 1.27x to 4.14x their day's mean (the data/examples/adapt workloads
// rely on it).
TEST(SplitFunctionsTest, GroupPeaksOverTheDay) {
  const std::vector<std::vector<int64_t>> groups = GroupCounts(1, 1440);
  const std::vector<double> expected = {2.81, 1.70, 1.27, 4.14, 1.42, 3.33};
  for (int k = 0; k < kGroups; ++k) {
    const std::vector<int64_t>& counts = groups[static_cast<size_t>(k)];
    const double day = static_cast<double>(std::accumulate(counts.begin(), counts.end(), 0LL));
    int64_t window = std::accumulate(counts.begin(), counts.begin() + 10, int64_t{0});
    int64_t peak = window;
    for (size_t m = 10; m < counts.size(); ++m) {
      window += counts[m] - counts[m - 10];
      peak = std::max(peak, window);
    }
    const double ratio = (static_cast<double>(peak) / 10.0) / (day / 1440.0);
    fmt::print("group {}: day mean {:.2f} rps, peak 10-min mean {:.2f} rps, ratio {:.2f}\n", k,
               day / 86400.0, static_cast<double>(peak) / 600.0, ratio);
    EXPECT_NEAR(ratio, expected[static_cast<size_t>(k)], 0.005) << "group " << k;
    EXPECT_GE(ratio, 1.2) << "group " << k;
    EXPECT_LE(ratio, 4.2) << "group " << k;
  }
}

TEST(SplitLlmTest, GroupsAreDisjointRowsCoveringTheTrace) {
  ASSERT_OK_AND_ASSIGN(Workload whole, Parse(SplitWorkload(1, LlmTrace())));
  ASSERT_OK_AND_ASSIGN(Workload split, Parse(SplitWorkload(3, LlmTrace())));
  EXPECT_NEAR(split.models[0].demand.rate_rps + split.models[1].demand.rate_rps +
                  split.models[2].demand.rate_rps,
              whole.models[0].demand.rate_rps, 1e-9);
  EXPECT_NEAR(split.models[0].demand.rate_rps, 2940.0 / 3420.0, 0.1);  // 8,819 rows in 57 min

  models::ModelRegistry registry = SixModels();
  ASSERT_OK_AND_ASSIGN(auto whole_sources,
                       MakeArrivalSources(whole, registry, {.duration_s = 7200}));
  ASSERT_OK_AND_ASSIGN(auto split_sources,
                       MakeArrivalSources(split, registry, {.duration_s = 7200}));
  const std::vector<Arrival> all = Drain(*whole_sources.front());
  const std::vector<Arrival> parts = Drain(*split_sources.front());
  ASSERT_OK(split_sources.front()->status());
  ASSERT_EQ(all.size(), 8819u);
  ASSERT_EQ(parts.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(parts[i].time_ns, all[i].time_ns) << "row " << i;
    ASSERT_EQ(parts[i].model, static_cast<int>(i % 3)) << "row " << i;  // row j to group j mod 3
  }
}

TEST(MeanRpsTest, SetsTheScaleThatGivesTheMeanRate) {
  ASSERT_OK_AND_ASSIGN(Workload w,
                       Parse(SplitWorkload(kGroups, FunctionsTrace(1, 1440), ", mean_rps: 40")));
  const std::vector<std::vector<int64_t>> groups = GroupCounts(1, 1440);
  for (int k = 0; k < kGroups; ++k) {
    const Demand& d = w.models[static_cast<size_t>(k)].demand;
    const double total = static_cast<double>(std::accumulate(
        groups[static_cast<size_t>(k)].begin(), groups[static_cast<size_t>(k)].end(), 0LL));
    EXPECT_EQ(d.mean_rps, 40);
    EXPECT_EQ(d.rate_rps, 40);
    EXPECT_NEAR(d.scale, 40 * 86400.0 / total, 1e-9 * d.scale);
  }
}

TEST(MeanRpsTest, ArrivalsReachTheMeanRate) {
  ASSERT_OK_AND_ASSIGN(Workload w,
                       Parse(SplitWorkload(2, FunctionsTrace(700, 759), ", mean_rps: 25")));
  models::ModelRegistry registry = SixModels();
  ASSERT_OK_AND_ASSIGN(auto sources, MakeArrivalSources(w, registry, {.duration_s = 3600}));
  const std::vector<Arrival> arrivals = Drain(*sources.front());
  EXPECT_NEAR(static_cast<double>(arrivals.size()) / 3600.0, 50, 1);
}

TEST(MeanRpsTest, RepeatsLlmRequestsSpreadOverTheGapToTheNext) {
  // The code trace's 8,819 requests over 57 minutes, split in 3 (~0.86 req/s each), repeated to a
  // mean of 30 req/s: about 35 copies of every request at its time.
  ASSERT_OK_AND_ASSIGN(Workload w, Parse(SplitWorkload(3, LlmTrace(), ", mean_rps: 30")));
  for (const WorkloadModel& m : w.models) {
    EXPECT_EQ(m.demand.rate_rps, 30);
    EXPECT_EQ(m.demand.scale, 1);
    EXPECT_NEAR(m.demand.repeat, 35, 2);
  }
  models::ModelRegistry registry = SixModels();
  ASSERT_OK_AND_ASSIGN(auto sources, MakeArrivalSources(w, registry, {.duration_s = 7200}));
  const std::vector<Arrival> arrivals = Drain(*sources.front());
  ASSERT_OK(sources.front()->status());
  ASSERT_OK_AND_ASSIGN(Workload plain, Parse(SplitWorkload(3, LlmTrace())));
  ASSERT_OK_AND_ASSIGN(auto plain_sources,
                       MakeArrivalSources(plain, registry, {.duration_s = 7200}));
  const std::vector<Arrival> rows = Drain(*plain_sources.front());
  // Arrivals stay in time order, each within one gap (repeat / rate) after some request of the
  // trace; the count is the repeat times the rows (+-1%).
  std::set<int64_t> times;
  for (const Arrival& a : rows) times.insert(a.time_ns);
  const int64_t gap_ns = static_cast<int64_t>(w.models[0].demand.repeat / 30 * 1.01e9);
  for (size_t i = 0; i < arrivals.size(); ++i) {
    if (i > 0) ASSERT_LE(arrivals[i - 1].time_ns, arrivals[i].time_ns) << i;
    auto row = times.upper_bound(arrivals[i].time_ns);
    ASSERT_NE(row, times.begin()) << arrivals[i].time_ns;
    ASSERT_LE(arrivals[i].time_ns - *std::prev(row), gap_ns) << arrivals[i].time_ns;
  }
  EXPECT_NEAR(static_cast<double>(arrivals.size()) / rows.size(), w.models[0].demand.repeat,
              0.01 * w.models[0].demand.repeat);
}

// ---- malformed splits and mean rates, each with its located message.

void ExpectError(const std::string& text, const std::string& message) {
  EXPECT_THAT(Parse(text), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
      << text;
}

std::string OneModel(const std::string& demand, const std::string& trace) {
  return "name: w\nmodels:\n  - {model: m0, slo_ms: 10, demand: {trace: {name: t, " + demand +
         "}}}\ntraces:\n  - " + trace + "\n";
}

TEST(SplitErrorsTest, BadGroups) {
  ExpectError(OneModel("split: {of: 0, index: 0}", FunctionsTrace(1, 10)),
              "w.yaml:3:67: field models[0].demand.trace.split.of: 0 groups: give the number of "
              "groups, an integer >= 1");
  ExpectError(OneModel("split: {of: 6, index: 6}", FunctionsTrace(1, 10)),
              "w.yaml:3:77: field models[0].demand.trace.split.index: group 6 does not exist; "
              "groups are numbered 0..5 (0 <= index < of)");
  ExpectError(OneModel("split: {of: 6, index: -1}", FunctionsTrace(1, 10)),
              "field models[0].demand.trace.split.index: group -1 does not exist");
  ExpectError(OneModel("split: {of: 6}", FunctionsTrace(1, 10)),
              "field models[0].demand.trace.split.index: missing required field");
  ExpectError(OneModel("split: {of: 6, index: 1, part: 2}", FunctionsTrace(1, 10)),
              "field models[0].demand.trace.split.part: unknown key 'part'; expected one of: of, "
              "index");
  ExpectError(OneModel("split: {of: 101, index: 100}", FunctionsTrace(1, 10)),
              "w.yaml:3:62: field models[0].demand.trace.split: group 100 of 101 holds no "
              "function");
}

TEST(SplitErrorsTest, SplitOfACsvTraceOrWithAFunction) {
  ExpectError(OneModel("split: {of: 2, index: 0}", "{name: t, format: csv, path: x.csv}"),
              "trace file 'x.csv' not found");  // the path is checked first
  const std::string dir = testing::TestDir();
  testing::WriteFile(dir, "t.csv", "timestamp_s,model\n1,m0\n");
  ExpectError(
      OneModel("split: {of: 2, index: 0}", "{name: t, format: csv, path: " + dir + "/t.csv}"),
      "w.yaml:3:62: field models[0].demand.trace.split: applies to azure-functions and azure-llm "
      "traces only; remove it");
  ExpectError(OneModel("function: 47658c9cff05, split: {of: 2, index: 0}", FunctionsTrace(1, 10)),
              "w.yaml:3:65: field models[0].demand.trace.function: a split model replays a group "
              "of the trace's functions; give function or split, not both");
}

TEST(MeanRpsErrorsTest, ExclusiveWithScalePositiveAndNotForCsv) {
  ExpectError(OneModel("split: {of: 2, index: 0}, mean_rps: 5, scale: 2", FunctionsTrace(1, 10)),
              "field models[0].demand.trace.mean_rps: give scale or mean_rps, not both");
  ExpectError(OneModel("split: {of: 2, index: 0}, mean_rps: 0", FunctionsTrace(1, 10)),
              "field models[0].demand.trace.mean_rps: must be positive, found 0");
  const std::string dir = testing::TestDir();
  testing::WriteFile(dir, "rates.csv", "timestamp_s,model\n1,m0\n");
  ExpectError(OneModel("mean_rps: 5", "{name: t, format: csv, path: " + dir + "/rates.csv}"),
              "field models[0].demand.trace.mean_rps: applies to azure-functions and azure-llm "
              "traces only: the scale of a csv trace compresses its time and is shared by all its "
              "models; give scale instead");
}

TEST(MeanRpsErrorsTest, NoRequestToScale) {
  const std::string dir = testing::TestDir();
  std::string file = "HashFunction,HashApp,HashOwner";
  for (int m = 1; m <= 1440; ++m) file += fmt::format(",minute_{}", m);
  file += "\nabcdefabcdef,app,owner";
  for (int m = 1; m <= 1440; ++m) file += m == 5 ? ",3" : ",0";
  testing::WriteFile(dir, "inv.csv", file + "\n");
  const std::string trace =
      "{name: t, format: azure-functions, path: " + dir + "/inv.csv, minutes: [10, 20]}";
  ExpectError(OneModel("function: abcdefabcdef, mean_rps: 5", trace),
              "field models[0].demand.trace.mean_rps: the trace gives this model no request in "
              "minutes 10..20, so no scale reaches 5 requests/s");
}

TEST(SplitErrorsTest, HandBuiltSplitOfACsvTraceIsRejectedByTheSources) {
  Workload w;
  w.models.push_back({.model = "m0",
                      .slo_ms = 10,
                      .input = {.fixed = 224},
                      .demand = {.kind = Demand::Kind::kTrace,
                                 .trace = "t",
                                 .trace_key = "m0",
                                 .split_of = 2,
                                 .split_index = 0}});
  w.traces.push_back({.name = "t", .format = TraceSpec::Format::kCsv, .path = "x.csv"});
  models::ModelRegistry registry = SixModels();
  EXPECT_THAT(MakeArrivalSources(w, registry, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model m0: split {of: 2, index: 0} of csv trace 't' needs")));
}

}  // namespace
}  // namespace tessera::workload
