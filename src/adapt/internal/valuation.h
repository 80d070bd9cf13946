// src/adapt/internal/valuation.h — how the heuristic policies value a window's allocation, in the
// same unit as the engine's result (accuracy-weighted requests served within SLO): a tenant's
// inference capacity is worth its accuracy per request it serves of the window's forecast
// arrivals, and its retraining work is worth the accuracy the finished job adds to the requests of
// the rest of its retraining window, spread linearly over the samples left (docs/design.md,
// "Adaptation"). migrator's integer program values retraining samples with the same
// RetrainSampleValue (over its longer horizon).
#ifndef TESSERA_SRC_ADAPT_INTERNAL_VALUATION_H_
#define TESSERA_SRC_ADAPT_INTERNAL_VALUATION_H_

#include <algorithm>

#include "tessera/adapt/policy.h"

namespace tessera::adapt::internal {

// Accuracy-weighted requests one retraining sample is worth now. A finished job lifts accuracy by
// `gain` for the rest of the retraining window, so the job is worth gain x forecast x (the time
// left after it could finish at the earliest, at `fastest_samples_per_s`: every GPU of the run on
// it) and each sample left its share of that; the value falls to 0 continuously as the job becomes
// impossible to finish in time. 0 when the tenant does not retrain, has nothing left, no demand or
// nothing to gain.
inline double RetrainSampleValue(const TenantView& view, const TenantInfo& info,
                                 double fastest_samples_per_s) {
  if (!info.retrains || view.retrain_remaining <= 0 || view.forecast_rps <= 0) return 0;
  const double gain = info.spec.accuracy_after_retraining - view.accuracy;
  if (gain <= 0 || view.retrain_window_left_s <= 0 || fastest_samples_per_s <= 0) return 0;
  const double earliest_finish_s = view.retrain_remaining / fastest_samples_per_s;
  const double useful_s = std::max(0.0, view.retrain_window_left_s - earliest_finish_s);
  return gain * view.forecast_rps * useful_s / view.retrain_remaining;
}

// Demand above the forecast: the forecast is a mean, and arrivals in a window scatter around it.
// Capacity up to the forecast is worth the accuracy per request; capacity beyond it, up to
// kBurstSigmas smoothed deviations more, serves bursts about half the time and is worth
// kBurstWeight of that; beyond, nothing (a two-piece linear stand-in for the expected requests
// served, E[min(arrivals, capacity)]).
inline constexpr double kBurstSigmas = 2.0;
inline constexpr double kBurstWeight = 0.5;

// Requests per second of burst demand above the forecast worth provisioning for.
inline double BurstRps(const TenantView& view) { return kBurstSigmas * view.deviation_rps; }

// The value of serving with `rps` (within SLO) for the window.
inline double InferenceValue(const TenantView& view, double rps, double window_s) {
  const double base = std::min(view.forecast_rps, rps);
  const double burst = std::min(BurstRps(view), std::max(0.0, rps - view.forecast_rps));
  return view.accuracy * (base + kBurstWeight * burst) * window_s;
}

// The value of retraining at `samples_per_s` for the window.
inline double RetrainValue(const TenantView& view, const TenantInfo& info, double samples_per_s,
                           double window_s, double fastest_samples_per_s) {
  return RetrainSampleValue(view, info, fastest_samples_per_s) *
         std::min(view.retrain_remaining, samples_per_s * window_s);
}

}  // namespace tessera::adapt::internal

#endif  // TESSERA_SRC_ADAPT_INTERNAL_VALUATION_H_
