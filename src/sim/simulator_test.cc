#include "tessera/sim/simulator.h"

#include <cmath>
#include <iostream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/rng.h"
#include "tessera/base/status_matchers.h"

namespace tessera::sim {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kGpu[] = "H100-SXM5-80GB";

// Poisson arrivals of one model at a fixed input size.
class PoissonSource : public workload::ArrivalSource {
 public:
  PoissonSource(int model, double rate_rps, int input, uint64_t seed)
      : model_(model), rate_(rate_rps), input_(input), rng_(seed, model) {}
  bool Next(workload::Arrival& a) override {
    t_ += rng_.Exponential(rate_);
    a = {std::llround(t_ * 1e9), model_, input_};
    return true;
  }

 private:
  int model_;
  double rate_;
  int input_;
  RngStream rng_;
  double t_ = 0;
};

// Arrivals at given times (seconds).
class ListSource : public workload::ArrivalSource {
 public:
  explicit ListSource(std::vector<workload::Arrival> arrivals) : arrivals_(std::move(arrivals)) {}
  bool Next(workload::Arrival& a) override {
    if (next_ == arrivals_.size()) return false;
    a = arrivals_[next_++];
    return true;
  }

 private:
  std::vector<workload::Arrival> arrivals_;
  size_t next_ = 0;
};

// A tiny world: models "a" and "b"; their profile on sm:64 and sm:32 is
// latency(batch) = base_ms + per_item_ms * batch, at inputs 64 and 128.
struct World {
  perf::ProfileTable profiles;
  workload::Workload workload;
  plan::Plan plan;
  hw::Catalog catalog;

  void AddProfile(const std::string& model, int sms, double base_ms, double per_item_ms,
                  int max_batch = 32, int procs = 1) {
    for (int input : {64, 128}) {
      for (int b = 1; b <= max_batch; b *= 2) {
        perf::ProfileRow row;
        row.key = {kGpu, hw::Partition::Sm(sms), model, input, b, procs};
        row.latency_ms = (base_ms + per_item_ms * b) * (input == 128 ? 2 : 1);
        TESSERA_CHECK(profiles.Add(row).ok());
      }
    }
  }
  void AddModel(const std::string& model, double slo_ms) {
    workload::WorkloadModel m;
    m.model = model;
    m.slo_ms = slo_ms;
    m.input.fixed = 64;
    workload.models.push_back(m);
  }
  // One GPU with one partition per assignment list entry.
  void AddPartition(int sms, std::vector<plan::Assignment> assignments) {
    if (plan.gpus.empty()) plan.gpus.push_back({0, "", kGpu, {}});
    plan.gpus[0].partitions.push_back({hw::Partition::Sm(sms), std::nullopt, assignments});
  }
  SimInputs Inputs() const { return {&plan, &workload, &profiles, &catalog}; }
};

plan::Assignment Assign(std::string model, int batch, int input_max = 64, int procs = 1,
                        double share = 1.0, int input_min = 0) {
  plan::Assignment a;
  a.model = std::move(model);
  a.batch = batch;
  a.input_min = input_min;
  a.input_max = input_max;
  a.procs = procs;
  a.share = share;
  return a;
}

std::vector<std::unique_ptr<workload::ArrivalSource>> Poisson(int model, double rate, uint64_t seed,
                                                              int input = 64) {
  std::vector<std::unique_ptr<workload::ArrivalSource>> v;
  v.push_back(std::make_unique<PoissonSource>(model, rate, input, seed));
  return v;
}

// M/D/1: Poisson arrivals at rate lambda, deterministic service D, one server. The mean wait in
// queue is rho * D / (2 (1 - rho)) (Pollaczek-Khinchine).
TEST(SimulatorTest, SingleServerMatchesMD1) {
  World w;
  w.AddProfile("a", 64, 0.0, 1.0);  // batch 1 takes exactly 1 ms
  w.AddModel("a", 1e6);
  w.AddPartition(64, {Assign("a", 1)});
  for (double rho : {0.5, 0.8}) {
    SimOptions options;
    options.duration_s = 2000;
    options.seed = 11;
    ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), Poisson(0, rho * 1000, 11), options));
    const ModelMetrics& m = r.models[0];
    double expected_ms = rho * 1.0 / (2 * (1 - rho));
    double measured_ms = m.queueing.Mean() / 1e6;
    std::cout << "M/D/1 rho " << rho << ": mean wait " << measured_ms << " ms over " << m.completed
              << " requests, Pollaczek-Khinchine " << expected_ms << " ms\n";
    EXPECT_NEAR(measured_ms, expected_ms, 0.02 * expected_ms) << "rho " << rho;
    EXPECT_EQ(m.completed, m.arrivals);
    EXPECT_NEAR(r.partitions[0].busy_fraction, rho, 0.01);
  }
}

TEST(SimulatorTest, SameSeedGivesIdenticalMetrics) {
  World w;
  w.AddProfile("a", 64, 0.5, 0.25);
  w.AddProfile("b", 32, 1.0, 0.5);
  w.AddModel("a", 10);
  w.AddModel("b", 20);
  w.AddPartition(64, {Assign("a", 8)});
  w.AddPartition(32, {Assign("b", 4)});
  auto run = [&](uint64_t seed) {
    SimOptions options;
    options.duration_s = 20;
    options.seed = seed;
    options.noise_cv = 0.1;
    std::vector<std::unique_ptr<workload::ArrivalSource>> sources = Poisson(0, 3000, seed);
    sources.push_back(std::make_unique<PoissonSource>(1, 900, 64, seed));
    absl::StatusOr<SimResult> r = Simulate(w.Inputs(), std::move(sources), options);
    TESSERA_CHECK(r.ok());
    return ResultToJson(*r, {"tessera", "simulate"}).dump();
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(SimulatorTest, ConservesRequestsWhenStoppedMidway) {
  World w;
  w.AddProfile("a", 64, 1.0, 1.0);
  w.AddModel("a", 50);
  w.AddPartition(64, {Assign("a", 4)});
  SimOptions options;
  options.duration_s = 5;
  options.drain = false;
  // Twice the capacity (4 requests per 5 ms = 800 rps), plus requests too large for any bucket.
  std::vector<std::unique_ptr<workload::ArrivalSource>> sources = Poisson(0, 1600, 3);
  sources.push_back(std::make_unique<PoissonSource>(0, 50, 128, 4));
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), std::move(sources), options));
  const ModelMetrics& m = r.models[0];
  EXPECT_GT(m.queued, 1000);
  EXPECT_GT(m.rejected, 100);
  EXPECT_EQ(m.completed + m.rejected + m.expired + m.in_service + m.queued, m.arrivals);
  EXPECT_NEAR(r.partitions[0].busy_fraction, 1.0, 0.01);
}

TEST(SimulatorTest, DropExpiredCountsInsteadOfServingLate) {
  World w;
  w.AddProfile("a", 64, 1.0, 1.0);
  w.AddModel("a", 50);
  w.AddPartition(64, {Assign("a", 4)});
  SimOptions options;
  options.duration_s = 5;
  options.drop_expired = true;
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), Poisson(0, 1600, 3), options));
  const ModelMetrics& m = r.models[0];
  EXPECT_GT(m.expired, 1000);
  EXPECT_EQ(m.completed + m.expired, m.arrivals);
  // What is served is served in time (the check is at dispatch, without noise).
  EXPECT_EQ(m.within_slo, m.completed);
}

TEST(SimulatorTest, BatchesNeverWaitPastTheDeadline) {
  World w;
  w.AddProfile("a", 64, 1.0, 0.5);  // batch 1: 1.5 ms; batch 8: 5 ms
  w.AddModel("a", 6);
  w.AddPartition(64, {Assign("a", 8)});
  SimOptions options;
  options.duration_s = 50;
  options.batch_timeout_ms = 100;  // a long timeout: the deadline rule must cut the wait
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), Poisson(0, 200, 9), options));
  const ModelMetrics& m = r.models[0];
  EXPECT_GT(r.partitions[0].mean_batch, 1.2);
  // Waiting for a batch never costs attainment against dispatching at once.
  options.batch_timeout_ms = 0;
  ASSERT_OK_AND_ASSIGN(SimResult eager, Simulate(w.Inputs(), Poisson(0, 200, 9), options));
  EXPECT_GE(m.SloAttainment(), eager.models[0].SloAttainment());
  EXPECT_GT(m.SloAttainment(), 0.995);
}

TEST(SimulatorTest, TimeoutBoundsTheWaitAndFullBatchesGoAtOnce) {
  World w;
  w.AddProfile("a", 64, 1.0, 0.0);
  w.AddModel("a", 1000);
  w.AddPartition(64, {Assign("a", 4)});
  SimOptions options;
  options.duration_s = 1;
  options.batch_timeout_ms = 2;
  // Two requests at 0 and 0.5 ms wait for the 2 ms timeout; four at 10 ms go at once.
  std::vector<workload::Arrival> arrivals = {{0, 0, 64},          {500'000, 0, 64},
                                             {10'000'000, 0, 64}, {10'000'000, 0, 64},
                                             {10'000'000, 0, 64}, {10'000'000, 0, 64}};
  std::vector<std::unique_ptr<workload::ArrivalSource>> sources;
  sources.push_back(std::make_unique<ListSource>(arrivals));
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), std::move(sources), options));
  const ModelMetrics& m = r.models[0];
  EXPECT_EQ(m.completed, 6);
  EXPECT_EQ(r.partitions[0].batches, 2);
  EXPECT_NEAR(m.queueing.Quantile(1.0), 2e6, 0.01 * 2e6);  // the first request waited 2 ms
  EXPECT_NEAR(m.latency.Quantile(0.5), 1e6, 0.01 * 1e6);   // the full batch did not wait
}

TEST(SimulatorTest, RoutesBySmallestBucketAndRejectsOversizedInputs) {
  World w;
  w.AddProfile("a", 64, 1.0, 0.1);
  w.AddProfile("a", 32, 1.0, 0.1);
  w.AddModel("a", 100);
  w.AddPartition(64, {Assign("a", 4, 64, 1, 1.0, 1)});
  w.AddPartition(32, {Assign("a", 4, 128, 1, 1.0, 65)});
  SimOptions options;
  options.duration_s = 1;
  std::vector<workload::Arrival> arrivals = {
      {0, 0, 10}, {1'000, 0, 100}, {2'000, 0, 64}, {3'000, 0, 129}};
  std::vector<std::unique_ptr<workload::ArrivalSource>> sources;
  sources.push_back(std::make_unique<ListSource>(arrivals));
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), std::move(sources), options));
  EXPECT_EQ(r.models[0].rejected, 1);
  EXPECT_EQ(r.models[0].completed, 3);
  EXPECT_DOUBLE_EQ(r.partitions[0].mean_batch * r.partitions[0].batches, 2);  // sizes 10 and 64
  EXPECT_DOUBLE_EQ(r.partitions[1].mean_batch * r.partitions[1].batches, 1);  // size 100
}

TEST(SimulatorTest, RoutersSpreadLoadOverReplicas) {
  for (RouterKind router : {RouterKind::kRoundRobin, RouterKind::kLeastOutstanding,
                            RouterKind::kShortestExpectedCompletion}) {
    World w;
    w.AddProfile("a", 64, 1.0, 0.25);
    w.AddModel("a", 20);
    w.AddPartition(64, {Assign("a", 8)});
    w.AddPartition(64, {Assign("a", 8)});
    SimOptions options;
    options.duration_s = 20;
    options.router = router;
    ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), Poisson(0, 2000, 1), options));
    SCOPED_TRACE(RouterName(router));
    EXPECT_NEAR(r.partitions[0].busy_fraction, r.partitions[1].busy_fraction, 0.05);
    EXPECT_GT(r.models[0].SloAttainment(), 0.99);
  }
}

TEST(SimulatorTest, SharedPartitionSplitsTimeByShares) {
  World w;
  w.AddProfile("a", 64, 1.0, 0.25);
  w.AddProfile("b", 64, 1.0, 0.25);
  w.AddModel("a", 1e6);
  w.AddModel("b", 1e6);
  w.AddPartition(64, {Assign("a", 4, 64, 1, 0.75), Assign("b", 4, 64, 1, 0.25)});
  SimOptions options;
  options.duration_s = 20;
  options.drain = false;
  // Both saturate the partition: it must serve them 3:1.
  std::vector<std::unique_ptr<workload::ArrivalSource>> sources = Poisson(0, 5000, 1);
  sources.push_back(std::make_unique<PoissonSource>(1, 5000, 64, 2));
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), std::move(sources), options));
  double ratio = static_cast<double>(r.models[0].completed) / r.models[1].completed;
  EXPECT_NEAR(ratio, 3.0, 0.15);
  EXPECT_NEAR(r.partitions[0].busy_fraction, 1.0, 0.01);
}

TEST(SimulatorTest, TinySharesAreServedWithoutLooping) {
  World w;
  w.AddProfile("a", 64, 1.0, 0.25);
  w.AddProfile("b", 64, 1.0, 0.25);
  w.AddModel("a", 1e6);
  w.AddModel("b", 1e6);
  w.AddPartition(64, {Assign("a", 4, 64, 1, 1.0), Assign("b", 4, 64, 1, 1e-7)});
  SimOptions options;
  options.duration_s = 5;
  options.drain = false;
  std::vector<std::unique_ptr<workload::ArrivalSource>> sources = Poisson(0, 5000, 1);
  sources.push_back(std::make_unique<PoissonSource>(1, 5000, 64, 2));
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), std::move(sources), options));
  EXPECT_GT(r.models[0].completed, 1000);
  EXPECT_LT(r.models[1].completed, r.models[0].completed / 100);
}

TEST(SimulatorTest, BusyFractionStaysWithinTheWindowWhenDraining) {
  World w;
  w.AddProfile("a", 64, 1.0, 1.0);
  w.AddModel("a", 1e6);
  w.AddPartition(64, {Assign("a", 4)});
  SimOptions options;
  options.duration_s = 2;  // twice the capacity: the drain runs long past the duration
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), Poisson(0, 1600, 3), options));
  EXPECT_LE(r.partitions[0].busy_fraction, 1.0);
  EXPECT_GT(r.partitions[0].busy_fraction, 0.99);
  EXPECT_EQ(r.models[0].completed, r.models[0].arrivals);
}

TEST(SimulatorTest, PartialBatchesBelowTheSmallestMeasuredArePadded) {
  World w;
  perf::ProfileRow row;
  row.key = {kGpu, hw::Partition::Sm(64), "a", 64, 8, 1};  // only batch 8 is measured
  row.latency_ms = 2;
  ASSERT_OK(w.profiles.Add(row));
  w.AddModel("a", 100);
  w.AddPartition(64, {Assign("a", 8)});
  SimOptions options;
  options.duration_s = 1;
  std::vector<std::unique_ptr<workload::ArrivalSource>> sources;
  sources.push_back(std::make_unique<ListSource>(std::vector<workload::Arrival>{{0, 0, 64}}));
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), std::move(sources), options));
  EXPECT_EQ(r.models[0].completed, 1);
  // A lone request waits one full-batch time (2 ms) for company, then runs as a padded batch.
  EXPECT_NEAR(r.models[0].latency.Quantile(1.0), 4e6, 0.01 * 4e6);
}

TEST(SimulatorTest, ProcsRunBatchesConcurrently) {
  World w;
  w.AddProfile("a", 64, 1.0, 0.0, 1, /*procs=*/2);
  w.AddModel("a", 1e6);
  w.AddPartition(64, {Assign("a", 1, 64, /*procs=*/2)});
  SimOptions options;
  options.duration_s = 200;
  // 1.6 requests per ms on two 1-ms servers: rho 0.8 per server, stable; one server would not be.
  ASSERT_OK_AND_ASSIGN(SimResult r, Simulate(w.Inputs(), Poisson(0, 1600, 5), options));
  EXPECT_NEAR(r.partitions[0].busy_fraction, 0.8, 0.02);
  EXPECT_LT(r.models[0].queueing.Mean(), 5e6);
}

TEST(SimulatorTest, UntimeablePlanIsAnError) {
  World w;
  w.AddProfile("a", 64, 1.0, 0.25, 8);
  w.AddModel("a", 20);
  w.AddPartition(64, {Assign("a", 16)});  // profiles stop at batch 8
  SimOptions options;
  EXPECT_THAT(
      Simulate(w.Inputs(), Poisson(0, 10, 1), options),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("gpus[0].partitions[0].assignments[0]: cannot time a batch of 9")));
}

TEST(SimulatorTest, OptionsAreValidated) {
  World w;
  SimOptions options;
  options.duration_s = 0;
  EXPECT_THAT(Simulate(w.Inputs(), {}, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duration_s")));
  options.duration_s = 10;
  options.noise_cv = std::nan("");
  EXPECT_THAT(Simulate(w.Inputs(), {}, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("noise_cv")));
  options.noise_cv = 0;
  options.warmup_s = 10;
  EXPECT_THAT(Simulate(w.Inputs(), {}, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("warmup_s")));
  EXPECT_THAT(ParseRouter("fastest"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown router 'fastest'")));
}

}  // namespace
}  // namespace tessera::sim
