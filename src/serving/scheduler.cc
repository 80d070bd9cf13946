#include "tessera/serving/scheduler.h"

#include <algorithm>
#include <cmath>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"
#include "tessera/sim/batching.h"

namespace tessera::serving {

using sim::kNeverNs;

struct Scheduler::SlotState {
  std::string where;
  int model = 0;  // index into model_names_
  int partition = 0;
  int batch = 1;
  int procs = 1;
  double share = 1;
  int64_t timeout_ns = 0;
  int64_t full_batch_ns = 0;
  int64_t batch_ns_per_executor = 0;
  double capacity_rps = 0;  // batch x procs / full-batch time
  std::deque<Request> queue;
  int busy = 0;
  std::vector<int64_t> free_at;  // per executor: when its batch should end
  std::vector<int> idle;         // indices into executors_
  double deficit = 0;
  int64_t timer_at = kNeverNs;
  int64_t batches = 0, requests = 0, in_flight = 0;
  double busy_s = 0;
};

struct Scheduler::PartitionState {
  std::vector<int> slots;
  int owner = -1;
  size_t next = 0;
  double quantum_ns = 0;
};

struct Scheduler::BucketState {
  int input_min = 0, input_max = 0;
  std::vector<int> slots;
  size_t round_robin = 0;
};

const char* OutcomeName(OutcomeCode code) {
  switch (code) {
    case OutcomeCode::kOk:
      return "ok";
    case OutcomeCode::kUnknownModel:
      return "unknown-model";
    case OutcomeCode::kNoBucket:
      return "no-bucket";
    case OutcomeCode::kOverloaded:
      return "overloaded";
    case OutcomeCode::kDraining:
      return "draining";
    case OutcomeCode::kFailed:
      return "failed";
  }
  return "?";
}

namespace {

constexpr double kMaxMs = 1e7;  // SLOs and timeouts beyond 2.8 hours are refused or cut to it

// How many requests a queue may hold for a request due in `slo_ms`.
template <typename SlotState>
size_t QueueBound(const SlotState& s, double slo_ms, double queue_slos) {
  double work = s.capacity_rps * queue_slos * std::min(slo_ms, kMaxMs) / 1e3;
  work = std::min(work, 1e9);
  return std::max<size_t>(2 * s.batch, static_cast<size_t>(std::ceil(work)));
}

Outcome Refusal(OutcomeCode code, std::string message) {
  Outcome o;
  o.code = code;
  o.message = std::move(message);
  return o;
}

}  // namespace

absl::Status SchedulerOptions::Validate() const {
  if (!std::isfinite(batch_timeout_ms) || batch_timeout_ms > kMaxMs) {
    return absl::InvalidArgumentError(fmt::format(
        "--batch-timeout-ms: must be a number up to {} (< 0: one full-batch time), got {}", kMaxMs,
        batch_timeout_ms));
  }
  if (!(queue_slos > 0) || !std::isfinite(queue_slos)) {
    return absl::InvalidArgumentError(fmt::format(
        "--queue-slos: must be > 0 (SLOs of work a queue may hold), got {}", queue_slos));
  }
  return absl::OkStatus();
}

Scheduler::Scheduler(const plan::Plan& plan, sim::ExecutionTimes times, Backend* backend,
                     const SchedulerOptions& options)
    : plan_(plan), times_(std::move(times)), backend_(backend), options_(options) {}

Scheduler::~Scheduler() { Stop(); }

int64_t Scheduler::Now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              epoch_)
      .count();
}

absl::Status Scheduler::Start(const hw::Catalog* catalog) {
  RETURN_IF_ERROR(options_.Validate());
  BuildState();
  // The backend may take long (weights, graph captures, worker processes): no lock held.
  absl::Status started = backend_->Start(DescribeSlots(plan_, catalog));
  if (!started.ok()) {
    backend_->Stop();
    return started;
  }
  started_ = true;
  for (auto& executor : executors_) {
    executor->thread = std::thread([this, e = executor.get()] { RunExecutor(e); });
  }
  timer_thread_ = std::thread([this] { RunTimers(); });
  completion_thread_ = std::thread([this] { RunCompletions(); });
  return absl::OkStatus();
}

void Scheduler::BuildState() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int slot = 0; slot < times_.slots(); ++slot) {
    const plan::Assignment& a = plan_.gpus[times_.ref(slot).gpu]
                                    .partitions[times_.ref(slot).partition]
                                    .assignments[times_.ref(slot).assignment];
    model_names_.push_back(a.model);
  }
  std::sort(model_names_.begin(), model_names_.end());
  model_names_.erase(std::unique(model_names_.begin(), model_names_.end()), model_names_.end());
  buckets_.resize(model_names_.size());
  model_stats_.resize(model_names_.size());
  for (size_t i = 0; i < model_names_.size(); ++i) model_stats_[i].model = model_names_[i];
  for (int slot = 0; slot < times_.slots(); ++slot) {
    const sim::SlotRef& ref = times_.ref(slot);
    const plan::Assignment& a =
        plan_.gpus[ref.gpu].partitions[ref.partition].assignments[ref.assignment];
    if (ref.assignment == 0) partitions_.emplace_back();
    SlotState s;
    s.where = fmt::format("gpus[{}].partitions[{}].assignments[{}]", ref.gpu, ref.partition,
                          ref.assignment);
    s.model = static_cast<int>(std::lower_bound(model_names_.begin(), model_names_.end(), a.model) -
                               model_names_.begin());
    s.partition = static_cast<int>(partitions_.size()) - 1;
    s.batch = a.batch;
    s.procs = a.procs;
    s.share = a.share;
    s.full_batch_ns = times_.BatchNs(slot, a.batch);
    s.batch_ns_per_executor = s.full_batch_ns / a.procs;
    s.timeout_ns = options_.batch_timeout_ms < 0 ? s.full_batch_ns
                                                 : std::llround(options_.batch_timeout_ms * 1e6);
    s.capacity_rps =
        a.batch * a.procs * 1e9 / static_cast<double>(std::max<int64_t>(1, s.full_batch_ns));
    s.free_at.assign(a.procs, 0);
    PartitionState& p = partitions_.back();
    p.slots.push_back(slot);
    p.quantum_ns = std::max(p.quantum_ns, static_cast<double>(s.full_batch_ns));
    std::vector<BucketState>& buckets = buckets_[s.model];
    auto it = std::find_if(buckets.begin(), buckets.end(), [&](const BucketState& b) {
      return b.input_min == a.input_min && b.input_max == a.input_max;
    });
    if (it == buckets.end()) it = buckets.insert(buckets.end(), {a.input_min, a.input_max, {}, 0});
    it->slots.push_back(slot);
    for (int local = 0; local < a.procs; ++local) {
      auto executor = std::make_unique<Executor>();
      executor->slot = slot;
      executor->local = local;
      executor->index = static_cast<int>(executors_.size());
      s.idle.push_back(static_cast<int>(executors_.size()));
      executors_.push_back(std::move(executor));
    }
    slot_names_.push_back(s.where);
    slots_.push_back(std::move(s));
  }
  for (auto& buckets : buckets_) {
    std::stable_sort(
        buckets.begin(), buckets.end(),
        [](const BucketState& x, const BucketState& y) { return x.input_max < y.input_max; });
  }
}

std::vector<std::string> Scheduler::Models() const { return model_names_; }

std::string_view Scheduler::SlotName(int slot) const {
  return slot < 0 ? std::string_view() : std::string_view(slot_names_[slot]);
}

void Scheduler::Submit(std::string_view model, int input, double slo_ms, Callback done) {
  Outcome refusal;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = Now();
    auto it = std::lower_bound(model_names_.begin(), model_names_.end(), model);
    int id = static_cast<int>(it - model_names_.begin());
    if (it == model_names_.end() || *it != model) {
      ++unknown_model_;
      refusal = Refusal(OutcomeCode::kUnknownModel,
                        fmt::format("model '{}' is not served by this plan (served: {})", model,
                                    fmt::join(model_names_, ", ")));
    } else if (draining_) {
      ++model_stats_[id].draining;
      refusal = Refusal(OutcomeCode::kDraining, "the server is shutting down; retry elsewhere");
    } else if (int slot = Route(id, input, now); slot < 0) {
      ++model_stats_[id].no_bucket;
      refusal = Refusal(OutcomeCode::kNoBucket,
                        fmt::format("no bucket of {} holds input size {}", model, input));
    } else if (SlotState& s = slots_[slot];
               s.queue.size() >= QueueBound(s, slo_ms, options_.queue_slos)) {
      ++model_stats_[id].overloaded;
      refusal = Refusal(
          OutcomeCode::kOverloaded,
          fmt::format(
              "{} is overloaded: {} requests queued, {:.0f} ms of work, more than {} SLOs of "
              "{} ms; retry later",
              s.where, s.queue.size(), s.queue.size() * 1e3 / s.capacity_rps, options_.queue_slos,
              slo_ms));
    } else {
      int64_t deadline = now + std::llround(std::clamp(slo_ms, 0.0, kMaxMs) * 1e6);
      s.queue.push_back({now, deadline, std::move(done)});
      ++outstanding_;
      ++model_stats_[id].accepted;
      if (s.busy < s.procs) TryDispatch(s.partition, now);
      return;
    }
  }
  done(refusal);
}

int Scheduler::Route(int model, int input, int64_t now) {
  for (BucketState& bucket : buckets_[model]) {
    if (input < bucket.input_min || input > bucket.input_max) continue;
    const std::vector<int>& c = bucket.slots;
    size_t start = bucket.round_robin;
    if (++bucket.round_robin == c.size()) bucket.round_robin = 0;
    int best = c[start];
    int64_t best_cost = ExpectedCompletion(best, now);
    for (size_t k = 1; k < c.size(); ++k) {
      int slot = c[(start + k) % c.size()];
      int64_t cost = ExpectedCompletion(slot, now);
      if (cost < best_cost) best = slot, best_cost = cost;
    }
    return best;
  }
  return -1;
}

// As the simulator's router: the next free executor, then the queue's full batches spread over
// the executors, then one more batch.
int64_t Scheduler::ExpectedCompletion(int slot, int64_t now) const {
  const SlotState& s = slots_[slot];
  int64_t free = s.busy < s.procs ? 0 : *std::min_element(s.free_at.begin(), s.free_at.end());
  int64_t full_batches = static_cast<int64_t>(s.queue.size()) / s.batch;
  return std::max(free, now) + s.batch_ns_per_executor * (1 + full_batches);
}

bool Scheduler::Ready(int slot, int64_t now, int64_t* wake) const {
  const SlotState& s = slots_[slot];
  *wake = kNeverNs;
  if (s.queue.empty()) return false;
  if (draining_) return true;  // no more requests will come to fill the batch
  sim::QueueHead head{s.queue.size(), s.queue.front().arrival, s.queue.front().deadline};
  return sim::BatchReady(times_, slot, head, s.batch, s.timeout_ns, now, wake);
}

int Scheduler::BatchSize(int slot, int64_t now) const {
  const SlotState& s = slots_[slot];
  sim::QueueHead head{s.queue.size(), s.queue.front().arrival, s.queue.front().deadline};
  return sim::BatchSizeNow(times_, slot, head, s.batch, now);
}

bool Scheduler::MaybeDispatch(int slot, int64_t now) {
  SlotState& s = slots_[slot];
  if (s.busy >= s.procs) return false;
  int64_t wake;
  if (Ready(slot, now, &wake)) {
    Dispatch(slot, now);
    return true;
  }
  ArmTimer(slot, wake);
  return false;
}

void Scheduler::ArmTimer(int slot, int64_t wake) {
  SlotState& s = slots_[slot];
  if (wake == kNeverNs || wake >= s.timer_at) return;
  s.timer_at = wake;
  timer_wake_.notify_one();
}

// The simulator's turn-taking (simulator.cc, TryDispatch), in real time.
void Scheduler::TryDispatch(int partition, int64_t now) {
  PartitionState& p = partitions_[partition];
  if (p.slots.size() == 1) {
    while (MaybeDispatch(p.slots[0], now)) {
    }
    return;
  }
  if (p.owner >= 0 && slots_[p.owner].busy > 0) {
    SlotState& owner = slots_[p.owner];
    while (!owner.queue.empty() && owner.busy < owner.procs &&
           owner.deficit >= times_.BatchNs(p.owner, BatchSize(p.owner, now))) {
      int n = BatchSize(p.owner, now);
      if (!MaybeDispatch(p.owner, now)) break;
      owner.deficit -= times_.BatchNs(p.owner, n);
    }
    if (owner.busy > 0) return;
  }
  int chosen = sim::DeficitRoundRobin(
      p.slots, p.quantum_ns, slots_, &p.next, ready_scratch_,
      [&](int slot) {
        int64_t wake;
        if (Ready(slot, now, &wake)) return true;
        ArmTimer(slot, wake);
        return false;
      },
      [&](int slot) { return times_.BatchNs(slot, BatchSize(slot, now)); });
  if (chosen < 0) return;
  p.owner = chosen;
  Dispatch(chosen, now);
}

void Scheduler::Dispatch(int slot, int64_t now) {
  SlotState& s = slots_[slot];
  int n = BatchSize(slot, now);
  auto batch = std::make_unique<Batch>();
  batch->dispatched = now;
  for (int i = 0; i < n; ++i) {
    batch->requests.push_back(std::move(s.queue.front()));
    s.queue.pop_front();
  }
  int index = s.idle.back();
  s.idle.pop_back();
  Executor& executor = *executors_[index];
  s.free_at[executor.local] = now + times_.BatchNs(slot, n);
  ++s.busy;
  s.in_flight += n;
  executor.work = std::move(batch);
  executor.wake.notify_one();
}

void Scheduler::RunExecutor(Executor* executor) {
  for (;;) {
    std::unique_ptr<Batch> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      executor->wake.wait(lock, [&] { return executor->work != nullptr || stopping_; });
      if (executor->work == nullptr) return;
      batch = std::move(executor->work);
    }
    batch->started = Now();
    batch->status = backend_->RunBatch(executor->slot, executor->local,
                                       static_cast<int>(batch->requests.size()));
    batch->finished = Now();
    batch->slot = executor->slot;
    std::lock_guard<std::mutex> lock(mu_);
    SlotState& s = slots_[executor->slot];
    --s.busy;
    s.free_at[executor->local] = 0;
    s.idle.push_back(executor->index);
    TryDispatch(s.partition, Now());
    finished_.push_back(std::move(batch));
    completion_wake_.notify_one();
  }
}

void Scheduler::RunCompletions() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    completion_wake_.wait(lock, [&] { return !finished_.empty() || stopping_; });
    if (finished_.empty()) return;
    std::unique_ptr<Batch> batch = std::move(finished_.front());
    finished_.pop_front();
    lock.unlock();
    Finish(*batch);
    lock.lock();
  }
}

// Counts a finished batch, answers its requests (outside the lock), then counts them as answered:
// a caller that has its answer sees it in Snapshot(), and Drain() returns only after every answer.
void Scheduler::Finish(Batch& batch) {
  int n = static_cast<int>(batch.requests.size());
  std::vector<Outcome> outcomes(n);
  for (int i = 0; i < n; ++i) {
    const Request& r = batch.requests[i];
    Outcome& o = outcomes[i];
    o.code = batch.status.ok() ? OutcomeCode::kOk : OutcomeCode::kFailed;
    if (!batch.status.ok()) o.message = std::string(batch.status.message());
    o.slot = batch.slot;
    o.batch = n;
    o.queue_ns = batch.dispatched - r.arrival;
    o.latency_ns = batch.finished - r.arrival;
    o.within_slo = batch.status.ok() && batch.finished <= r.deadline;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    SlotState& s = slots_[batch.slot];
    SchedulerSnapshot::Model& m = model_stats_[s.model];
    s.in_flight -= n;
    ++s.batches;
    s.requests += n;
    s.busy_s += static_cast<double>(batch.finished - batch.started) / 1e9;
    (batch.status.ok() ? m.served : m.failed) += n;
    for (const Outcome& o : outcomes) {
      m.within_slo += o.within_slo;
      if (batch.status.ok()) m.latency.Record(o.latency_ns);
    }
  }
  for (int i = 0; i < n; ++i) batch.requests[i].done(outcomes[i]);
  std::lock_guard<std::mutex> lock(mu_);
  outstanding_ -= n;
  if (outstanding_ == 0) idle_.notify_all();
}

void Scheduler::RunTimers() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    int64_t next = kNeverNs;
    for (const SlotState& s : slots_) next = std::min(next, s.timer_at);
    if (next == kNeverNs) {
      timer_wake_.wait(lock);
    } else {
      timer_wake_.wait_until(lock, epoch_ + std::chrono::nanoseconds(next));
    }
    int64_t now = Now();
    for (size_t slot = 0; slot < slots_.size(); ++slot) {
      if (slots_[slot].timer_at > now) continue;
      slots_[slot].timer_at = kNeverNs;
      TryDispatch(slots_[slot].partition, now);
    }
  }
}

void Scheduler::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!draining_) {
    draining_ = true;
    for (size_t p = 0; p < partitions_.size(); ++p) TryDispatch(static_cast<int>(p), Now());
  }
  idle_.wait(lock, [&] { return outstanding_ == 0; });
}

void Scheduler::Stop() {
  if (!started_) return;
  Drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& executor : executors_) executor->wake.notify_all();
    timer_wake_.notify_all();
    completion_wake_.notify_all();
  }
  for (auto& executor : executors_) executor->thread.join();
  timer_thread_.join();
  completion_thread_.join();
  backend_->Stop();
  started_ = false;
}

SchedulerSnapshot Scheduler::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerSnapshot snapshot;
  snapshot.models = model_stats_;
  for (const SlotState& s : slots_) {
    snapshot.slots.push_back({s.where, model_names_[s.model], static_cast<int64_t>(s.queue.size()),
                              s.in_flight, s.batches, s.requests, s.capacity_rps, s.busy_s});
  }
  snapshot.unknown_model = unknown_model_;
  snapshot.outstanding = outstanding_;
  snapshot.draining = draining_;
  snapshot.uptime_s = static_cast<double>(Now()) / 1e9;
  return snapshot;
}

}  // namespace tessera::serving
