// Predictor accuracy at a small measurement budget: for each bundled grid (the H100 SM-partition
// table, ParvaGPU's A100 MIG table), a seeded random `fraction` of the rows (default 15%) trains
// each predictor and the mean absolute percentage error of latency is taken on the other rows.
// Prints one line per (grid, predictor): MAPE averaged over the seeds whose fit succeeded, its
// worst seed, predictions that failed, how often (worst over the seeds) the prediction falls by
// more than 1% where the batch grows along the grid's configurations (monotonicity check), and how
// many seeds' fits failed (left out of the averages).
//
// Usage: predictor_quick [fraction] [seeds]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fmt/core.h"
#include "tessera/base/paths.h"
#include "tessera/base/rng.h"
#include "tessera/predict/predictor.h"

namespace {

using tessera::perf::ProfileRow;

struct Split {
  std::vector<ProfileRow> train, test;
};

Split RandomSplit(const tessera::perf::ProfileTable& table, double fraction, uint64_t seed) {
  std::vector<ProfileRow> rows;
  for (const auto& [key, row] : table.rows()) rows.push_back(row);
  tessera::RngStream rng(seed, 0);
  for (size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng.Next() % i]);
  size_t n = static_cast<size_t>(std::ceil(fraction * rows.size()));
  return {std::vector<ProfileRow>(rows.begin(), rows.begin() + n),
          std::vector<ProfileRow>(rows.begin() + n, rows.end())};
}

// The share (%) of the grid's (key, key with the next measured batch) pairs where `predictor`'s
// latency falls by more than 1% as the batch grows.
double BatchDips(const tessera::predict::Predictor& predictor,
                 const tessera::perf::ProfileTable& table) {
  int pairs = 0, dips = 0;
  const ProfileRow* previous = nullptr;
  for (const auto& [key, row] : table.rows()) {
    bool same_series = previous != nullptr && previous->key.partition == key.partition &&
                       previous->key.model == key.model && previous->key.input == key.input &&
                       previous->key.procs == key.procs;
    if (same_series) {
      auto a = predictor.Predict(previous->key);
      auto b = predictor.Predict(key);
      if (a.ok() && b.ok()) {
        ++pairs;
        if (b->latency_ms < 0.99 * a->latency_ms) ++dips;
      }
    }
    previous = &row;
  }
  return pairs == 0 ? 0 : 100.0 * dips / pairs;
}

// MAPE (%) of `name` trained on split.train, tested on split.test; negative on failure. `dips`:
// BatchDips of the fitted predictor over `table`.
double Mape(const std::string& name, const tessera::predict::PredictorInputs& inputs,
            const Split& split, const tessera::perf::ProfileTable& table, int* failures,
            double* dips) {
  auto predictor = tessera::predict::MakePredictor(name, inputs);
  if (!predictor.ok() || !(*predictor)->Fit(split.train).ok()) return -1;
  *dips = BatchDips(**predictor, table);
  double sum = 0;
  int n = 0;
  for (const ProfileRow& row : std::getenv("PQ_TRAIN") ? split.train : split.test) {
    auto p = (*predictor)->Predict(row.key);
    if (!p.ok()) {
      ++*failures;
      continue;
    }
    sum += std::abs(p->latency_ms - row.latency_ms) / row.latency_ms;
    if (const char* detail = std::getenv("PQ_DETAIL"); detail && name == detail) {
      fmt::print(stderr, "D {} {} {} {} {} {:.4f} {:.4f}\n", row.key.partition.ToString(),
                 row.key.model, row.key.input, row.key.batch, row.key.procs, row.latency_ms,
                 p->latency_ms);
    }
    ++n;
  }
  return n == 0 ? -1 : 100 * sum / n;
}

}  // namespace

int main(int argc, char** argv) {
  double fraction = argc > 1 ? std::atof(argv[1]) : 0.15;
  int seeds = argc > 2 ? std::atoi(argv[2]) : 5;
  auto dir = tessera::DataDir();
  if (!dir.ok()) {
    fmt::print(stderr, "{}\n", dir.status().ToString());
    return 1;
  }
  auto catalog = tessera::hw::LoadCatalogDir(*dir + "/gpus");
  auto registry = tessera::models::LoadModelRegistryDir(*dir + "/models");
  if (!catalog.ok() || !registry.ok()) {
    fmt::print(stderr, "cannot load the catalog or the model registry under {}\n", *dir);
    return 1;
  }
  tessera::predict::PredictorInputs inputs{&*catalog, &*registry};
  fmt::print(
      "grid predictor train_rows test_rows mape_mean_% mape_worst_% failed_predictions "
      "batch_dips_worst_% failed_fits\n");
  for (const char* grid : {"h100-sm-partitions", "a100-parvagpu"}) {
    auto table = tessera::perf::LoadProfileCsv(fmt::format("{}/profiles/{}.csv", *dir, grid),
                                               *catalog, *registry);
    if (!table.ok()) {
      fmt::print(stderr, "{}\n", table.status().ToString());
      return 1;
    }
    for (const std::string& name : tessera::predict::PredictorNames()) {
      // Seeds whose fit failed (Mape < 0) are counted, not averaged in; dips are the worst seed's.
      double sum = 0, worst = 0, worst_dips = 0;
      int failures = 0, failed_fits = 0, fitted = 0;
      Split split;
      for (int seed = 1; seed <= seeds; ++seed) {
        split = RandomSplit(*table, fraction, seed);
        double dips = 0;
        double mape = Mape(name, inputs, split, *table, &failures, &dips);
        if (mape < 0) {
          ++failed_fits;
          continue;
        }
        ++fitted;
        sum += mape;
        worst = std::max(worst, mape);
        worst_dips = std::max(worst_dips, dips);
      }
      if (fitted == 0) {
        fmt::print("{} {} {} {} - - {} - {}\n", grid, name, split.train.size(), split.test.size(),
                   failures, failed_fits);
        continue;
      }
      fmt::print("{} {} {} {} {:.2f} {:.2f} {} {:.1f} {}\n", grid, name, split.train.size(),
                 split.test.size(), sum / fitted, worst, failures, worst_dips, failed_fits);
    }
  }
  return 0;
}
