// `tessera adapt`, run in-process on the bundled continuous-learning example.
#include <map>

#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Data;
using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::testing::HasSubstr;

// `tessera adapt` on cl-day for 240 s in 20 s windows on 4 A100s; `set` replaces flags' values.
std::vector<std::string> ClDay(std::vector<std::string> extra,
                               const std::map<std::string, std::string>& set = {}) {
  std::map<std::string, std::string> flags = {
      {"--workload", Data("examples/adapt/cl-day.workload.yaml")},
      {"--profiles", Data("profiles/a100-parvagpu.csv")},
      {"--gpu", "a100-80gb"},
      {"--gpus", "4"},
      {"--duration", "240"},
      {"--window", "20"}};
  for (const auto& [flag, value] : set) flags[flag] = value;
  std::vector<std::string> args = {"adapt"};
  for (const auto& [flag, value] : flags) args.insert(args.end(), {flag, value});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(AdaptCommandTest, ComparesPoliciesInOneTable) {
  Result r = Tessera(ClDay({"--policy", "fair,ekya,paris"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("tessera adapt: running paris (3 of 3)..."));
  for (const char* text :
       {"policy fair", "policy ekya", "policy paris", "accuracy-weighted goodput",
        "vision-resnet50", "acc-goodput", "vs 1st", "lost 0"}) {
    EXPECT_THAT(r.out, HasSubstr(text));
  }
}

TEST(AdaptCommandTest, JsonAccountsForEveryRequest) {
  Result r = Tessera(ClDay({"--policy", "ekya", "--json", "--windows"}));
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["runs"].size(), 1u);
  const nlohmann::json& run = j["runs"][0];
  EXPECT_EQ(run["policy"], "ekya");
  EXPECT_EQ(run["lost"], 0);
  EXPECT_EQ(run["arrivals"].get<int64_t>(), run["within_slo"].get<int64_t>() +
                                                run["served_late"].get<int64_t>() +
                                                run["queued_at_end"].get<int64_t>());
  EXPECT_EQ(run["windows"].size(), 12u);
  EXPECT_EQ(run["tenants"].size(), 6u);
}

TEST(AdaptCommandTest, BadFlagsSayWhatToFix) {
  Result r = Tessera(ClDay({"--policy", "nope"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--policy: unknown policy 'nope'"));
  r = Tessera(ClDay({}, {{"--gpus", "0"}}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--gpus 0"));
  r = Tessera(ClDay({}, {{"--window", "600"}}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("window_s: must not exceed the duration"));
  r = Tessera(ClDay({}, {{"--gpu", "nosuch"}}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--gpu nosuch"));
  r = Tessera(ClDay({"--mig-create-s", "-1"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--mig-create-s"));
  r = Tessera(ClDay({"--drift-scale", "-2"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--drift-scale -2"));
  r = Tessera(ClDay({"--headroom", "0"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--headroom 0"));
  r = Tessera(ClDay({"--policy", ","}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--policy: name at least one policy"));
}

}  // namespace
}  // namespace tessera::cli
