#include "tessera/sim/execution.h"

#include <cmath>
#include <map>
#include <vector>

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::sim {

namespace {

// The latency of `key`'s batch: looked up (interpolated where needed); below the smallest measured
// batch, the smallest measured batch up to `max_batch` (the partial batch is padded to it, so its
// time is an upper bound).
absl::StatusOr<double> BatchLatencyMs(const perf::ProfileTable& profiles, perf::ProfileKey key,
                                      int max_batch) {
  absl::StatusOr<perf::ProfileRow> row = profiles.Lookup(key);
  if (row.ok()) return row->latency_ms;
  for (int padded = key.batch + 1; padded <= max_batch; ++padded) {
    perf::ProfileKey bigger = key;
    bigger.batch = padded;
    if (profiles.Find(bigger) != nullptr) return profiles.Find(bigger)->latency_ms;
  }
  return row.status();
}

}  // namespace

absl::StatusOr<ExecutionTimes> ExecutionTimes::Build(const plan::Plan& plan,
                                                     const perf::ProfileTable& profiles) {
  ExecutionTimes times;
  // Where the times of an assignment already timed begin in ns_, by (gpu, partition, model, input,
  // batch, procs): replicas of one configuration (a model's group of instances) are looked up once.
  std::map<perf::ProfileKey, int> timed;
  for (size_t g = 0; g < plan.gpus.size(); ++g) {
    const plan::PlanGpu& gpu = plan.gpus[g];
    for (size_t p = 0; p < gpu.partitions.size(); ++p) {
      const plan::PlanPartition& partition = gpu.partitions[p];
      for (size_t a = 0; a < partition.assignments.size(); ++a) {
        const plan::Assignment& assignment = partition.assignments[a];
        times.refs_.push_back({static_cast<int>(g), static_cast<int>(p), static_cast<int>(a)});
        times.offset_.push_back(static_cast<int>(times.ns_.size()));
        perf::ProfileKey whole{gpu.gpu,          partition.partition,
                               assignment.model, assignment.input_max,
                               assignment.batch, assignment.procs};
        auto [it, fresh] = timed.try_emplace(whole, times.offset_.back());
        if (!fresh) {
          auto from = times.ns_.begin() + it->second;
          std::vector<int64_t> same(from, from + assignment.batch);
          times.ns_.insert(times.ns_.end(), same.begin(), same.end());
          continue;
        }
        for (int batch = 1; batch <= assignment.batch; ++batch) {
          perf::ProfileKey key{gpu.gpu, partition.partition, assignment.model, assignment.input_max,
                               batch,   assignment.procs};
          absl::StatusOr<double> ms = BatchLatencyMs(profiles, key, assignment.batch);
          if (!ms.ok()) {
            return absl::InvalidArgumentError(fmt::format(
                "gpus[{}].partitions[{}].assignments[{}]: cannot time a batch of {} ({}): {}", g, p,
                a, batch, key.ToString(), std::string(ms.status().message())));
          }
          times.ns_.push_back(std::llround(*ms * 1e6));
        }
      }
    }
  }
  return times;
}

int64_t ExecutionTimes::NoisyBatchNs(int slot, int batch, double noise_cv, RngStream& rng) const {
  int64_t base = BatchNs(slot, batch);
  if (noise_cv <= 0) return base;
  double sigma2 = std::log1p(noise_cv * noise_cv);
  double factor = std::exp(std::sqrt(sigma2) * rng.Normal() - 0.5 * sigma2);
  return std::max<int64_t>(1, std::llround(static_cast<double>(base) * factor));
}

}  // namespace tessera::sim
