// src/adapt/internal/valuation.h — how the heuristic policies value a window's allocation, in the
// same unit as the engine's result (accuracy-weighted requests served within SLO): a tenant's
// inference capacity is worth its accuracy per request it serves of the window's forecast
// arrivals, and its retraining work is worth the accuracy the finished job adds to the requests of
// the rest of its retraining window, spread linearly over the samples left (docs/design.md,
// "Adaptation"). migrator's integer program optimizes the same two terms.
#ifndef TESSERA_SRC_ADAPT_INTERNAL_VALUATION_H_
#define TESSERA_SRC_ADAPT_INTERNAL_VALUATION_H_

#include <algorithm>

#include "tessera/adapt/policy.h"

namespace tessera::adapt::internal {

// Accuracy-weighted requests one retraining sample is worth now: the accuracy gain times the
// requests expected in the rest of the retraining window, per sample left. 0 when the tenant does
// not retrain or has nothing left.
inline double RetrainSampleValue(const TenantView& view, const TenantInfo& info) {
  if (!info.retrains || view.retrain_remaining <= 0) return 0;
  const double gain = std::max(0.0, info.spec.accuracy_after_retraining - view.accuracy);
  return gain * view.forecast_rps * view.retrain_window_left_s / view.retrain_remaining;
}

// The value of serving with `rps` (within SLO) for the window.
inline double InferenceValue(const TenantView& view, double rps, double window_s) {
  return view.accuracy * std::min(view.forecast_rps, rps) * window_s;
}

// The value of retraining at `samples_per_s` for the window.
inline double RetrainValue(const TenantView& view, const TenantInfo& info, double samples_per_s,
                           double window_s) {
  return RetrainSampleValue(view, info) *
         std::min(view.retrain_remaining, samples_per_s * window_s);
}

}  // namespace tessera::adapt::internal

#endif  // TESSERA_SRC_ADAPT_INTERNAL_VALUATION_H_
