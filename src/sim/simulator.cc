#include "tessera/sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>

#include "fmt/core.h"
#include "internal/engine_state.h"
#include "internal/ring.h"
#include "internal/source_heap.h"
#include "tessera/base/status.h"
#include "tessera/sim/batching.h"
#include "tessera/sim/execution.h"
#include "tessera/sim/interference_tracker.h"

namespace tessera::sim {
namespace {

using internal::Bucket;
using internal::Event;
using internal::kComplete;
using internal::kNever;
using internal::kTimer;
using internal::PartitionState;
using internal::SecondsToNs;
using internal::Slot;

class Engine {
 public:
  Engine(const SimInputs& inputs, const SimOptions& options, ExecutionTimes times)
      : inputs_(inputs), options_(options), times_(std::move(times)) {}

  absl::Status Init();
  absl::StatusOr<SimResult> Run(std::vector<std::unique_ptr<workload::ArrivalSource>> sources);

 private:
  void OnArrival(const workload::Arrival& arrival);
  int Route(int model, int input, int64_t now);
  int64_t ExpectedCompletion(const Slot& s, int64_t now) const;
  void TryDispatch(int partition, int64_t now);
  // Dispatches from `slot` if its batching rule says so now; otherwise arms its timer. Returns
  // whether a batch was started.
  bool MaybeDispatch(int slot, int64_t now);
  void ArmTimer(int slot, int64_t wake);
  bool Ready(int slot, int64_t now, int64_t* wake) const;
  void Dispatch(int slot, int64_t now);
  void DropExpired(int slot, int64_t now);
  // The batching rule (batching.h) applied to `s`'s queue.
  int BatchSizeNow(const Slot& s, int slot, int64_t now) const;
  static QueueHead Head(const Slot& s) {
    return {s.queue.size(), s.queue.front(), s.queue.front() + s.slo_ns};
  }
  void OnComplete(const Event& e);
  void Schedule(int64_t time, int slot, int kind, uint64_t payload) {
    events_.push({time, seq_++, slot, kind, payload});
  }
  bool Counted(int64_t arrival_ns) const { return arrival_ns >= warmup_ns_; }
  void Finish(SimResult& result);

  const SimInputs& inputs_;
  const SimOptions& options_;
  ExecutionTimes times_;
  int64_t duration_ns_ = 0, warmup_ns_ = 0;
  std::vector<Slot> slots_;
  std::vector<PartitionState> partitions_;
  std::vector<std::vector<Bucket>> buckets_;  // per workload model, by input_max ascending
  std::vector<ModelMetrics> metrics_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::vector<int> ready_scratch_;
  InterferenceTracker interference_{options_.interference.get()};
  uint64_t seq_ = 0;
  int64_t processed_ = 0;
};

absl::Status Engine::Init() {
  const plan::Plan& plan = *inputs_.plan;
  const workload::Workload& workload = *inputs_.workload;
  duration_ns_ = SecondsToNs(options_.duration_s);
  warmup_ns_ = SecondsToNs(options_.warmup_s);
  buckets_.resize(workload.models.size());
  for (const workload::WorkloadModel& m : workload.models) {
    ModelMetrics metrics;
    metrics.model = m.model;
    metrics.slo_ms = m.slo_ms;
    metrics_.push_back(std::move(metrics));
  }
  int partition_index = -1;
  for (int slot = 0; slot < times_.slots(); ++slot) {
    const SlotRef& ref = times_.ref(slot);
    const plan::PlanPartition& pp = plan.gpus[ref.gpu].partitions[ref.partition];
    const plan::Assignment& a = pp.assignments[ref.assignment];
    if (ref.assignment == 0) {
      ++partition_index;
      partitions_.emplace_back(RngStream(options_.seed, 1'000'000 + partition_index));
      PartitionMetrics& pm = partitions_.back().metrics;
      pm.gpu = plan.gpus[ref.gpu].index;
      pm.partition = pp.partition.ToString() + (pp.start ? fmt::format("@{}", *pp.start) : "");
    }
    Slot s;
    s.model = workload.ModelIndex(a.model);
    s.partition = partition_index;
    s.batch = a.batch;
    s.procs = a.procs;
    s.share = a.share;
    s.full_batch_ns = times_.BatchNs(slot, a.batch);
    s.batch_ns_per_executor = s.full_batch_ns / a.procs;
    s.backlog_ns = s.batch_ns_per_executor;
    s.slo_ns = s.model >= 0 ? SecondsToNs(workload.models[s.model].slo_ms / 1e3) : kNever;
    s.timeout_ns = options_.batch_timeout_ms < 0 ? s.full_batch_ns
                                                 : SecondsToNs(options_.batch_timeout_ms / 1e3);
    s.free_at.assign(a.procs, 0);
    PartitionState& ps = partitions_.back();
    ps.slots.push_back(slot);
    ps.quantum_ns = std::max(ps.quantum_ns, static_cast<double>(s.full_batch_ns));
    ps.metrics.executors = std::max(ps.metrics.executors, a.procs);
    if (s.model >= 0) {
      std::vector<Bucket>& buckets = buckets_[s.model];
      auto it = std::find_if(buckets.begin(), buckets.end(), [&](const Bucket& b) {
        return b.input_min == a.input_min && b.input_max == a.input_max;
      });
      if (it == buckets.end())
        it = buckets.insert(buckets.end(), {a.input_min, a.input_max, {}, 0});
      it->slots.push_back(slot);
    }
    slots_.push_back(std::move(s));
  }
  for (auto& buckets : buckets_) {
    std::stable_sort(buckets.begin(), buckets.end(),
                     [](const Bucket& x, const Bucket& y) { return x.input_max < y.input_max; });
  }
  interference_.AddPlan(plan, times_, inputs_.catalog);
  return absl::OkStatus();
}

// Among `bucket`'s slots, the one with the lowest cost; ties go round-robin so that equal replicas
// share the load.
template <typename Cost>
int Cheapest(Bucket& bucket, const Cost& cost) {
  const std::vector<int>& c = bucket.slots;
  size_t start = bucket.NextInTurn();
  int best = c[start];
  auto best_cost = cost(best);
  auto visit = [&](size_t k) {  // branch-free: which slot is cheapest is unpredictable
    auto slot_cost = cost(c[k]);
    bool cheaper = slot_cost < best_cost;
    best = cheaper ? c[k] : best;
    best_cost = cheaper ? slot_cost : best_cost;
  };
  // From start + 1 to the end, then from 0 to start - 1: round-robin order without a division.
  for (size_t k = start + 1; k < c.size(); ++k) visit(k);
  for (size_t k = 0; k < start; ++k) visit(k);
  return best;
}

int Engine::Route(int model, int input, int64_t now) {
  for (Bucket& bucket : buckets_[model]) {
    if (input < bucket.input_min || input > bucket.input_max) continue;
    if (bucket.slots.size() == 1) return bucket.slots[0];
    switch (options_.router) {
      case RouterKind::kRoundRobin:
        return bucket.slots[bucket.NextInTurn()];
      case RouterKind::kLeastOutstanding:
        return Cheapest(bucket, [&](int x) { return slots_[x].outstanding; });
      case RouterKind::kShortestExpectedCompletion:
        return Cheapest(bucket, [&](int x) { return ExpectedCompletion(slots_[x], now); });
    }
  }
  return -1;
}

// When a request joining `s` now would finish: the next free executor, then the batches ahead of it
// spread over the executors.
int64_t Engine::ExpectedCompletion(const Slot& s, int64_t now) const {
  return std::max(s.free_at_or_zero, now) + s.backlog_ns;
}

void Engine::OnArrival(const workload::Arrival& arrival) {
  ModelMetrics& m = metrics_[arrival.model];
  bool counted = Counted(arrival.time_ns);
  if (counted) ++m.arrivals;
  int slot = Route(arrival.model, arrival.input, arrival.time_ns);
  if (slot < 0) {
    if (counted) ++m.rejected;
    return;
  }
  Slot& s = slots_[slot];
  s.Push(arrival.time_ns);
  ++s.outstanding;
  if (s.busy < s.procs) TryDispatch(s.partition, arrival.time_ns);
}

// Whether `s` should start a batch now; if not, *wake is when it should (kNever: empty queue).
bool Engine::Ready(int slot, int64_t now, int64_t* wake) const {
  const Slot& s = slots_[slot];
  *wake = kNever;
  if (s.queue.empty()) return false;
  return BatchReady(times_, slot, Head(s), s.batch, s.timeout_ns, now, wake);
}

// Drops queued requests that would miss their SLO even alone in a batch dispatched now.
void Engine::DropExpired(int slot, int64_t now) {
  Slot& s = slots_[slot];
  while (!s.queue.empty() && s.queue.front() + s.slo_ns < now + times_.BatchNs(slot, 1)) {
    int64_t arrival = s.Pop();
    --s.outstanding;
    if (Counted(arrival)) ++metrics_[s.model].expired;
  }
}

int Engine::BatchSizeNow(const Slot& s, int slot, int64_t now) const {
  return sim::BatchSizeNow(times_, slot, Head(s), s.batch, now);
}

void Engine::Dispatch(int slot, int64_t now) {
  Slot& s = slots_[slot];
  PartitionState& p = partitions_[s.partition];
  int n = BatchSizeNow(s, slot, now);
  int64_t exec = times_.NoisyBatchNs(slot, n, options_.noise_cv, p.noise);
  if (interference_.Tracks(slot)) {
    double factor = interference_.Start(slot);
    if (factor != 1) exec = std::max<int64_t>(1, std::llround(static_cast<double>(exec) * factor));
  }
  int64_t done = now + exec;
  ModelMetrics& m = metrics_[s.model];
  bool finishes = options_.drain || done <= duration_ns_;
  for (int i = 0; i < n; ++i) {
    int64_t arrival = s.Pop();
    if (!Counted(arrival)) continue;
    if (!finishes) {
      ++m.in_service;
      continue;
    }
    ++m.completed;
    m.within_slo += (done - arrival <= s.slo_ns);
    m.latency.Record(done - arrival);
    m.queueing.Record(now - arrival);
  }
  ++s.busy;
  *std::min_element(s.free_at.begin(), s.free_at.end()) = done;
  s.UpdateFreeAt();
  int64_t busy_from = std::max(now, warmup_ns_);
  int64_t busy_to = std::min(done, duration_ns_);  // the measured window ends at the duration
  p.busy_ns += std::max<int64_t>(0, busy_to - busy_from);
  ++p.batches;
  p.requests += n;
  Schedule(done, slot, kComplete, static_cast<uint64_t>(n));
}

bool Engine::MaybeDispatch(int slot, int64_t now) {
  Slot& s = slots_[slot];
  if (s.busy >= s.procs) return false;  // a completion will call again
  if (options_.drop_expired) DropExpired(slot, now);
  int64_t wake;
  if (Ready(slot, now, &wake)) {
    Dispatch(slot, now);
    return true;
  }
  ArmTimer(slot, wake);
  return false;
}

// Makes sure `slot` is woken at `wake` (> now) unless an earlier wake-up is already pending.
void Engine::ArmTimer(int slot, int64_t wake) {
  Slot& s = slots_[slot];
  if (wake == kNever || wake >= s.timer_at) return;
  s.timer_at = wake;
  Schedule(wake, slot, kTimer, ++s.timer_version);
}

void Engine::TryDispatch(int partition, int64_t now) {
  PartitionState& p = partitions_[partition];
  if (p.slots.size() == 1) {
    while (MaybeDispatch(p.slots[0], now)) {
    }
    return;
  }
  // Several slots take turns: the owner keeps the partition while it has batches in flight and
  // deficit left; otherwise deficit round-robin picks the next slot that is ready.
  if (p.owner >= 0 && slots_[p.owner].busy > 0) {
    Slot& owner = slots_[p.owner];
    while (!owner.queue.empty() &&
           owner.deficit >= times_.BatchNs(p.owner, BatchSizeNow(owner, p.owner, now)) &&
           owner.busy < owner.procs) {
      int n = BatchSizeNow(owner, p.owner, now);
      if (!MaybeDispatch(p.owner, now)) break;
      owner.deficit -= times_.BatchNs(p.owner, n);
    }
    if (owner.busy > 0) return;
  }
  int chosen = DeficitRoundRobin(
      p.slots, p.quantum_ns, slots_, &p.next, ready_scratch_,
      [&](int slot) {
        if (options_.drop_expired) DropExpired(slot, now);
        int64_t wake;
        if (Ready(slot, now, &wake)) return true;
        ArmTimer(slot, wake);
        return false;
      },
      [&](int slot) { return times_.BatchNs(slot, BatchSizeNow(slots_[slot], slot, now)); });
  if (chosen < 0) return;
  p.owner = chosen;
  Dispatch(chosen, now);
}

void Engine::OnComplete(const Event& e) {
  Slot& s = slots_[e.slot];
  if (interference_.Tracks(e.slot)) interference_.Finish(e.slot);
  --s.busy;
  s.UpdateFreeAt();
  s.outstanding -= static_cast<int64_t>(e.payload);
  TryDispatch(s.partition, e.time);
}

absl::StatusOr<SimResult> Engine::Run(
    std::vector<std::unique_ptr<workload::ArrivalSource>> sources) {
  // The next arrival of each source, and the sources ordered by it.
  std::vector<workload::Arrival> next(sources.size());
  internal::SourceHeap heap;
  auto pull = [&](uint32_t i) {
    return sources[i]->Next(next[i]) && next[i].time_ns < duration_ns_;
  };
  for (uint32_t i = 0; i < sources.size(); ++i) {
    if (pull(i)) heap.Push({next[i].time_ns, i});
  }
  int num_models = static_cast<int>(metrics_.size());
  while (!heap.empty() || !events_.empty()) {
    bool take_event = !events_.empty() && (heap.empty() || events_.top().time <= heap.top().time);
    int64_t now = take_event ? events_.top().time : heap.top().time;
    if (!options_.drain && now > duration_ns_) break;
    ++processed_;
    if (take_event) {
      Event e = events_.top();
      events_.pop();
      if (e.kind == kComplete) {
        OnComplete(e);
      } else if (e.payload == slots_[e.slot].timer_version) {
        slots_[e.slot].timer_at = kNever;
        TryDispatch(slots_[e.slot].partition, e.time);
      }
      continue;
    }
    uint32_t source = heap.top().source;
    const workload::Arrival& arrival = next[source];
    if (arrival.model < 0 || arrival.model >= num_models) {
      return absl::InternalError(fmt::format("arrival for model index {}", arrival.model));
    }
    OnArrival(arrival);
    if (pull(source)) {
      heap.ReplaceTop({next[source].time_ns, source});
    } else {
      heap.PopTop();
    }
  }
  for (const auto& source : sources) RETURN_IF_ERROR(source->status());
  SimResult result;
  Finish(result);
  return result;
}

void Engine::Finish(SimResult& result) {
  for (const Slot& s : slots_) {
    if (s.model < 0) continue;
    internal::Ring rest = s.queue;
    while (!rest.empty()) metrics_[s.model].queued += Counted(rest.pop());
  }
  result.duration_s = options_.duration_s;
  result.measured_s = options_.duration_s - options_.warmup_s;
  result.seed = options_.seed;
  result.router = RouterName(options_.router);
  result.events = processed_;
  result.models = std::move(metrics_);
  double window_ns = static_cast<double>(duration_ns_ - warmup_ns_);
  for (PartitionState& p : partitions_) {
    PartitionMetrics pm = p.metrics;
    pm.batches = p.batches;
    pm.mean_batch = p.batches ? static_cast<double>(p.requests) / p.batches : 0;
    pm.busy_fraction = static_cast<double>(p.busy_ns) / (pm.executors * window_ns);
    result.partitions.push_back(pm);
  }
  for (const plan::PlanGpu& gpu : inputs_.plan->gpus) {
    bool used = std::any_of(gpu.partitions.begin(), gpu.partitions.end(),
                            [](const plan::PlanPartition& p) { return !p.assignments.empty(); });
    result.gpus_used += used;
  }
}

}  // namespace

absl::StatusOr<SimResult> Simulate(const SimInputs& inputs,
                                   std::vector<std::unique_ptr<workload::ArrivalSource>> sources,
                                   const SimOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  TESSERA_CHECK(inputs.plan && inputs.workload && inputs.profiles);
  ASSIGN_OR_RETURN(ExecutionTimes times, ExecutionTimes::Build(*inputs.plan, *inputs.profiles));
  Engine engine(inputs, options, std::move(times));
  RETURN_IF_ERROR(engine.Init());
  return engine.Run(std::move(sources));
}

}  // namespace tessera::sim
