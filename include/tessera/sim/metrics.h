// tessera/sim/metrics.h — what a simulation (or a real run, later) measured: per model and overall
// SLO attainment, goodput, latency percentiles, queueing delay, rejections; per partition busy
// fraction; as a plain value, a readable table and JSON.
//
// Latencies are kept in LatencyHistogram, a fixed-size log-linear histogram (relative error under
// 1%, 0 ns .. 2^41 ns, about 36 minutes; longer values count in the last bucket), so memory does
// not grow with the number of requests.
//
// Example:
//   LatencyHistogram h;  h.Record(1'500'000);  h.Quantile(0.99);   // ~1.5e6 ns
//   std::cout << FormatSummary(result);  std::cout << ResultToJson(result, {argv...}).dump(2);
#ifndef TESSERA_SIM_METRICS_H_
#define TESSERA_SIM_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace tessera::sim {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 7;  // 128 sub-buckets per power of two: < 0.8% relative error
  static constexpr int kBuckets = (41 - kSubBits + 1) << kSubBits;  // up to 2^41 ns

  void Record(int64_t value_ns) {
    ++counts_[BucketOf(value_ns)];
    ++count_;
    sum_ += static_cast<double>(value_ns);
  }
  void Merge(const LatencyHistogram& other);
  int64_t count() const { return count_; }
  double Mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  // The q-quantile (0 <= q <= 1), as the midpoint of its bucket; 0 when empty.
  double Quantile(double q) const;

  static int BucketOf(int64_t v) {
    if (v < (int64_t{1} << kSubBits)) return v < 0 ? 0 : static_cast<int>(v);
    int exponent = 63 - __builtin_clzll(static_cast<uint64_t>(v));
    int shift = exponent - kSubBits;
    int bucket = ((shift + 1) << kSubBits) + static_cast<int>((v >> shift) & ((1 << kSubBits) - 1));
    return bucket < kBuckets ? bucket : kBuckets - 1;
  }
  // Lowest value of a bucket and its width.
  static double BucketLow(int bucket);
  static double BucketWidth(int bucket);

 private:
  std::array<int64_t, kBuckets> counts_{};
  int64_t count_ = 0;
  double sum_ = 0;
};

struct ModelMetrics {
  std::string model;
  double slo_ms = 0;
  int64_t arrivals = 0;       // counted arrivals (after warm-up)
  int64_t completed = 0;      // finished (by the end of the run)
  int64_t within_slo = 0;     // finished no later than arrival + SLO
  int64_t rejected = 0;       // no input bucket could hold the request
  int64_t expired = 0;        // dropped at dispatch because it could no longer meet its SLO
  int64_t in_service = 0;     // still executing when the clock stopped (drain off)
  int64_t queued = 0;         // still waiting when the clock stopped (drain off)
  LatencyHistogram latency;   // arrival to completion, completed requests
  LatencyHistogram queueing;  // arrival to dispatch, completed requests
  // within_slo / arrivals (a rejected, expired or unfinished request is a miss); 1 with no
  // arrivals.
  double SloAttainment() const;
};

struct PartitionMetrics {
  int gpu = 0;               // plan GPU index
  std::string partition;     // "sm:64", "3g.40gb@4"
  int executors = 0;         // copies that can run at once
  double busy_fraction = 0;  // busy executor-time / (executors x measured time)
  int64_t batches = 0;
  double mean_batch = 0;  // requests per batch
};

struct SimResult {
  double duration_s = 0;  // of the arrival window
  double measured_s = 0;  // the window the rates are over (duration - warm-up)
  uint64_t seed = 0;
  std::string router;
  int gpus_used = 0;                 // plan GPUs with at least one assignment
  int64_t events = 0;                // events processed (for benchmarks)
  std::vector<ModelMetrics> models;  // in workload order
  std::vector<PartitionMetrics> partitions;
  ModelMetrics Overall() const;  // sums over models (slo_ms 0)
};

// A readable report: one row per model plus the overall row, then partitions.
std::string FormatSummary(const SimResult& result);
// JSON with `command_line` and `seed`, every metric; byte-identical for identical results.
nlohmann::ordered_json ResultToJson(const SimResult& result,
                                    const std::vector<std::string>& command_line);

}  // namespace tessera::sim

#endif  // TESSERA_SIM_METRICS_H_
