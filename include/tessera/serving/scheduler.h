// tessera/serving/scheduler.h — the server's core without HTTP: per-assignment bounded queues, the
// simulator's router and batching rule in real time, deficit round-robin between assignments that
// share a partition, one executor thread per copy (`procs`) calling a Backend, and graceful drain.
//
// The path of a request: Submit(model, input, slo) -> the bucket of the plan that holds `input`
// -> among that bucket's assignments, the one with the shortest expected completion (as the
// simulator's default router) -> its FIFO queue, or an immediate kOverloaded when that queue
// already holds more work than a few SLOs (SchedulerOptions::queue_slos) -> a batch
// (sim/batching.h: full batch, batch timeout, or the last moment the oldest request can still meet
// its deadline; size capped so the oldest meets it) -> an executor thread of the assignment runs
// Backend::RunBatch -> every request of the batch is answered through its callback with its
// latency. Assignments on one partition take turns as in the simulator: the owner keeps the
// partition while its batches run and its deficit lasts; otherwise deficit round-robin weighted by
// `share` on expected batch time.
//
// Every accepted request is answered exactly once (kOk, or kFailed when the backend fails);
// Drain() refuses new requests (kDraining) and returns when every accepted one is answered.
//
// Differences from the simulator, by design: each request brings its own SLO, and the batching
// rule reads the oldest request's deadline (the simulator has one SLO per model, so the two agree
// when a model's requests share one); the router's estimate of when an executor frees up uses the
// profiled batch time, without the emulated backend's noise or interference.
//
// Example:
//   ASSIGN_OR_RETURN(auto times, sim::ExecutionTimes::Build(plan, profiles));
//   Scheduler scheduler(plan, std::move(times), backend.get(), {});
//   RETURN_IF_ERROR(scheduler.Start());
//   scheduler.Submit("resnet50", 224, /*slo_ms=*/100, [](const Outcome& o) { ... });
//   scheduler.Drain();  scheduler.Stop();
//
// Thread-safe: Submit, Snapshot and Drain may be called from any thread. Callbacks run on the
// completion thread (or on the submitting thread for immediate refusals), outside the lock; they
// must not block for long.
#ifndef TESSERA_SERVING_SCHEDULER_H_
#define TESSERA_SERVING_SCHEDULER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "tessera/plan/plan.h"
#include "tessera/serving/backend.h"
#include "tessera/sim/execution.h"
#include "tessera/sim/metrics.h"

namespace tessera::serving {

struct SchedulerOptions {
  // How long a batch may wait to fill: < 0 one full-batch time of its assignment (the simulator's
  // default), 0 none, > 0 this many milliseconds.
  double batch_timeout_ms = -1;
  // A request is refused with kOverloaded (HTTP 429) when its queue already holds `queue_slos`
  // of its SLOs' worth of the assignment's full-speed work (batch x procs / full-batch time x
  // queue_slos x SLO requests, at least two batches): it would wait that long and miss anyway.
  double queue_slos = 3;
  absl::Status Validate() const;  // InvalidArgument naming the field
};

enum class OutcomeCode {
  kOk,            // served
  kUnknownModel,  // the plan serves no such model
  kNoBucket,      // no bucket of the model holds the input size
  kOverloaded,    // the chosen queue is full
  kDraining,      // the server is shutting down
  kFailed,        // the backend failed the batch
};
// "ok", "unknown-model", "no-bucket", "overloaded", "draining", "failed".
const char* OutcomeName(OutcomeCode code);

struct Outcome {
  OutcomeCode code = OutcomeCode::kOk;
  std::string message;     // why, for a refusal or a failure
  int slot = -1;           // the assignment that served it (-1: refused before routing)
  int batch = 0;           // the size of the batch it ran in
  int64_t queue_ns = 0;    // arrival to dispatch
  int64_t latency_ns = 0;  // arrival to completion
  bool within_slo = false;
};
using Callback = std::function<void(const Outcome&)>;

// What the server has done so far, for /metrics.
struct SchedulerSnapshot {
  struct Model {
    std::string model;
    int64_t accepted = 0, served = 0, within_slo = 0, failed = 0;
    int64_t no_bucket = 0, overloaded = 0, draining = 0;  // refused
    sim::LatencyHistogram latency;                        // served requests, arrival to completion
  };
  struct Slot {
    std::string where;  // gpus[0].partitions[1].assignments[0]
    std::string model;
    int64_t queued = 0, in_flight = 0, batches = 0, requests = 0;
    double capacity_rps = 0;  // batch x procs / full-batch time
    double busy_s = 0;        // executor-seconds spent in RunBatch
  };
  std::vector<Model> models;  // sorted by name
  std::vector<Slot> slots;    // slot order
  int64_t unknown_model = 0;  // requests for a model the plan does not serve
  int64_t outstanding = 0;    // accepted and not yet answered
  bool draining = false;
  double uptime_s = 0;
};

class Scheduler {
 public:
  // `backend` must outlive the scheduler; `times` must be built from `plan`.
  Scheduler(const plan::Plan& plan, sim::ExecutionTimes times, Backend* backend,
            const SchedulerOptions& options);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the backend (Backend::Start; on its failure Backend::Stop) and the executor, timer and
  // completion threads. Errors: invalid options, the backend's error. REQUIRES: called once.
  absl::Status Start(const hw::Catalog* catalog);
  // Routes and queues one request of `model` (canonical name) with input size `input`, due
  // `slo_ms` after now; `done` is called exactly once with the outcome. REQUIRES: Start() was OK.
  void Submit(std::string_view model, int input, double slo_ms, Callback done);
  // Refuses new requests from now on, starts every waiting batch without waiting for it to fill,
  // and waits until every accepted request is answered. Not from a callback (it would wait for
  // itself).
  void Drain();
  // Drain(), then stops the threads and the backend. Idempotent; from one thread (the owner's),
  // not from a callback.
  void Stop();
  SchedulerSnapshot Snapshot() const;
  // The models the plan serves, sorted. REQUIRES (as for the next two): Start() was OK.
  std::vector<std::string> Models() const;
  // `gpus[0].partitions[1].assignments[0]` for a slot index ("" for -1).
  std::string_view SlotName(int slot) const;
  std::string_view backend_name() const { return backend_->name(); }

 private:
  struct Request {
    int64_t arrival = 0, deadline = 0;
    Callback done;
  };
  struct Batch {
    std::vector<Request> requests;
    int64_t dispatched = 0;
    // Set when it has run:
    int slot = 0;
    absl::Status status;
    int64_t started = 0, finished = 0;
  };
  struct Executor {
    int slot = 0;
    int local = 0;                // 0..procs-1 within its slot
    int index = 0;                // in executors_
    std::unique_ptr<Batch> work;  // set by Dispatch, taken by the thread
    std::condition_variable wake;
    std::thread thread;
  };
  struct SlotState;
  struct PartitionState;
  struct BucketState;

  int64_t Now() const;
  int Route(int model, int input, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t ExpectedCompletion(int slot, int64_t now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Ready(int slot, int64_t now, int64_t* wake) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int BatchSize(int slot, int64_t now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TryDispatch(int partition, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool MaybeDispatch(int slot, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Dispatch(int slot, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmTimer(int slot, int64_t wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BuildState();  // slots, partitions, buckets and executors from the plan
  void RunExecutor(Executor* executor);
  void RunTimers();
  // Answers the finished batches' requests, on a thread of its own so that an executor starts its
  // next batch at once rather than after waking every caller of the last one.
  void RunCompletions();
  void Finish(Batch& batch);

  const plan::Plan& plan_;
  const sim::ExecutionTimes times_;
  Backend* const backend_;
  const SchedulerOptions options_;
  const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();

  mutable std::mutex mu_;
  std::condition_variable idle_;        // outstanding_ reached 0
  std::condition_variable timer_wake_;  // an earlier timer was armed, or stopping
  std::vector<SlotState> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<PartitionState> partitions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> model_names_;  // sorted; index = model id; fixed after Start
  std::vector<std::string> slot_names_;   // fixed after Start
  std::vector<std::vector<BucketState>> buckets_ ABSL_GUARDED_BY(mu_);  // per model id
  std::vector<SchedulerSnapshot::Model> model_stats_ ABSL_GUARDED_BY(mu_);
  std::vector<int> ready_scratch_ ABSL_GUARDED_BY(mu_);
  int64_t unknown_model_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Executor>> executors_;
  std::thread timer_thread_;
  std::thread completion_thread_;
  std::condition_variable completion_wake_;
  std::deque<std::unique_ptr<Batch>> finished_ ABSL_GUARDED_BY(mu_);
  int64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tessera::serving

#endif  // TESSERA_SERVING_SCHEDULER_H_
