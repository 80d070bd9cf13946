// tessera/sim/simulator.h — a deterministic discrete-event simulator that replays request arrivals
// against a Plan and measures SLO attainment, latency, goodput and utilization.
//
// The path of a request: arrival (from a workload::ArrivalSource) -> router (among the plan's
// assignments for its model whose input bucket holds its size: round-robin, least-outstanding, or
// shortest-expected-completion as in ELSA) -> the assignment's FIFO queue -> dynamic batching (up
// to the plan's batch size; a batch waits for more requests at most the batch timeout, and never
// past the moment after which the oldest request would miss its SLO although dispatching now would
// meet it) -> execution on one of the assignment's `procs` copies for the time ExecutionTimes gives
// (the profile latency at the bucket bound and the actual batch size, optionally with noise) ->
// completion. Assignments that share a partition take turns, by deficit round-robin on expected
// batch time weighted by their shares. A request no bucket can hold is rejected and counted.
//
// Determinism: events are ordered by (time, sequence number); every random source (arrival
// generators, execution noise per partition) has its own RngStream from the one seed; the same
// inputs and seed give byte-identical metrics.
//
// Cost: work per request is a queue push and pop plus a histogram update; events are scheduled only
// for batch completions and batching deadlines, arrivals are pulled lazily from the sources, and
// latencies go into fixed-size histograms, so memory is bounded by the requests in flight, not by
// the number simulated.
//
// Example:
//   SimOptions options;  options.duration_s = 60;  options.seed = 7;
//   ASSIGN_OR_RETURN(auto sources, workload::MakeArrivalSources(w, registry, {60, 7}));
//   ASSIGN_OR_RETURN(SimResult r, Simulate({&plan, &w, &profiles, &catalog}, std::move(sources),
//   options)); std::cout << FormatSummary(r);
//
// Single-threaded; independent simulations may run on different threads.
#ifndef TESSERA_SIM_SIMULATOR_H_
#define TESSERA_SIM_SIMULATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/perf/interference.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/sim/metrics.h"
#include "tessera/workload/arrivals.h"
#include "tessera/workload/workload.h"

namespace tessera::sim {

enum class RouterKind { kRoundRobin, kLeastOutstanding, kShortestExpectedCompletion };
// "round-robin", "least-outstanding", "shortest-expected-completion" (also "sec", "elsa").
absl::StatusOr<RouterKind> ParseRouter(std::string_view name);
const char* RouterName(RouterKind kind);

struct SimOptions {
  double duration_s = 60;  // arrivals are generated in [0, duration)
  uint64_t seed = 1;
  RouterKind router = RouterKind::kShortestExpectedCompletion;
  // How long a batch may wait to fill: < 0 (default) the execution time of a full batch of that
  // assignment (wait at most one batch time), 0 dispatch at once, > 0 this many milliseconds.
  double batch_timeout_ms = -1;
  // Multiplicative execution-time noise: lognormal with this coefficient of variation (0 = none).
  double noise_cv = 0;
  // Requests arriving before this time are served but left out of the metrics.
  double warmup_s = 0;
  // After the last arrival, keep serving until every queued request completes (true), or stop the
  // clock at duration_s and report what is still queued or in service (false).
  bool drain = true;
  // Drop a request at dispatch time when it can no longer meet its SLO (counted as expired) instead
  // of serving it late. Off by default: a late request is served and counted as a miss.
  bool drop_expired = false;
  // Interference between SM partitions: a batch dispatched on an `sm:` or `mps:` partition while
  // batches run on other SM partitions of the same GPU takes interference->Slowdown(its job, those
  // batches' jobs) times its profiled time (decided at dispatch; a neighbour starting later does
  // not stretch it). MIG instances neither suffer nor cause it. Null (default): no interference.
  std::shared_ptr<const perf::InterferenceModel> interference;

  // InvalidArgument naming the field for a negative duration, warmup >= duration, negative noise.
  absl::Status Validate() const;
};

// Everything a simulation reads. All pointers must outlive the call.
struct SimInputs {
  const plan::Plan* plan = nullptr;
  const workload::Workload* workload = nullptr;
  const perf::ProfileTable* profiles = nullptr;
  const hw::Catalog* catalog = nullptr;
};

// Runs the simulation over the given arrival sources (their model indices refer to
// inputs.workload->models). Errors: InvalidArgument for options or for a plan whose assignments
// cannot be timed from the profiles (the message names the assignment and the missing profile), or
// a source's status if a trace fails to read.
absl::StatusOr<SimResult> Simulate(const SimInputs& inputs,
                                   std::vector<std::unique_ptr<workload::ArrivalSource>> sources,
                                   const SimOptions& options);

}  // namespace tessera::sim

#endif  // TESSERA_SIM_SIMULATOR_H_
