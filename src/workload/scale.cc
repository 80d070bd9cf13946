#include "tessera/workload/scale.h"

#include <cmath>

#include "fmt/core.h"

namespace tessera::workload {

absl::StatusOr<Workload> ScaleRates(const Workload& workload, double k) {
  if (!std::isfinite(k) || k <= 0) {
    return absl::InvalidArgumentError(fmt::format(
        "rate scale must be a positive number (1 keeps the workload's rates); got {}", k));
  }
  Workload scaled = workload;
  for (WorkloadModel& m : scaled.models) {
    m.demand.rate_rps *= k;
    if (m.demand.kind == Demand::Kind::kTrace) m.demand.scale *= k;
    m.demand.mean_rps *= k;
  }
  return scaled;
}

}  // namespace tessera::workload
