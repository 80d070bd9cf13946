// The `table` predictor: the measured rows themselves. perf::ProfileTable::Lookup answers where it
// can (exact or interpolated); elsewhere the nearest measured row of the same (model, partition
// kind, procs) is scaled along batch, SMs and input size by local power laws read from its
// neighbours (gpulet's approach: a table, nothing learned).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "internal/features.h"
#include "internal/makers.h"
#include "tessera/base/status.h"
#include "tessera/hw/partition.h"

namespace tessera::predict::internal {
namespace {

// (x, latency) points along one axis, any order.
using Series = std::vector<std::pair<double, double>>;

// The exponent e of latency ~ x^e near `x`, from the two measured points nearest to it (clamped to
// [0, 1]: latency never falls with more work, and grows at most linearly). `fallback` with fewer
// than two distinct points.
double Elasticity(Series series, double x, double fallback) {
  std::sort(series.begin(), series.end(), [x](const auto& a, const auto& b) {
    return std::abs(std::log(a.first / x)) < std::abs(std::log(b.first / x));
  });
  for (size_t i = 1; i < series.size(); ++i) {
    if (series[i].first == series[0].first) continue;
    double e =
        std::log(series[i].second / series[0].second) / std::log(series[i].first / series[0].first);
    return std::clamp(e, 0.0, 1.0);
  }
  return fallback;
}

class TablePredictor : public Predictor {
 public:
  explicit TablePredictor(const PredictorInputs& inputs) : inputs_(inputs) {}
  std::string name() const override { return "table"; }

  absl::Status Fit(const std::vector<perf::ProfileRow>& training) override {
    ASSIGN_OR_RETURN(TrainingSet set, SelectTraining(inputs_, training, 1, "table"));
    perf::ProfileTable table;
    for (perf::ProfileRow& row : set.rows) {
      row.key.gpu = set.gpu->name;
      RETURN_IF_ERROR(table.Add(std::move(row)));
    }
    table_ = std::move(table);
    gpu_ = set.gpu;
    return absl::OkStatus();
  }

  absl::StatusOr<Prediction> Predict(const perf::ProfileKey& key) const override {
    if (gpu_ == nullptr) return absl::FailedPreconditionError("the table predictor is not fitted");
    ASSIGN_OR_RETURN(const models::ModelInfo* model, CheckKey(inputs_, *gpu_, key));
    perf::ProfileKey canonical = key;
    canonical.gpu = gpu_->name;
    canonical.model = model->name;
    absl::StatusOr<perf::ProfileRow> row = table_.Lookup(canonical);
    if (row.ok()) return FromRow(*row, 1);
    return Nearest(*model, canonical);
  }

  absl::StatusOr<nlohmann::json> Save() const override {
    if (gpu_ == nullptr) return absl::FailedPreconditionError("the table predictor is not fitted");
    nlohmann::json out = SaveHeader("table", *gpu_);
    std::vector<perf::ProfileRow> rows;
    rows.reserve(table_.size());
    for (const auto& [key, row] : table_.rows()) rows.push_back(row);
    out["rows"] = RowsToJson(rows);
    return out;
  }

  absl::Status Load(const nlohmann::json& saved) {
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, LoadGpu(saved, inputs_));
    ASSIGN_OR_RETURN(const nlohmann::json* rows, ArrayField(saved, "", "rows"));
    ASSIGN_OR_RETURN(std::vector<perf::ProfileRow> training,
                     RowsFromJson(*rows, "rows", *gpu, *inputs_.registry));
    absl::Status status = Fit(training);
    if (!status.ok()) return FieldError("rows", std::string(status.message()));
    return absl::OkStatus();
  }

 private:
  static Prediction FromRow(const perf::ProfileRow& row, double scale) {
    Prediction p;
    p.latency_ms = row.latency_ms * scale;
    if (row.latency_ms_p90) p.latency_ms_p90 = *row.latency_ms_p90 * scale;
    if (row.latency_ms_p99) p.latency_ms_p99 = *row.latency_ms_p99 * scale;
    p.memory_mib = row.memory_mib;
    return p;
  }

  // The nearest row of the same (model, partition kind, procs), in summed |log ratio| of batch,
  // SMs and input, scaled along each axis by the local elasticity of its neighbours.
  absl::StatusOr<Prediction> Nearest(const models::ModelInfo& model,
                                     const perf::ProfileKey& key) const {
    ASSIGN_OR_RETURN(PartitionShare share, ShareOf(*gpu_, key.partition));
    const perf::ProfileRow* best = nullptr;
    double best_distance = std::numeric_limits<double>::infinity();
    int best_sms = 0;
    for (const perf::ProfileRow* row : table_.RowsFor(gpu_->name, model.name)) {
      if (row->key.partition.kind != key.partition.kind || row->key.procs != key.procs) continue;
      ASSIGN_OR_RETURN(PartitionShare other, ShareOf(*gpu_, row->key.partition));
      double distance = std::abs(std::log(static_cast<double>(key.batch) / row->key.batch)) +
                        std::abs(std::log(static_cast<double>(share.sms) / other.sms)) +
                        std::abs(std::log(static_cast<double>(key.input) / row->key.input));
      if (distance < best_distance) {
        best = row, best_distance = distance, best_sms = other.sms;
      }
    }
    if (best == nullptr) {
      return absl::NotFoundError(fmt::format(
          "{}: the table has no measured row of {} on a {} partition with {} procs; measure one "
          "or use the roofline or learned predictor",
          key.ToString(), model.name, key.partition.ToString(), key.procs));
    }
    ASSIGN_OR_RETURN(double scale, Scale(model, key, share.sms, *best, best_sms));
    Prediction p = FromRow(*best, scale);
    if (key.batch != best->key.batch || key.input != best->key.input) p.memory_mib.reset();
    return p;
  }

  // Along batch, the neighbour's own (partition, input) series when it has two batches, else the
  // median over the model's other series; along SMs likewise with (input, batch) series; along
  // input, the model's input_flops_exponent.
  absl::StatusOr<double> Scale(const models::ModelInfo& model, const perf::ProfileKey& key, int sms,
                               const perf::ProfileRow& near, int near_sms) const {
    std::map<std::pair<hw::Partition, int>, Series> by_partition_input;
    std::map<std::pair<int, int>, Series> by_input_batch;
    for (const perf::ProfileRow* row : table_.RowsFor(gpu_->name, model.name)) {
      const perf::ProfileKey& k = row->key;
      if (k.procs != near.key.procs || k.partition.kind != near.key.partition.kind) continue;
      ASSIGN_OR_RETURN(PartitionShare other, ShareOf(*gpu_, k.partition));
      by_partition_input[{k.partition, k.input}].emplace_back(k.batch, row->latency_ms);
      // Latency ~ SMs^-e: series over 1/SMs so that the exponent has the batch axis's sign.
      by_input_batch[{k.input, k.batch}].emplace_back(1.0 / other.sms, row->latency_ms);
    }
    double scale = 1;
    if (key.batch != near.key.batch) {
      double e = PooledElasticity(by_partition_input, {near.key.partition, near.key.input},
                                  key.batch, key.batch > near.key.batch ? 1.0 : 0.0);
      scale *= std::pow(static_cast<double>(key.batch) / near.key.batch, e);
    }
    if (sms != near_sms) {
      double e = PooledElasticity(by_input_batch, {near.key.input, near.key.batch}, 1.0 / sms, 1.0);
      scale *= std::pow(static_cast<double>(near_sms) / sms, e);
    }
    if (key.input != near.key.input) {
      scale *= std::pow(static_cast<double>(key.input) / near.key.input,
                        model.input_flops_exponent.value_or(1.0));
    }
    return scale;
  }

  template <typename Key>
  static double PooledElasticity(const std::map<Key, Series>& groups, const Key& own, double x,
                                 double fallback) {
    constexpr double kNone = -1;
    if (auto it = groups.find(own); it != groups.end()) {
      double e = Elasticity(it->second, x, kNone);
      if (e != kNone) return e;
    }
    std::vector<double> found;
    for (const auto& [key, series] : groups) {
      double e = Elasticity(series, x, kNone);
      if (e != kNone) found.push_back(e);
    }
    if (found.empty()) return fallback;
    std::sort(found.begin(), found.end());
    return found[found.size() / 2];
  }

  PredictorInputs inputs_;
  const hw::GpuModel* gpu_ = nullptr;
  perf::ProfileTable table_;
};

}  // namespace

std::unique_ptr<Predictor> MakeTablePredictor(const PredictorInputs& inputs) {
  return std::make_unique<TablePredictor>(inputs);
}

absl::StatusOr<std::unique_ptr<Predictor>> LoadTablePredictor(const nlohmann::json& saved,
                                                              const PredictorInputs& inputs) {
  auto predictor = std::make_unique<TablePredictor>(inputs);
  RETURN_IF_ERROR(predictor->Load(saved));
  return std::unique_ptr<Predictor>(std::move(predictor));
}

}  // namespace tessera::predict::internal
