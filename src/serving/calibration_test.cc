// The serving gate: `serve --backend emulated` + `load` agree with `simulate` on the same plan,
// trace and seed (SLO attainment within 3 points, p99 within 15%), and at twice the plan's
// capacity the server answers 429 and every accepted request is answered.
//
// Runs in real time (about a minute in all); ctest runs it alone (RUN_SERIAL) so other tests do not
// take its CPU.
#include <cmath>
#include <future>
#include <mutex>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/serving/emulated_backend.h"
#include "tessera/serving/http_server.h"
#include "tessera/serving/load_generator.h"
#include "tessera/serving/scheduler.h"
#include "tessera/sim/simulator.h"
#include "tessera/workload/arrivals.h"
#include "tessera/workload/scale.h"
#include "tessera/workload/workload.h"

namespace tessera::serving {
namespace {

constexpr double kDurationS = 20;
constexpr uint64_t kSeed = 1;

struct Bundle {
  hw::Catalog catalog;
  models::ModelRegistry registry;
  perf::ProfileTable profiles;
  plan::Plan plan;
  workload::Workload workload;
};

std::unique_ptr<Bundle> LoadBundle() {
  auto b = std::make_unique<Bundle>();
  std::string dir = *DataDir();
  b->catalog = *hw::LoadDefaultCatalog();
  b->registry = *models::LoadDefaultModelRegistry();
  b->profiles = *perf::WithMigStandIns(
      *perf::LoadProfileCsv(dir + "/profiles/a100-parvagpu.csv", b->catalog, b->registry),
      b->catalog);
  b->plan = *plan::LoadPlanFile(dir + "/examples/a100-mig.plan.yaml");
  b->workload =
      *workload::LoadWorkloadFile(dir + "/examples/serving/a100-trace.workload.yaml", b->registry);
  return b;
}

sim::SimResult Simulate(const Bundle& b, const workload::Workload& w) {
  sim::SimOptions options;
  options.duration_s = kDurationS;
  options.seed = kSeed;
  auto sources = *workload::MakeArrivalSources(w, b.registry, {kDurationS, kSeed});
  return *sim::Simulate({&b.plan, &w, &b.profiles, &b.catalog}, std::move(sources), options);
}

// A server on a free loopback port, emulated backend, until destroyed (which drains it).
struct LiveServer {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<HttpServer> http;
  std::thread thread;
  LiveServer(const Bundle& b, SchedulerOptions options) {
    backend = *MakeEmulatedBackend(b.plan, b.profiles, &b.catalog, {});
    scheduler = std::make_unique<Scheduler>(b.plan, *sim::ExecutionTimes::Build(b.plan, b.profiles),
                                            backend.get(), options);
    TESSERA_CHECK(scheduler->Start(&b.catalog).ok());
    HttpOptions http_options;
    http_options.port = 0;
    http = std::make_unique<HttpServer>(scheduler.get(), &b.registry,
                                        std::map<std::string, double>{}, http_options);
    TESSERA_CHECK(http->Bind().ok());
    thread = std::thread([this] { http->Serve(); });
  }
  ~LiveServer() {
    http->Shutdown();
    thread.join();
    scheduler->Stop();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http->port()); }
};

void ExpectAgreement(const sim::ModelMetrics& served, const sim::ModelMetrics& simulated) {
  SCOPED_TRACE(served.model);
  EXPECT_EQ(served.arrivals, simulated.arrivals);
  EXPECT_NEAR(served.SloAttainment() * 100, simulated.SloAttainment() * 100, 3.0);
  double p99 = served.latency.Quantile(0.99), expected = simulated.latency.Quantile(0.99);
  EXPECT_NEAR(p99 / expected, 1.0, 0.15)
      << "p99 served " << p99 / 1e6 << " ms, simulated " << expected / 1e6 << " ms";
}

// The scheduler alone (no HTTP): arrivals submitted at their times from one thread.
TEST(CalibrationTest, SchedulerAloneAgreesWithSimulate) {
  std::unique_ptr<Bundle> b = LoadBundle();
  sim::SimResult simulated = Simulate(*b, b->workload);
  std::unique_ptr<Backend> backend = *MakeEmulatedBackend(b->plan, b->profiles, &b->catalog, {});
  Scheduler scheduler(b->plan, *sim::ExecutionTimes::Build(b->plan, b->profiles), backend.get(),
                      {});
  ASSERT_OK(scheduler.Start(&b->catalog));
  std::vector<sim::ModelMetrics> served(b->workload.models.size());
  std::mutex mu;
  auto sources = *workload::MakeArrivalSources(b->workload, b->registry, {kDurationS, kSeed});
  std::vector<workload::Arrival> next(sources.size());
  std::vector<bool> live(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) live[i] = sources[i]->Next(next[i]);
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    int best = -1;
    for (size_t i = 0; i < sources.size(); ++i) {
      if (live[i] && (best < 0 || next[i].time_ns < next[best].time_ns)) best = static_cast<int>(i);
    }
    if (best < 0) break;
    workload::Arrival a = next[best];
    live[best] = sources[best]->Next(next[best]);
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(a.time_ns));
    const workload::WorkloadModel& m = b->workload.models[a.model];
    scheduler.Submit(m.model, a.input, m.slo_ms, [&, model = a.model](const Outcome& o) {
      std::lock_guard<std::mutex> lock(mu);
      sim::ModelMetrics& s = served[model];
      ++s.arrivals;
      s.completed += o.code == OutcomeCode::kOk;
      s.within_slo += o.within_slo;
      s.latency.Record(o.latency_ns);
    });
  }
  scheduler.Stop();
  for (size_t m = 0; m < served.size(); ++m) {
    served[m].model = simulated.models[m].model;
    std::cout << served[m].model << ": SLO " << served[m].SloAttainment() * 100 << "% p50 "
              << served[m].latency.Quantile(0.5) / 1e6 << " ms p99 "
              << served[m].latency.Quantile(0.99) / 1e6 << " ms\n";
    ExpectAgreement(served[m], simulated.models[m]);
  }
}

TEST(CalibrationTest, ServeAndLoadAgreeWithSimulate) {
  std::unique_ptr<Bundle> b = LoadBundle();
  sim::SimResult simulated = Simulate(*b, b->workload);
  LiveServer server(*b, {});
  LoadOptions options;
  options.target = server.url();
  options.duration_s = kDurationS;
  options.seed = kSeed;
  ASSERT_OK_AND_ASSIGN(LoadResult served, RunLoad(b->workload, b->registry, options, nullptr));
  std::cout << FormatLoadSummary(served) << sim::FormatSummary(simulated);
  EXPECT_EQ(served.transport_errors, 0) << served.first_error;
  ASSERT_EQ(served.metrics.models.size(), simulated.models.size());
  for (size_t m = 0; m < simulated.models.size(); ++m) {
    ExpectAgreement(served.metrics.models[m], simulated.models[m]);
  }
  ExpectAgreement(served.metrics.Overall(), simulated.Overall());
}

TEST(CalibrationTest, TwiceCapacityAnswers429AndLosesNoAcceptedRequest) {
  std::unique_ptr<Bundle> b = LoadBundle();
  // The plan serves about 1,720 ResNet-50 and 360 BERT requests per second at full batches (from
  // the profiles: 8 / 22.3 ms + 2 x 16 / 23.5 ms; 3 x 4 / 49.7 ms + 2 x 2 / 33.3 ms); the
  // workload's means are 1,400 and 262 rps, so 2.5 times them is about twice the capacity.
  workload::Workload heavy = *workload::ScaleRates(b->workload, 2.5);
  LiveServer server(*b, {});
  LoadOptions options;
  options.target = server.url();
  options.duration_s = 8;
  options.seed = kSeed;
  ASSERT_OK_AND_ASSIGN(LoadResult served, RunLoad(heavy, b->registry, options, nullptr));
  std::cout << FormatLoadSummary(served);
  EXPECT_EQ(served.transport_errors, 0) << served.first_error;
  EXPECT_GT(served.http_status[429], 0);
  int64_t answered = 0;
  for (const auto& [status, n] : served.http_status) {
    EXPECT_TRUE(status == 200 || status == 429) << status << " x" << n;
    answered += n;
  }
  EXPECT_EQ(answered, served.metrics.Overall().arrivals);
  server.http->Shutdown();
  SchedulerSnapshot end = server.scheduler->Snapshot();
  for (const SchedulerSnapshot::Model& m : end.models) {
    EXPECT_EQ(m.accepted, m.served) << m.model;
    EXPECT_EQ(m.failed, 0) << m.model;
  }
  EXPECT_EQ(end.models[0].accepted + end.models[1].accepted, served.http_status[200]);
}

}  // namespace
}  // namespace tessera::serving
