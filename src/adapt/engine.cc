#include "tessera/adapt/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "fmt/format.h"
#include "internal/switch.h"
#include "tessera/base/status.h"
#include "tessera/workload/arrivals.h"

namespace tessera::adapt {

absl::Status AdaptOptions::Validate() const {
  auto bad = [](std::string_view field, std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("adaptation option {}: {}", field, what));
  };
  if (!(duration_s > 0) || duration_s > 9e6) return bad("duration_s", "must be in (0, 9e6] s");
  if (!(window_s >= 1e-3)) return bad("window_s", "must be at least 0.001 s");
  if (window_s > duration_s) return bad("window_s", "must not exceed the duration");
  if (duration_s / window_s > 1e7) return bad("window_s", "gives more than 10 million windows");
  if (!(ewma_alpha > 0 && ewma_alpha <= 1)) return bad("ewma_alpha", "must be in (0, 1]");
  return absl::OkStatus();
}

namespace {

// Whole windows, plus a last shorter one when the remainder is at least 1% of a window (a thinner
// remainder joins the last window).
int WindowCount(const AdaptOptions& options) {
  const int whole = static_cast<int>(std::floor(options.duration_s / options.window_s + 1e-9));
  const double rest = options.duration_s - whole * options.window_s;
  return std::max(1, rest > 0.01 * options.window_s ? whole + 1 : whole);
}

absl::Status CheckContext(const PolicyContext& context) {
  if (context.book == nullptr || context.space == nullptr || context.workload == nullptr ||
      context.registry == nullptr || context.gpu == nullptr) {
    return absl::InvalidArgumentError("adaptation: the policy context is missing inputs");
  }
  if (context.gpus < 1) return absl::InvalidArgumentError("the run needs at least one GPU");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ArrivalCounts> CountArrivals(const PolicyContext& context,
                                            const AdaptOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  RETURN_IF_ERROR(CheckContext(context));
  const int windows = WindowCount(options);
  const PerfBook& book = *context.book;
  std::vector<int> tenant_of_model(context.workload->models.size(), -1);
  for (int t = 0; t < book.tenant_count(); ++t) tenant_of_model[book.tenants()[t].model] = t;
  std::vector<std::vector<int64_t>> counts(windows, std::vector<int64_t>(book.tenant_count(), 0));
  ASSIGN_OR_RETURN(auto sources, workload::MakeArrivalSources(
                                     *context.workload, *context.registry,
                                     {.duration_s = options.duration_s, .seed = options.seed}));
  const int64_t window_ns = std::llround(options.window_s * 1e9);
  for (auto& source : sources) {
    workload::Arrival a;
    while (source->Next(a)) {
      const int t = tenant_of_model[a.model];
      if (t < 0) continue;  // a model no tenant serves
      const int w = static_cast<int>(std::min<int64_t>(a.time_ns / window_ns, windows - 1));
      ++counts[w][t];
    }
    RETURN_IF_ERROR(source->status());
  }
  return counts;
}

namespace {

using internal::RunningGpu;
using internal::TimedSlot;

double Overlap(const TimedSlot& s, double t0, double t1) {
  return std::max(0.0, std::min(s.stop_s, t1) - std::max(s.ready_s, t0));
}

struct TenantState {
  double backlog = 0;
  double accuracy = 1;
  double remaining = 0;
  double next_boundary_s = 1e300;
  double ewma = 0, previous_ewma = 0, observed = 0;
  double variance = 0;        // exponentially weighted, of observed rates around the EWMA
  double accuracy_time = 0;   // integral of accuracy over time
  double capacity_carry = 0;  // a fraction of a request's capacity, carried while saturated
};

}  // namespace

absl::StatusOr<AdaptResult> RunAdaptation(const PolicyContext& context, Policy& policy,
                                          const AdaptOptions& options, bool record_windows) {
  ASSIGN_OR_RETURN(ArrivalCounts counts, CountArrivals(context, options));
  return RunAdaptation(context, policy, options, counts, record_windows);
}

absl::StatusOr<AdaptResult> RunAdaptation(const PolicyContext& context, Policy& policy,
                                          const AdaptOptions& options, const ArrivalCounts& counts,
                                          bool record_windows) {
  RETURN_IF_ERROR(options.Validate());
  RETURN_IF_ERROR(CheckContext(context));
  const PerfBook& book = *context.book;
  const int tenants = book.tenant_count();
  const int windows = WindowCount(options);
  if (static_cast<int>(counts.size()) != windows ||
      (windows > 0 && static_cast<int>(counts[0].size()) != tenants)) {
    return absl::InvalidArgumentError(fmt::format(
        "adaptation: arrival counts for {} windows were given, the options make {} (with {} "
        "tenants); count them with the same options",
        counts.size(), windows, tenants));
  }

  AdaptResult result;
  result.policy = policy.name();
  result.duration_s = options.duration_s;
  result.window_s = options.window_s;
  result.max_gpus = context.gpus;
  result.notes = book.notes();
  result.tenants.resize(tenants);
  std::vector<TenantState> state(tenants);
  std::vector<double> peak(tenants, 0);
  for (int t = 0; t < tenants; ++t) {
    const TenantInfo& info = book.tenants()[t];
    result.tenants[t].name = info.name;
    TenantState& s = state[t];
    s.ewma = s.previous_ewma = s.observed = context.workload->models[info.model].demand.rate_rps;
    for (int w = 0; w < windows; ++w) {
      const double t0 = w * options.window_s;
      const double length = (w == windows - 1 ? options.duration_s : t0 + options.window_s) - t0;
      peak[t] = std::max(peak[t], counts[w][t] / length);
    }
    if (info.retrains) {
      const double ratio = info.spec.retraining_window_s / options.window_s;
      if (std::abs(ratio - std::round(ratio)) > 1e-6 * ratio) {
        return absl::InvalidArgumentError(fmt::format(
            "tenant {}: its retraining window ({} s) is not a whole number of decision windows "
            "({} s); pick a decision window that divides it",
            info.name, info.spec.retraining_window_s, options.window_s));
      }
      s.accuracy = info.spec.initial_accuracy;
      s.remaining = info.spec.retraining_samples;
      s.next_boundary_s = info.spec.retraining_window_s;
      result.tenants[t].retrainings_due = 1;
    }
  }

  Allocation current;
  std::vector<RunningGpu> running;
  std::vector<TimedSlot> stopping;  // old slots still serving until their stop time
  for (int w = 0; w < windows; ++w) {
    const double t0 = w * options.window_s;
    const double t1 = w == windows - 1 ? options.duration_s : t0 + options.window_s;
    const double length = t1 - t0;
    // Retraining windows that began: drift, and a new job (an unfinished one is abandoned).
    for (int t = 0; t < tenants; ++t) {
      const TenantInfo& info = book.tenants()[t];
      TenantState& s = state[t];
      while (info.retrains && t0 >= s.next_boundary_s - 1e-9) {
        s.accuracy = std::max(0.0, s.accuracy - info.spec.drift_per_window);
        s.remaining = info.spec.retraining_samples;
        s.next_boundary_s += info.spec.retraining_window_s;
        ++result.tenants[t].retrainings_due;
      }
    }
    Observation obs;
    obs.time_s = t0;
    obs.window_s = length;
    obs.window_index = w;
    obs.current = &current;
    obs.max_gpus = context.gpus;
    for (int t = 0; t < tenants; ++t) {
      const TenantState& s = state[t];
      const TenantInfo& info = book.tenants()[t];
      obs.tenants.push_back({.observed_rps = s.observed,
                             .ewma_rps = s.ewma,
                             .forecast_rps = std::max(0.0, s.ewma + (s.ewma - s.previous_ewma)),
                             .deviation_rps = std::sqrt(s.variance),
                             .peak_rps = peak[t],
                             .mean_rps = context.workload->models[info.model].demand.rate_rps,
                             .backlog = s.backlog,
                             .accuracy = s.accuracy,
                             .retrains = info.retrains,
                             .retrain_remaining = s.remaining,
                             .retrain_window_left_s = info.retrains ? s.next_boundary_s - t0 : 0});
    }
    const auto decide_start = std::chrono::steady_clock::now();
    absl::StatusOr<Allocation> target = policy.Decide(obs);
    result.decide_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - decide_start).count();
    if (!target.ok()) {
      return absl::Status(target.status().code(),
                          fmt::format("policy {} at window {} (t = {} s): {}", policy.name(), w, t0,
                                      std::string(target.status().message())));
    }
    if (absl::Status valid =
            internal::ValidateAllocation(*target, *context.space, book, context.gpus);
        !valid.ok()) {
      return absl::InvalidArgumentError(fmt::format("policy {} at window {} (t = {} s): {}",
                                                    policy.name(), w, t0,
                                                    std::string(valid.message())));
    }
    ASSIGN_OR_RETURN(internal::SwitchResult sw,
                     internal::Switch(running, *target, t0, *context.gpu, book, context.costs));
    running = std::move(sw.gpus);
    current = *std::move(target);
    stopping.insert(stopping.end(), sw.stopped.begin(), sw.stopped.end());
    result.mig_operations += sw.mig_operations;
    result.restarts += sw.restarts;
    result.downtime_s += sw.downtime_s;
    if (sw.changed && w > 0) ++result.reconfigurations;

    // Capacity and retraining work each tenant gets in [t0, t1).
    std::vector<double> capacity(tenants, 0), samples(tenants, 0);
    auto add = [&](const TimedSlot& s) {
      const double seconds = Overlap(s, t0, t1);
      if (s.slot.role == Role::kInference) capacity[s.slot.tenant] += s.slot.rps * seconds;
      if (s.slot.role == Role::kRetraining) {
        samples[s.slot.tenant] += s.slot.samples_per_s * seconds;
      }
    };
    for (const RunningGpu& gpu : running) {
      for (const TimedSlot& s : gpu.slots) add(s);
    }
    for (const TimedSlot& s : stopping) add(s);
    std::erase_if(stopping, [&](const TimedSlot& s) { return s.stop_s <= t1; });

    WindowRecord record;
    record.time_s = t0;
    record.gpus = static_cast<int>(running.size());
    record.mig_operations = sw.mig_operations;
    record.restarts = sw.restarts;
    record.downtime_s = sw.downtime_s;
    for (int t = 0; t < tenants; ++t) {
      TenantState& s = state[t];
      TenantResult& r = result.tenants[t];
      const TenantInfo& info = book.tenants()[t];
      const int64_t arrived = counts[w][t];
      // Whole requests: a saturated tenant carries the fraction of a request to the next window.
      const double offered = capacity[t] + s.capacity_carry;
      const int64_t can_serve = static_cast<int64_t>(std::floor(offered + 1e-9));
      const int64_t within = std::min(arrived, can_serve);
      const int64_t late =
          std::min(static_cast<int64_t>(std::llround(s.backlog)), can_serve - within);
      s.capacity_carry = within + late == can_serve ? std::max(0.0, offered - can_serve) : 0.0;
      s.backlog += static_cast<double>(arrived - within - late);
      r.arrivals += arrived;
      r.within_slo += within;
      r.served_late += late;
      // Accuracy over the window: a retraining that finishes part-way switches it then.
      double mean_accuracy = info.retrains ? s.accuracy : 1.0;
      if (info.retrains && s.remaining > 0 && samples[t] > 0) {
        if (samples[t] >= s.remaining) {
          const double before = s.remaining / samples[t];
          mean_accuracy = before * s.accuracy + (1 - before) * info.spec.accuracy_after_retraining;
          s.accuracy = info.spec.accuracy_after_retraining;
          s.remaining = 0;
          ++r.retrainings_done;
        } else {
          s.remaining -= samples[t];
        }
      }
      r.accuracy_goodput += within * mean_accuracy;
      s.accuracy_time += mean_accuracy * length;
      s.observed = arrived / length;
      s.previous_ewma = s.ewma;
      const double miss = s.observed - s.ewma;
      s.ewma += options.ewma_alpha * miss;
      s.variance = (1 - options.ewma_alpha) * (s.variance + options.ewma_alpha * miss * miss);
      if (record_windows) {
        record.arrivals_rps.push_back(arrived / length);
        record.within_slo_rps.push_back(within / length);
        record.accuracy.push_back(info.retrains ? s.accuracy : 1.0);
      }
    }
    result.gpu_hours += running.size() * length / 3600.0;
    if (record_windows) result.windows.push_back(std::move(record));
  }

  // After the run: the final allocation serves what is still queued, late.
  std::vector<double> final_rps(tenants, 0);
  for (const RunningGpu& gpu : running) {
    for (const TimedSlot& s : gpu.slots) {
      if (s.slot.role == Role::kInference) final_rps[s.slot.tenant] += s.slot.rps;
    }
  }
  for (int t = 0; t < tenants; ++t) {
    TenantResult& r = result.tenants[t];
    const int64_t backlog = std::llround(state[t].backlog);
    if (final_rps[t] > 0) {
      r.served_late += backlog;
      result.drain_s = std::max(result.drain_s, backlog / final_rps[t]);
    } else {
      r.queued_at_end = backlog;
    }
    r.lost = r.arrivals - r.within_slo - r.served_late - r.queued_at_end;
    r.mean_accuracy = state[t].accuracy_time / options.duration_s;
    result.arrivals += r.arrivals;
    result.within_slo += r.within_slo;
    result.served_late += r.served_late;
    result.queued_at_end += r.queued_at_end;
    result.lost += r.lost;
    result.accuracy_goodput_rps += r.accuracy_goodput / options.duration_s;
  }
  result.slo_attainment =
      result.arrivals > 0 ? static_cast<double>(result.within_slo) / result.arrivals : 1.0;
  result.goodput_rps = result.within_slo / options.duration_s;
  return result;
}

nlohmann::ordered_json AdaptResultToJson(const AdaptResult& r) {
  nlohmann::ordered_json j;
  j["policy"] = r.policy;
  j["duration_s"] = r.duration_s;
  j["window_s"] = r.window_s;
  j["max_gpus"] = r.max_gpus;
  j["accuracy_goodput_rps"] = r.accuracy_goodput_rps;
  j["goodput_rps"] = r.goodput_rps;
  j["slo_attainment"] = r.slo_attainment;
  j["arrivals"] = r.arrivals;
  j["within_slo"] = r.within_slo;
  j["served_late"] = r.served_late;
  j["queued_at_end"] = r.queued_at_end;
  j["lost"] = r.lost;
  j["drain_s"] = r.drain_s;
  j["gpu_hours"] = r.gpu_hours;
  j["reconfigurations"] = r.reconfigurations;
  j["mig_operations"] = r.mig_operations;
  j["restarts"] = r.restarts;
  j["downtime_s"] = r.downtime_s;
  j["decide_seconds"] = r.decide_seconds;
  for (const TenantResult& t : r.tenants) {
    j["tenants"].push_back({{"name", t.name},
                            {"arrivals", t.arrivals},
                            {"within_slo", t.within_slo},
                            {"served_late", t.served_late},
                            {"queued_at_end", t.queued_at_end},
                            {"lost", t.lost},
                            {"accuracy_goodput", t.accuracy_goodput},
                            {"mean_accuracy", t.mean_accuracy},
                            {"retrainings_done", t.retrainings_done},
                            {"retrainings_due", t.retrainings_due}});
  }
  for (const WindowRecord& w : r.windows) {
    j["windows"].push_back({{"time_s", w.time_s},
                            {"gpus", w.gpus},
                            {"arrivals_rps", w.arrivals_rps},
                            {"within_slo_rps", w.within_slo_rps},
                            {"accuracy", w.accuracy},
                            {"mig_operations", w.mig_operations},
                            {"restarts", w.restarts},
                            {"downtime_s", w.downtime_s}});
  }
  j["notes"] = r.notes;
  return j;
}

std::string AdaptResultToText(const AdaptResult& r) {
  std::string out = fmt::format(
      "policy {}: {:g} s in {:g} s windows on up to {} GPUs\n"
      "  accuracy-weighted goodput {:.1f} req/s   goodput {:.1f} req/s   SLO attainment {:.2f}%\n"
      "  requests {} = {} within SLO + {} late + {} still queued; lost {}\n"
      "  GPU-hours {:.3f}   reconfigurations {}   MIG operations {}   process starts {}   "
      "downtime {:.1f} instance-s\n"
      "  policy time {:.2f} s\n",
      r.policy, r.duration_s, r.window_s, r.max_gpus, r.accuracy_goodput_rps, r.goodput_rps,
      100 * r.slo_attainment, r.arrivals, r.within_slo, r.served_late, r.queued_at_end, r.lost,
      r.gpu_hours, r.reconfigurations, r.mig_operations, r.restarts, r.downtime_s,
      r.decide_seconds);
  out += fmt::format("  {:<16} {:>10} {:>9} {:>9} {:>10}\n", "tenant", "requests", "in SLO",
                     "accuracy", "retrained");
  for (const TenantResult& t : r.tenants) {
    out += fmt::format("  {:<16} {:>10} {:>8.2f}% {:>9.3f} {:>5}/{:<4}\n", t.name, t.arrivals,
                       t.arrivals > 0 ? 100.0 * t.within_slo / t.arrivals : 100.0, t.mean_accuracy,
                       t.retrainings_done, t.retrainings_due);
  }
  return out;
}

}  // namespace tessera::adapt
