// tessera/adapt/engine.h — running a policy over a trace, window by window: arrivals, queues,
// transitions and their downtime, retraining and accuracy, and the bill.
//
// The engine is a window-level fluid model, not the request-level simulator (tessera/sim): windows
// are meant to be 1 s (MIGRator's grain) to 60 s, SLOs are tens to hundreds of milliseconds, and
// what decides the result is how much capacity each tenant has in each window and how long
// reconfiguration takes it away. Per window and tenant:
//   - arrivals are counted exactly from the workload's arrival sources (the same requests the
//     simulator would see);
//   - capacity is the sum over the tenant's inference slots of rps x (seconds the slot serves in
//     the window); a slot serves from the moment it is ready (after MIG operations and process
//     startup) until it is drained;
//   - requests that arrive in the window are served first, up to capacity, and count as within
//     SLO (slot capacities already meet the SLO rule with the batching delay); what capacity is
//     left serves the backlog of earlier windows, which counts as served late; the rest waits.
//     Nothing is dropped: after the last window the backlog is served late at the final
//     allocation's capacity (or reported as still queued when it serves the tenant nowhere), so
//     every request is accounted for; `lost` is what the counters fail to account for, 0 by
//     construction and reported as a check of the bookkeeping. Capacity is whole requests: a
//     saturated tenant carries the fraction to the next window;
//   - retraining progresses at the sum of the tenant's retraining slots' samples/s over their
//     serving seconds (a job that finishes part-way through a window switches accuracy at the
//     fraction of the window its remaining samples took, as if progress were even over the
//     window); accuracy follows workload::Tenant's rules, and accuracy-weighted goodput
//     adds, per request served within SLO, the accuracy of the model at that moment (the
//     window's time-weighted accuracy).
// Transitions, at each window's start, per GPU: MIG layout changes follow hw::PlanTransitionTo
// Multiset (fewest destroy + create operations, every surviving instance untouched, busy instances
// drained first, requests rerouted to the tenant's queue, never lost), executed one operation after
// another at TransitionCosts' durations; a slot whose instance, tenant or role changed starts a new
// process (PerfBook::StartupS); with pre-initialization that startup is hidden where the instance
// exists before the switch, or is created when nothing has to happen first (no destroy before it,
// no operation of an earlier switch still queued). Downtime is the instance-seconds, summed over
// the new allocation's busy slots that start a process or resize, from the window's start until
// they are ready (an instance destroyed with no replacement adds none; its loss shows in goodput).
// Reconfigurations count windows with MIG operations, processes started or stopped, GPUs added or
// given back or SM partitions resized; a time share changing alone is not one.
//
// Example:
//   ASSIGN_OR_RETURN(auto policy, MakePolicy("migrator", context));
//   ASSIGN_OR_RETURN(AdaptResult r, RunAdaptation(context, *policy, options));
//   fmt::print("{:.1f} accuracy-weighted req/s\n", r.accuracy_goodput_rps);
#ifndef TESSERA_ADAPT_ENGINE_H_
#define TESSERA_ADAPT_ENGINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/adapt/policy.h"

namespace tessera::adapt {

struct AdaptOptions {
  double duration_s = 3600;
  // Decision window. A remainder of the duration under 1% of a window joins the last window; a
  // tenant's retraining window must be a whole number of decision windows (RunAdaptation checks).
  double window_s = 1.0;
  uint64_t seed = 1;
  double ewma_alpha = 0.3;  // weight of the newest window in the EWMA
  // InvalidArgument naming the field (duration not positive, window under 1 ms or above the
  // duration, alpha outside (0, 1]).
  absl::Status Validate() const;
};

struct TenantResult {
  std::string name;
  int64_t arrivals = 0;
  int64_t within_slo = 0;
  int64_t served_late = 0;      // in a later window, or after the run from the final backlog
  int64_t queued_at_end = 0;    // still queued after the run: the final allocation serves nobody
                                // of this tenant
  int64_t lost = 0;             // arrivals - within_slo - served_late - queued_at_end; must be 0
  double accuracy_goodput = 0;  // sum over requests within SLO of the accuracy then
  double mean_accuracy = 0;     // time-weighted over the run
  int retrainings_done = 0;
  int retrainings_due = 0;
};

struct WindowRecord {
  double time_s = 0;
  int gpus = 0;
  std::vector<double> arrivals_rps;    // per tenant
  std::vector<double> within_slo_rps;  // per tenant
  std::vector<double> accuracy;        // per tenant, at the window's end
  int mig_operations = 0;
  int restarts = 0;
  double downtime_s = 0;
};

struct AdaptResult {
  std::string policy;
  double duration_s = 0;
  double window_s = 0;
  int max_gpus = 0;
  std::vector<TenantResult> tenants;
  int64_t arrivals = 0;
  int64_t within_slo = 0;
  int64_t served_late = 0;
  int64_t queued_at_end = 0;
  int64_t lost = 0;
  double drain_s = 0;                 // time the final allocation takes to serve the final backlog
  double slo_attainment = 0;          // within_slo / arrivals
  double goodput_rps = 0;             // within_slo / duration
  double accuracy_goodput_rps = 0;    // accuracy-weighted, / duration
  double gpu_hours = 0;               // GPUs in use x time
  int reconfigurations = 0;           // windows whose allocation changed
  int mig_operations = 0;             // creates + destroys
  int restarts = 0;                   // processes started on a new or reassigned slot
  double downtime_s = 0;              // instance-seconds not serving because of transitions
  double decide_seconds = 0;          // wall time spent in the policy
  std::vector<WindowRecord> windows;  // when record_windows
  std::vector<std::string> notes;
};

// Arrivals per decision window and tenant ([window][tenant]), counted from the workload's arrival
// sources: what RunAdaptation replays. Counting is most of a run's cost on long traces; count once
// and pass the counts to several runs with the same workload, duration, window and seed.
using ArrivalCounts = std::vector<std::vector<int64_t>>;
absl::StatusOr<ArrivalCounts> CountArrivals(const PolicyContext& context,
                                            const AdaptOptions& options);

// Runs `policy` from time 0 for options.duration_s. Errors: invalid options, a policy error, an
// allocation that is illegal (a MIG multiset with no placement, shares above 1, a slot for an
// unknown tenant, more GPUs than context.gpus) — each named with the window and GPU.
absl::StatusOr<AdaptResult> RunAdaptation(const PolicyContext& context, Policy& policy,
                                          const AdaptOptions& options, bool record_windows = false);
// The same on counts from CountArrivals(context, options). InvalidArgument when their shape does
// not match the options and the context's tenants.
absl::StatusOr<AdaptResult> RunAdaptation(const PolicyContext& context, Policy& policy,
                                          const AdaptOptions& options, const ArrivalCounts& counts,
                                          bool record_windows = false);

nlohmann::ordered_json AdaptResultToJson(const AdaptResult& result);
// The human-readable report: one block of totals, then one line per tenant (notes are left to the
// caller, which prints them once for several runs).
std::string AdaptResultToText(const AdaptResult& result);

}  // namespace tessera::adapt

#endif  // TESSERA_ADAPT_ENGINE_H_
