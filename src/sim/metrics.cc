#include "tessera/sim/metrics.h"

#include "fmt/core.h"
#include "tessera/base/table.h"

namespace tessera::sim {

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int b = 0; b < kBuckets; ++b) counts_[b] += other.counts_[b];
  count_ += other.count_;
  sum_ += other.sum_;
}

double LatencyHistogram::BucketLow(int bucket) {
  if (bucket < (1 << kSubBits)) return bucket;
  int shift = (bucket >> kSubBits) - 1;
  int sub = bucket & ((1 << kSubBits) - 1);
  return std::ldexp(static_cast<double>((1 << kSubBits) + sub), shift);
}

double LatencyHistogram::BucketWidth(int bucket) {
  if (bucket < (1 << kSubBits)) return 1;
  return std::ldexp(1.0, (bucket >> kSubBits) - 1);
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  int64_t rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<int64_t>(rank, 1);
  int64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) return BucketLow(b) + (b < (1 << kSubBits) ? 0 : BucketWidth(b) / 2);
  }
  return BucketLow(kBuckets - 1);
}

double ModelMetrics::SloAttainment() const {
  return arrivals == 0 ? 1.0 : static_cast<double>(within_slo) / static_cast<double>(arrivals);
}

ModelMetrics SimResult::Overall() const {
  ModelMetrics all;
  all.model = "all";
  for (const ModelMetrics& m : models) {
    all.arrivals += m.arrivals;
    all.completed += m.completed;
    all.within_slo += m.within_slo;
    all.rejected += m.rejected;
    all.expired += m.expired;
    all.in_service += m.in_service;
    all.queued += m.queued;
    all.latency.Merge(m.latency);
    all.queueing.Merge(m.queueing);
  }
  return all;
}

namespace {

std::string Ms(double ns) { return fmt::format("{:.3f}", ns / 1e6); }

std::vector<std::string> ModelRow(const ModelMetrics& m, double measured_s) {
  return {m.model,
          m.slo_ms > 0 ? fmt::format("{:g}", m.slo_ms) : "",
          std::to_string(m.arrivals),
          fmt::format("{:.2f}%", 100 * m.SloAttainment()),
          fmt::format("{:.1f}", measured_s > 0 ? m.within_slo / measured_s : 0),
          Ms(m.latency.Quantile(0.5)),
          Ms(m.latency.Quantile(0.9)),
          Ms(m.latency.Quantile(0.99)),
          Ms(m.queueing.Mean()),
          std::to_string(m.rejected + m.expired),
          std::to_string(m.queued + m.in_service)};
}

nlohmann::ordered_json HistogramJson(const LatencyHistogram& h) {
  return {{"mean_ms", h.Mean() / 1e6},
          {"p50_ms", h.Quantile(0.5) / 1e6},
          {"p90_ms", h.Quantile(0.9) / 1e6},
          {"p99_ms", h.Quantile(0.99) / 1e6},
          {"max_ms", h.Quantile(1.0) / 1e6}};
}

nlohmann::ordered_json ModelJson(const ModelMetrics& m, double measured_s) {
  return {{"model", m.model},
          {"slo_ms", m.slo_ms},
          {"arrivals", m.arrivals},
          {"completed", m.completed},
          {"within_slo", m.within_slo},
          {"rejected", m.rejected},
          {"expired", m.expired},
          {"in_service_at_end", m.in_service},
          {"queued_at_end", m.queued},
          {"slo_attainment", m.SloAttainment()},
          {"goodput_rps", measured_s > 0 ? m.within_slo / measured_s : 0},
          {"throughput_rps", measured_s > 0 ? m.completed / measured_s : 0},
          {"latency", HistogramJson(m.latency)},
          {"queueing_delay", HistogramJson(m.queueing)}};
}

}  // namespace

std::string FormatSummary(const SimResult& result) {
  TextTable models({"model", "SLO ms", "requests", "SLO met", "goodput rps", "p50 ms", "p90 ms",
                    "p99 ms", "mean wait ms", "dropped", "unfinished"});
  for (size_t c = 1; c < 11; ++c) models.SetRightAligned(c);
  for (const ModelMetrics& m : result.models) models.AddRow(ModelRow(m, result.measured_s));
  models.AddRow(ModelRow(result.Overall(), result.measured_s));
  TextTable parts({"gpu", "partition", "executors", "busy", "batches", "mean batch"});
  for (size_t c : {0, 2, 3, 4, 5}) parts.SetRightAligned(c);
  for (const PartitionMetrics& p : result.partitions) {
    parts.AddRow({std::to_string(p.gpu), p.partition, std::to_string(p.executors),
                  fmt::format("{:.1f}%", 100 * p.busy_fraction), std::to_string(p.batches),
                  fmt::format("{:.2f}", p.mean_batch)});
  }
  return fmt::format(
      "simulated {:g} s (metrics over {:g} s), seed {}, router {}, {} GPU(s) used, {} events\n\n{}"
      "\n{}",
      result.duration_s, result.measured_s, result.seed, result.router, result.gpus_used,
      result.events, models.Render(), parts.Render());
}

nlohmann::ordered_json ResultToJson(const SimResult& result,
                                    const std::vector<std::string>& command_line) {
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const ModelMetrics& m : result.models) models.push_back(ModelJson(m, result.measured_s));
  nlohmann::ordered_json partitions = nlohmann::ordered_json::array();
  for (const PartitionMetrics& p : result.partitions) {
    partitions.push_back({{"gpu", p.gpu},
                          {"partition", p.partition},
                          {"executors", p.executors},
                          {"busy_fraction", p.busy_fraction},
                          {"batches", p.batches},
                          {"mean_batch", p.mean_batch}});
  }
  return {{"command_line", command_line},
          {"seed", result.seed},
          {"router", result.router},
          {"duration_s", result.duration_s},
          {"measured_s", result.measured_s},
          {"gpus_used", result.gpus_used},
          {"events", result.events},
          {"overall", ModelJson(result.Overall(), result.measured_s)},
          {"models", models},
          {"partitions", partitions}};
}

}  // namespace tessera::sim
