#include "tessera/serving/scheduler.h"

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"
#include "tessera/base/status_matchers.h"
#include "tessera/models/registry.h"
#include "tessera/serving/http_server.h"

namespace tessera::serving {
namespace {

using ::testing::HasSubstr;

constexpr char kGpu[] = "H100-SXM5-80GB";

// Runs every batch for a fixed time, records batch sizes and checks that assignments sharing a
// partition never run at once (the plan's temporal sharing).
class FakeBackend : public Backend {
 public:
  explicit FakeBackend(std::chrono::milliseconds batch_time) : batch_time_(batch_time) {}
  std::string_view name() const override { return "fake"; }
  absl::Status Start(const std::vector<SlotInfo>& slots) override {
    slots_ = slots;
    return start_status_;
  }
  absl::Status RunBatch(int slot, int executor, int batch) override {
    int partition = slots_[slot].partition_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batches_.push_back({slot, batch});
      for (const auto& [other, running] : running_) {
        if (running > 0 && other != slot && slots_[other].partition_id == partition)
          overlap_ = true;
      }
      ++running_[slot];
    }
    std::this_thread::sleep_for(batch_time_);
    std::lock_guard<std::mutex> lock(mu_);
    --running_[slot];
    return fail_ ? absl::InternalError("device lost") : absl::OkStatus();
  }
  void Stop() override { stopped_ = true; }

  std::mutex mu_;
  std::vector<std::pair<int, int>> batches_;  // (slot, size)
  std::map<int, int> running_;
  bool overlap_ = false;
  std::atomic<bool> fail_{false};
  std::atomic<bool> stopped_{false};
  absl::Status start_status_;

 private:
  std::chrono::milliseconds batch_time_;
  std::vector<SlotInfo> slots_;
};

plan::Assignment Assign(std::string model, int batch, int input_max, double share = 1,
                        int input_min = 0) {
  plan::Assignment a;
  a.model = std::move(model);
  a.batch = batch;
  a.input_max = input_max;
  a.input_min = input_min;
  a.share = share;
  return a;
}

// Model "a" on sm:64 (inputs up to 64) and "b" in two buckets sharing sm:32; a batch of any size
// takes `ms` (profiles say so, and the fake backend sleeps that long).
struct World {
  perf::ProfileTable profiles;
  plan::Plan plan;
  explicit World(double ms = 5) {
    for (int sms : {32, 64}) {
      for (const char* model : {"a", "b"}) {
        for (int input : {64, 128}) {
          for (int b = 1; b <= 16; b *= 2) {
            perf::ProfileRow row;
            row.key = {kGpu, hw::Partition::Sm(sms), model, input, b, 1};
            row.latency_ms = ms;
            TESSERA_CHECK(profiles.Add(row).ok());
          }
        }
      }
    }
    plan.gpus.push_back({0, "", kGpu, {}});
    plan.gpus[0].partitions.push_back({hw::Partition::Sm(64), std::nullopt, {Assign("a", 4, 64)}});
    plan.gpus[0].partitions.push_back({hw::Partition::Sm(32),
                                       std::nullopt,
                                       {Assign("b", 2, 64, 0.5), Assign("b", 2, 128, 0.5, 65)}});
  }
};

// Submits and waits for the outcome.
Outcome Call(Scheduler& s, std::string_view model, int input, double slo_ms = 1000) {
  std::promise<Outcome> p;
  s.Submit(model, input, slo_ms, [&](const Outcome& o) { p.set_value(o); });
  return p.get_future().get();
}

struct Running {
  World world;
  FakeBackend backend;
  Scheduler scheduler;
  explicit Running(SchedulerOptions options = {}, int batch_ms = 5)
      : world(batch_ms),
        backend(std::chrono::milliseconds(batch_ms)),
        scheduler(world.plan, *sim::ExecutionTimes::Build(world.plan, world.profiles), &backend,
                  options) {}
};

TEST(SchedulerTest, ServesAndRefusesWithReasons) {
  Running r;
  ASSERT_OK(r.scheduler.Start(nullptr));
  EXPECT_THAT(r.scheduler.Models(), ::testing::ElementsAre("a", "b"));
  Outcome ok = Call(r.scheduler, "a", 50);
  EXPECT_EQ(ok.code, OutcomeCode::kOk);
  EXPECT_EQ(ok.slot, 0);
  EXPECT_TRUE(ok.within_slo);
  EXPECT_GE(ok.latency_ns, 5'000'000);
  EXPECT_EQ(Call(r.scheduler, "b", 100).slot, 2);  // the 65..128 bucket
  Outcome unknown = Call(r.scheduler, "c", 10);
  EXPECT_EQ(unknown.code, OutcomeCode::kUnknownModel);
  EXPECT_THAT(unknown.message, HasSubstr("served: a, b"));
  EXPECT_EQ(Call(r.scheduler, "a", 65).code, OutcomeCode::kNoBucket);
  EXPECT_FALSE(Call(r.scheduler, "a", 10, /*slo_ms=*/1).within_slo);
  r.scheduler.Stop();
  EXPECT_TRUE(r.backend.stopped_);
}

TEST(SchedulerTest, FullBatchesWhenRequestsWait) {
  Running r;
  ASSERT_OK(r.scheduler.Start(nullptr));
  std::atomic<int> answered{0};
  for (int i = 0; i < 12; ++i) {
    r.scheduler.Submit("a", 64, 1000,
                       [&](const Outcome& o) { answered += o.code == OutcomeCode::kOk; });
  }
  r.scheduler.Drain();
  EXPECT_EQ(answered, 12);
  std::lock_guard<std::mutex> lock(r.backend.mu_);
  // The first request may run alone (the queue was empty); the rest fill batches of 4.
  int full = 0;
  for (auto [slot, size] : r.backend.batches_) full += size == 4;
  EXPECT_GE(full, 2);
}

TEST(SchedulerTest, AssignmentsSharingAPartitionTakeTurns) {
  Running r;
  ASSERT_OK(r.scheduler.Start(nullptr));
  std::atomic<int> answered{0};
  for (int i = 0; i < 40; ++i) {
    r.scheduler.Submit("b", i % 2 ? 30 : 100, 1000, [&](const Outcome&) { ++answered; });
  }
  r.scheduler.Drain();
  EXPECT_EQ(answered, 40);
  std::lock_guard<std::mutex> lock(r.backend.mu_);
  EXPECT_FALSE(r.backend.overlap_);
}

TEST(SchedulerTest, FullQueueRefusesAndEveryAcceptedRequestIsAnswered) {
  SchedulerOptions options;
  options.queue_slos = 0.001;  // the bound: two batches
  Running r(options, /*batch_ms=*/20);
  ASSERT_OK(r.scheduler.Start(nullptr));
  std::atomic<int> ok{0}, overloaded{0};
  for (int i = 0; i < 100; ++i) {
    r.scheduler.Submit("a", 64, 1000, [&](const Outcome& o) {
      ok += o.code == OutcomeCode::kOk;
      overloaded += o.code == OutcomeCode::kOverloaded;
    });
  }
  r.scheduler.Drain();
  SchedulerSnapshot s = r.scheduler.Snapshot();
  EXPECT_GT(overloaded, 50);
  EXPECT_EQ(ok + overloaded, 100);
  EXPECT_EQ(s.models[0].accepted, ok);
  EXPECT_EQ(s.models[0].served, ok);
  EXPECT_EQ(s.models[0].overloaded, overloaded);
  EXPECT_EQ(s.outstanding, 0);
}

TEST(SchedulerTest, DrainAnswersAcceptedAndRefusesNew) {
  Running r({}, /*batch_ms=*/30);
  ASSERT_OK(r.scheduler.Start(nullptr));
  std::atomic<int> answered{0};
  for (int i = 0; i < 6; ++i) {
    r.scheduler.Submit("a", 64, 1000,
                       [&](const Outcome& o) { answered += o.code == OutcomeCode::kOk; });
  }
  r.scheduler.Drain();
  EXPECT_EQ(answered, 6);
  EXPECT_EQ(Call(r.scheduler, "a", 64).code, OutcomeCode::kDraining);
  EXPECT_TRUE(r.scheduler.Snapshot().draining);
}

TEST(SchedulerTest, BackendFailureAnswersFailed) {
  Running r;
  r.backend.fail_ = true;
  ASSERT_OK(r.scheduler.Start(nullptr));
  Outcome o = Call(r.scheduler, "a", 64);
  EXPECT_EQ(o.code, OutcomeCode::kFailed);
  EXPECT_THAT(o.message, HasSubstr("device lost"));
  EXPECT_EQ(r.scheduler.Snapshot().models[0].failed, 1);
}

TEST(SchedulerTest, StartReportsBackendAndOptionErrors) {
  Running failing;
  failing.backend.start_status_ = absl::UnavailableError("no GPU");
  EXPECT_THAT(failing.scheduler.Start(nullptr),
              tessera::testing::StatusIs(absl::StatusCode::kUnavailable));
  SchedulerOptions bad;
  bad.queue_slos = 0;
  Running r(bad);
  EXPECT_THAT(
      r.scheduler.Start(nullptr),
      tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--queue-slos")));
}

TEST(SchedulerTest, PrometheusTextHasEveryFamily) {
  Running r;
  ASSERT_OK(r.scheduler.Start(nullptr));
  Call(r.scheduler, "a", 64);
  r.scheduler.Drain();
  std::string text = PrometheusText(r.scheduler.Snapshot(), "fake");
  for (const char* line :
       {"tessera_requests_total{model=\"a\",outcome=\"served\"} 1",
        "# TYPE tessera_request_latency_seconds summary",
        "tessera_capacity_rps{slot=\"gpus[0].partitions[0].assignments[0]\",model=\"a\"}",
        "tessera_batches_total{slot=\"gpus[0].partitions[0].assignments[0]\",model=\"a\"} 1",
        "tessera_outstanding_requests 0", "tessera_draining 1"}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
}

// Shutdown() before Serve() has entered its accept loop must still end it (cpp-httplib's stop()
// alone does nothing then).
TEST(HttpServerTest, ShutdownAtAnyMomentEndsServe) {
  ASSERT_OK_AND_ASSIGN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  for (bool before : {true, false}) {
    Running r;
    ASSERT_OK(r.scheduler.Start(nullptr));
    HttpOptions options;
    options.port = 0;
    HttpServer server(&r.scheduler, &registry, {}, options);
    ASSERT_OK(server.Bind());
    if (before) server.Shutdown();
    std::thread serving([&] { server.Serve(); });
    server.Shutdown();
    serving.join();  // would hang if the listener kept running
  }
}

}  // namespace
}  // namespace tessera::serving
