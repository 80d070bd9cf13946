// The simulator with options.interference: SM partitions slow each other, MIG instances do not.
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/rng.h"
#include "tessera/base/status.h"
#include "tessera/base/status_matchers.h"
#include "tessera/sim/simulator.h"

namespace tessera::sim {
namespace {

constexpr char kGpu[] = "H100-SXM5-80GB";

class PoissonSource : public workload::ArrivalSource {
 public:
  PoissonSource(int model, double rate_rps, uint64_t seed)
      : model_(model), rate_(rate_rps), rng_(seed, model) {}
  bool Next(workload::Arrival& a) override {
    t_ += rng_.Exponential(rate_);
    a = {std::llround(t_ * 1e9), model_, 64};
    return true;
  }

 private:
  int model_;
  double rate_;
  RngStream rng_;
  double t_ = 0;
};

// Models "a" and "b" (batch 1 takes 2 ms, batch 4 5 ms) on two partitions of one GPU.
struct World {
  perf::ProfileTable profiles;
  workload::Workload workload;
  plan::Plan plan;
  hw::Catalog catalog;

  World(hw::Partition first, hw::Partition second) {
    plan.gpus.push_back({0, "", kGpu, {}});
    for (const auto& [model, partition] : {std::pair{"a", first}, std::pair{"b", second}}) {
      for (int b = 1; b <= 4; ++b) {
        perf::ProfileRow row;
        row.key = {kGpu, partition, model, 64, b, 1};
        row.latency_ms = 1 + b;
        TESSERA_CHECK(profiles.Add(row).ok());
      }
      workload::WorkloadModel m;
      m.model = model;
      m.slo_ms = 30;
      m.input.fixed = 64;
      workload.models.push_back(m);
      plan::Assignment a;
      a.model = model;
      a.batch = 4;
      a.input_max = 64;
      plan.gpus[0].partitions.push_back({partition, std::nullopt, {a}});
    }
  }
  SimInputs Inputs() const { return {&plan, &workload, &profiles, &catalog}; }

  SimResult Run(std::shared_ptr<const perf::InterferenceModel> interference) const {
    SimOptions options;
    options.duration_s = 10;
    options.seed = 3;
    options.interference = std::move(interference);
    std::vector<std::unique_ptr<workload::ArrivalSource>> sources;
    sources.push_back(std::make_unique<PoissonSource>(0, 500, 3));
    sources.push_back(std::make_unique<PoissonSource>(1, 500, 4));
    absl::StatusOr<SimResult> r = Simulate(Inputs(), std::move(sources), options);
    TESSERA_CHECK(r.ok());
    return *std::move(r);
  }
};

TEST(SimulatorInterferenceTest, SmPartitionsSlowEachOther) {
  World w(hw::Partition::Sm(64), hw::Partition::Sm(68));
  SimResult alone = w.Run(nullptr);
  SimResult slowed = w.Run(std::make_shared<perf::ConstantInterference>(1.5));
  for (int m = 0; m < 2; ++m) {
    EXPECT_GT(slowed.models[m].latency.Mean(), 1.2 * alone.models[m].latency.Mean()) << m;
    EXPECT_GT(slowed.partitions[m].busy_fraction, alone.partitions[m].busy_fraction + 0.05) << m;
  }
  // A factor of 1 is the same as no model at all.
  SimResult one = w.Run(std::make_shared<perf::ConstantInterference>(1.0));
  EXPECT_EQ(ResultToJson(one, {"t"}).dump(), ResultToJson(alone, {"t"}).dump());
}

TEST(SimulatorInterferenceTest, AJobAloneOnItsGpuIsNotSlowed) {
  World w(hw::Partition::Sm(64), hw::Partition::Sm(68));
  w.plan.gpus.push_back({1, "", kGpu, {w.plan.gpus[0].partitions[1]}});
  w.plan.gpus[0].partitions.pop_back();  // a and b on different GPUs
  EXPECT_EQ(ResultToJson(w.Run(std::make_shared<perf::ConstantInterference>(1.5)), {"t"}).dump(),
            ResultToJson(w.Run(nullptr), {"t"}).dump());
}

TEST(SimulatorInterferenceTest, MigInstancesDoNotInterfere) {
  World w(hw::Partition::Mig("3g.40gb"), hw::Partition::Mig("4g.40gb"));
  EXPECT_EQ(ResultToJson(w.Run(std::make_shared<perf::ConstantInterference>(1.5)), {"t"}).dump(),
            ResultToJson(w.Run(nullptr), {"t"}).dump());
}

}  // namespace
}  // namespace tessera::sim
