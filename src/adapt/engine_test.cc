#include "tessera/adapt/engine.h"

#include <fstream>
#include <map>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "internal/switch.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "testing/a100_test_base.h"

namespace tessera::adapt {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

// Returns the allocations it is given, one per window (the last one repeated).
class ScriptedPolicy : public Policy {
 public:
  explicit ScriptedPolicy(std::vector<Allocation> script) : script_(std::move(script)) {}
  std::string name() const override { return "scripted"; }
  absl::StatusOr<Allocation> Decide(const Observation& obs) override {
    observations_.push_back(obs);
    return script_[std::min<size_t>(obs.window_index, script_.size() - 1)];
  }
  std::vector<Observation> observations_;

 private:
  std::vector<Allocation> script_;
};

class EngineTest : public testing::A100TestBase {
 protected:
  void SetUp() override {
    testing::A100TestBase::SetUp();
    if (HasFatalFailure()) return;
    space_.emplace(hw::LayoutSpace::WithoutMediaExtensions(*gpu_));
    g7_ = gpu_->ProfileIndex("7g.80gb");
    g3_ = gpu_->ProfileIndex("3g.40gb");
    g4_ = gpu_->ProfileIndex("4g.40gb");
  }

  // Two tenants: resnet50 and vgg16 at `rate` req/s each (Poisson), retraining every 10 s.
  void Build(double rate, bool tenants = true) {
    workload_.models = {{"resnet50", 100, {.fixed = 224}, {.rate_rps = rate}},
                        {"vgg16", 200, {.fixed = 224}, {.rate_rps = rate}}};
    workload_.tenants.clear();
    if (tenants) {
      for (const char* model : {"resnet50", "vgg16"}) {
        workload_.tenants.push_back({.name = std::string("t-") + model,
                                     .model = model,
                                     .retraining_window_s = 10,
                                     .retraining_samples = 2000,
                                     .initial_accuracy = 0.8,
                                     .drift_per_window = 0.1,
                                     .accuracy_after_retraining = 0.9});
      }
    }
    ASSERT_OK_AND_ASSIGN(book_, PerfBook::Build(*gpu_, *space_, profiles_, workload_, startup_));
    context_ = {.catalog = &catalog_,
                .gpu = gpu_,
                .space = &*space_,
                .profiles = &profiles_,
                .workload = &workload_,
                .registry = &registry_,
                .book = &book_,
                .costs = {},
                .gpus = 2};
  }

  Slot Mig(int profile, int tenant, Role role) const {
    Slot s;
    s.profile = profile;
    s.tenant = tenant;
    s.role = role;
    if (role == Role::kInference) s.rps = book_.InferenceRps(tenant, profile);
    if (role == Role::kRetraining) s.samples_per_s = book_.RetrainSamplesPerS(tenant, profile);
    return s;
  }

  std::optional<hw::LayoutSpace> space_;
  workload::Workload workload_;
  PerfBook book_;
  PolicyContext context_;
  int g7_ = 0, g3_ = 0, g4_ = 0;
};

TEST_F(EngineTest, AmpleCapacityServesEveryRequestWithinSloAtTheModelsAccuracy) {
  Build(200, /*tenants=*/false);
  Allocation a{.gpus = {{.mig = true, .slots = {Mig(g7_, 0, Role::kInference)}},
                        {.mig = true, .slots = {Mig(g7_, 1, Role::kInference)}}}};
  ScriptedPolicy policy({a});
  ASSERT_OK_AND_ASSIGN(AdaptResult r,
                       RunAdaptation(context_, policy, {.duration_s = 20, .window_s = 1}));
  EXPECT_GT(r.arrivals, 7000);
  EXPECT_EQ(r.lost, 0);
  // The first window waits for two processes to start (creates, then startup).
  EXPECT_EQ(r.mig_operations, 2);
  EXPECT_EQ(r.restarts, 2);
  EXPECT_LT(r.slo_attainment, 1.0);
  EXPECT_GT(r.slo_attainment, 0.9);
  EXPECT_EQ(r.within_slo + r.served_late, r.arrivals);
  // Without tenants every model is served at accuracy 1.
  EXPECT_NEAR(r.accuracy_goodput_rps, r.goodput_rps, 1e-9);
  EXPECT_NEAR(r.gpu_hours, 2 * 20 / 3600.0, 1e-12);
  EXPECT_EQ(r.reconfigurations, 0);
}

TEST_F(EngineTest, TooLittleCapacityQueuesAndServesLateNeverLoses) {
  Build(300, /*tenants=*/false);
  // A 1g.10gb instance for vgg16 serves far less than 300 req/s; a 4g.40gb serves resnet50.
  const int g1 = gpu_->ProfileIndex("1g.10gb");
  Allocation a{.gpus = {{.mig = true,
                         .slots = {Mig(g4_, 0, Role::kInference), Mig(g1, 1, Role::kInference)}}}};
  ASSERT_LT(book_.InferenceRps(1, g1), 300);
  ScriptedPolicy policy({a});
  ASSERT_OK_AND_ASSIGN(AdaptResult r,
                       RunAdaptation(context_, policy, {.duration_s = 10, .window_s = 1}));
  EXPECT_EQ(r.lost, 0);
  EXPECT_GT(r.tenants[1].served_late, 0);
  EXPECT_GT(r.drain_s, 0);
  EXPECT_EQ(r.tenants[1].within_slo + r.tenants[1].served_late, r.tenants[1].arrivals);
  EXPECT_LT(static_cast<double>(r.tenants[1].within_slo) / r.tenants[1].arrivals, 0.8);
}

TEST_F(EngineTest, RetrainingRestoresAccuracyAndDriftCostsIt) {
  Build(50);
  // Tenant 0 retrains on a 3g.40gb: 2000 samples at 32 / (3 x 24.77 ms) = 430.6/s take ~4.6 s of
  // a 10 s retraining window (after its startup). Tenant 1 never retrains: it drifts 0.1 per 10 s.
  Allocation a{.gpus = {{.mig = true,
                         .slots = {Mig(g4_, 0, Role::kInference), Mig(g3_, 0, Role::kRetraining)}},
                        {.mig = true, .slots = {Mig(g7_, 1, Role::kInference)}}}};
  ScriptedPolicy policy({a});
  ASSERT_OK_AND_ASSIGN(AdaptResult r,
                       RunAdaptation(context_, policy, {.duration_s = 30, .window_s = 1}, true));
  EXPECT_EQ(r.tenants[0].retrainings_due, 3);
  EXPECT_EQ(r.tenants[0].retrainings_done, 3);
  EXPECT_EQ(r.tenants[1].retrainings_done, 0);
  // Tenant 1: 0.8 for 10 s, 0.7, 0.6: mean 0.7.
  EXPECT_NEAR(r.tenants[1].mean_accuracy, 0.7, 1e-9);
  EXPECT_NEAR(r.windows.back().accuracy[1], 0.6, 1e-9);
  EXPECT_NEAR(r.windows.back().accuracy[0], 0.9, 1e-9);
  EXPECT_GT(r.tenants[0].mean_accuracy, 0.82);
  // What a policy sees: the job and the time left in its window.
  EXPECT_NEAR(policy.observations_[12].tenants[1].retrain_window_left_s, 8, 1e-9);
  EXPECT_NEAR(policy.observations_[12].tenants[1].accuracy, 0.7, 1e-9);
  EXPECT_NEAR(policy.observations_[12].tenants[1].retrain_remaining, 2000, 1e-9);
}

TEST_F(EngineTest, MigTransitionTimesOperationsAndStartup) {
  Build(50);
  context_.costs.mig_create_s = 0.5;
  context_.costs.mig_destroy_s = 0.25;
  std::vector<internal::RunningGpu> running;
  Allocation whole{.gpus = {{.mig = true, .slots = {Mig(g7_, 0, Role::kInference)}}}};
  ASSERT_OK_AND_ASSIGN(internal::SwitchResult first,
                       internal::Switch(running, whole, 0, *gpu_, book_, context_.costs));
  EXPECT_EQ(first.mig_operations, 1);
  EXPECT_NEAR(first.gpus[0].slots[0].ready_s, 0.5 + book_.StartupS(0), 1e-9);
  // 7g -> 3g + 3g: drain and destroy the 7g (0.25 s), create two 3g (0.5 s each).
  Allocation split{
      .gpus = {
          {.mig = true, .slots = {Mig(g3_, 0, Role::kInference), Mig(g3_, 1, Role::kInference)}}}};
  ASSERT_OK_AND_ASSIGN(internal::SwitchResult second,
                       internal::Switch(first.gpus, split, 10, *gpu_, book_, context_.costs));
  EXPECT_EQ(second.mig_operations, 3);
  EXPECT_EQ(second.restarts, 2);
  ASSERT_EQ(second.stopped.size(), 1u);
  EXPECT_NEAR(second.stopped[0].stop_s, 10, 1e-9);  // drained when its destroy begins
  std::vector<double> ready;
  for (const internal::TimedSlot& s : second.gpus[0].slots) ready.push_back(s.ready_s);
  std::sort(ready.begin(), ready.end());
  EXPECT_NEAR(ready[0], 10.75 + book_.StartupS(0), 1e-9);
  EXPECT_NEAR(ready[1], 11.25 + book_.StartupS(1), 1e-9);
  EXPECT_NEAR(second.downtime_s, ready[0] - 10 + ready[1] - 10, 1e-9);
  // Pre-initialization cannot hide startup on instances that need a destroy first.
  context_.costs.pre_initialize = true;
  ASSERT_OK_AND_ASSIGN(internal::SwitchResult pre,
                       internal::Switch(first.gpus, split, 10, *gpu_, book_, context_.costs));
  EXPECT_NEAR(pre.downtime_s, second.downtime_s, 1e-9);
}

TEST_F(EngineTest, PreInitializationHidesStartupOfReassignedInstances) {
  Build(50);
  Allocation before{
      .gpus = {
          {.mig = true, .slots = {Mig(g4_, 0, Role::kInference), Mig(g3_, 0, Role::kRetraining)}}}};
  Allocation after{
      .gpus = {
          {.mig = true, .slots = {Mig(g4_, 0, Role::kInference), Mig(g3_, 1, Role::kInference)}}}};
  std::vector<internal::RunningGpu> none;
  ASSERT_OK_AND_ASSIGN(internal::SwitchResult first,
                       internal::Switch(none, before, 0, *gpu_, book_, context_.costs));
  ASSERT_OK_AND_ASSIGN(internal::SwitchResult plain,
                       internal::Switch(first.gpus, after, 20, *gpu_, book_, context_.costs));
  EXPECT_EQ(plain.mig_operations, 0);
  EXPECT_EQ(plain.restarts, 1);
  EXPECT_NEAR(plain.downtime_s, book_.StartupS(1), 1e-9);
  // The kept 4g slot keeps its process and ready time.
  context_.costs.pre_initialize = true;
  ASSERT_OK_AND_ASSIGN(internal::SwitchResult pre,
                       internal::Switch(first.gpus, after, 20, *gpu_, book_, context_.costs));
  EXPECT_EQ(pre.restarts, 1);
  EXPECT_NEAR(pre.downtime_s, 0, 1e-12);
}

TEST_F(EngineTest, RejectsAnIllegalAllocationNamingTheWindow) {
  Build(50);
  // Two 7g instances on one GPU cannot be placed.
  Allocation bad{
      .gpus = {
          {.mig = true, .slots = {Mig(g7_, 0, Role::kInference), Mig(g7_, 1, Role::kInference)}}}};
  ScriptedPolicy policy({bad});
  EXPECT_THAT(
      RunAdaptation(context_, policy, {.duration_s = 5, .window_s = 1}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("window 0 (t = 0 s): gpu0: the instances have no legal placement")));
  Allocation three{.gpus = {{}, {}, {}}};
  ScriptedPolicy too_many({three});
  EXPECT_THAT(
      RunAdaptation(context_, too_many, {.duration_s = 5, .window_s = 1}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("uses 3 GPUs; the run has 2")));
  EXPECT_THAT(RunAdaptation(context_, policy, {.duration_s = 5, .window_s = 0}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("window_s")));
}

TEST_F(EngineTest, EveryPolicyRunsWithoutLosingRequests) {
  Build(300);
  for (const std::string& name : PolicyNames()) {
    if (name == "gpulet-autoscale" || name == "static-peak") continue;  // need SM profiles
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Policy> policy, MakePolicy(name, context_));
    ASSERT_OK_AND_ASSIGN(AdaptResult r,
                         RunAdaptation(context_, *policy, {.duration_s = 30, .window_s = 1}));
    EXPECT_EQ(r.lost, 0);
    EXPECT_EQ(r.queued_at_end, 0);
    EXPECT_GT(r.slo_attainment, 0.5);
    EXPECT_GT(r.accuracy_goodput_rps, 0);
  }
  EXPECT_THAT(MakePolicy("nope", context_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use one of migrator")));
}

// gpulet-autoscale and static-peak plan SM partitions with the gpulet planner: H100 profiles.
TEST(PlannerPoliciesTest, AutoscaleFollowsTheLoadStaticPeakHoldsThePeak) {
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  ASSERT_OK_AND_ASSIGN(std::string dir, DataDir());
  ASSERT_OK_AND_ASSIGN(
      perf::ProfileTable measured,
      perf::LoadProfileCsv(dir + "/profiles/h100-sm-partitions.csv", catalog, registry));
  ASSERT_OK_AND_ASSIGN(perf::ProfileTable profiles,
                       perf::WithMigStandIns(std::move(measured), catalog));
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* gpu, catalog.Find("h100"));
  ASSERT_OK_AND_ASSIGN(StartupCosts startup, StartupCosts::LoadDefault());
  hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(*gpu);
  // A CSV trace: resnet50 at 20,000 req/s for 30 s, then 2,000 req/s for 30 s.
  std::string csv = "timestamp_s,model\n";
  for (int i = 0; i < 600000; ++i) csv += fmt::format("{:.6f},resnet50\n", i / 20000.0);
  for (int i = 0; i < 60000; ++i) csv += fmt::format("{:.6f},resnet50\n", 30 + i / 2000.0);
  const std::string path = ::testing::TempDir() + "/step.csv";
  std::ofstream(path) << csv;
  workload::Workload w;
  w.name = "step";
  w.models = {{"resnet50", 15, {.fixed = 224}, {.rate_rps = 11000}}};
  ASSERT_OK_AND_ASSIGN(w, workload::WithCsvTrace(w, path, registry));
  ASSERT_OK_AND_ASSIGN(PerfBook book, PerfBook::Build(*gpu, space, profiles, w, startup));
  PolicyContext context{.catalog = &catalog,
                        .gpu = gpu,
                        .space = &space,
                        .profiles = &profiles,
                        .workload = &w,
                        .registry = &registry,
                        .book = &book,
                        .costs = {},
                        .gpus = 8};
  std::map<std::string, AdaptResult> results;
  for (const char* name : {"gpulet-autoscale", "static-peak"}) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Policy> policy, MakePolicy(name, context));
    ASSERT_OK_AND_ASSIGN(AdaptResult r,
                         RunAdaptation(context, *policy, {.duration_s = 60, .window_s = 5}, true));
    EXPECT_EQ(r.lost, 0) << name;
    EXPECT_EQ(r.arrivals, 660000) << name;
    results[name] = r;
  }
  const AdaptResult& autoscale = results["gpulet-autoscale"];
  const AdaptResult& peak = results["static-peak"];
  // The peak plan keeps its GPUs all along; autoscaling gives some back once the load drops.
  EXPECT_EQ(peak.windows.front().gpus, peak.windows.back().gpus);
  EXPECT_LT(autoscale.windows.back().gpus, peak.windows.back().gpus);
  EXPECT_LT(autoscale.gpu_hours, peak.gpu_hours);
  EXPECT_GT(peak.slo_attainment, 0.9);
  EXPECT_GT(autoscale.reconfigurations, 0);
  EXPECT_EQ(peak.reconfigurations, 0);
}

}  // namespace
}  // namespace tessera::adapt
