#include "tessera/perf/interference.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "fmt/core.h"
#include "tessera/base/csv.h"
#include "tessera/base/paths.h"
#include "tessera/base/status.h"

namespace tessera::perf {
namespace {

constexpr double kRidge = 1e-9;

// Solves the n x n system a x = b by Gaussian elimination with partial pivoting; false when
// singular.
template <size_t N>
bool Solve(std::array<std::array<double, N>, N> a, std::array<double, N> b,
           std::array<double, N>& x) {
  for (size_t col = 0; col < N; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < N; ++r) {
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    }
    if (std::abs(a[pivot][col]) < 1e-15) return false;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (size_t r = 0; r < N; ++r) {
      if (r == col) continue;
      double f = a[r][col] / a[col][col];
      for (size_t k = col; k < N; ++k) a[r][k] -= f * a[col][k];
      b[r] -= f * b[col];
    }
  }
  for (size_t i = 0; i < N; ++i) x[i] = b[i] / a[i][i];
  return true;
}

std::array<double, 4> Features(double u_a, double u_b) { return {1, u_a, u_b, u_a * u_b}; }

// The job named `name` ("<model>_b<batch>" or "<model>_seq<N>_b<batch>"), on `sms` SMs; the error
// says what is wrong (the caller adds where).
absl::StatusOr<InterferenceJob> ParseJobName(std::string_view name, int sms,
                                             const models::ModelRegistry& registry) {
  auto number_after = [](std::string_view text, size_t at) -> std::optional<int> {
    if (at >= text.size() || text.size() - at > 9) return std::nullopt;
    int n = 0;
    for (size_t i = at; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      n = n * 10 + (text[i] - '0');
    }
    return n > 0 ? std::optional<int>(n) : std::nullopt;
  };
  size_t b = name.rfind("_b");
  std::optional<int> batch = b == std::string_view::npos ? std::nullopt : number_after(name, b + 2);
  if (!batch) {
    return absl::InvalidArgumentError(fmt::format(
        "job '{}' does not end in _b<batch> (a positive batch size), e.g. resnet50_b32", name));
  }
  std::string_view rest = name.substr(0, b);
  int input = 0;
  size_t seq = rest.rfind("_seq");
  if (seq != std::string_view::npos) {
    std::optional<int> n = number_after(rest, seq + 4);
    if (n) {
      input = *n;
      rest = rest.substr(0, seq);
    }
  }
  absl::StatusOr<const models::ModelInfo*> info = registry.Find(rest);
  if (!info.ok()) {
    return absl::InvalidArgumentError(fmt::format("job '{}': model '{}' is not in the registry: {}",
                                                  name, rest,
                                                  std::string(info.status().message())));
  }
  return InterferenceJob{(*info)->name, sms, *batch, input};
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

ConstantInterference::ConstantInterference(double factor) : factor_(factor) {
  TESSERA_CHECK(factor >= 1);
}

std::string ConstantInterference::Describe() const {
  return fmt::format(
      "constant interference: every batch {:g}x its solo latency when other partitions share its "
      "GPU",
      factor_);
}

double ConstantInterference::BudgetSlowdown(const InterferenceJob&) const { return factor_; }

double ConstantInterference::Slowdown(const InterferenceJob&,
                                      const std::vector<InterferenceJob>& neighbours) const {
  return neighbours.empty() ? 1.0 : factor_;
}

PressureSource::PressureSource(hw::GpuModel gpu, const models::ModelRegistry* registry,
                               const ProfileTable* profiles)
    : gpu_(std::move(gpu)), registry_(registry), profiles_(profiles) {
  TESSERA_CHECK(registry_ != nullptr);
}

std::optional<double> PressureSource::SoloPressure(const InterferenceJob& job,
                                                   double solo_ms) const {
  TESSERA_CHECK(solo_ms > 0);
  if (!gpu_.sms || *gpu_.sms <= 0 || !gpu_.peak_fp16_dense_tflops || job.sms <= 0) {
    return std::nullopt;
  }
  absl::StatusOr<const models::ModelInfo*> info = registry_->Find(job.model);
  if (!info.ok() || !(*info)->gflops_per_item || (*info)->reference_input <= 0) return std::nullopt;
  const models::ModelInfo& m = **info;
  double input = job.input > 0 ? job.input : m.reference_input;
  double exponent = m.input_unit == models::InputUnit::kPixels ? 2.0 : 1.0;
  double flops =
      *m.gflops_per_item * 1e9 * job.batch * std::pow(input / m.reference_input, exponent);
  double share = std::min(1.0, static_cast<double>(job.sms) / *gpu_.sms);
  double peak = *gpu_.peak_fp16_dense_tflops * 1e12 * share;
  double cu = std::clamp(flops / (solo_ms * 1e-3) / peak, 0.0, 1.0);
  return 1 - cu;
}

std::optional<double> PressureSource::Pressure(const InterferenceJob& job) const {
  if (profiles_ == nullptr) return std::nullopt;
  int input = job.input;
  if (input <= 0) {
    absl::StatusOr<const models::ModelInfo*> info = registry_->Find(job.model);
    if (!info.ok()) return std::nullopt;
    input = (*info)->reference_input;
  }
  absl::StatusOr<ProfileRow> row =
      profiles_->Lookup({gpu_.name, hw::Partition::Sm(job.sms), job.model, input, job.batch, 1});
  if (!row.ok() || row->latency_ms <= 0) return std::nullopt;
  return SoloPressure(job, row->latency_ms);
}

absl::StatusOr<std::vector<InterferenceSample>> ReadInterferenceCsv(
    const std::string& path, const hw::Catalog& catalog, const models::ModelRegistry& registry,
    const ProfileTable* profiles) {
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
  RETURN_IF_ERROR(reader.RequireColumns({"gpu", "job_a", "sms_a", "job_b", "sms_b", "solo_a_ms",
                                         "solo_b_ms", "slowdown_a", "slowdown_b"}));
  std::vector<InterferenceSample> samples;
  CsvRow row;
  int pair = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(row));
    if (!more) break;
    ASSIGN_OR_RETURN(std::string_view gpu_name, row.Text("gpu"));
    absl::StatusOr<const hw::GpuModel*> gpu = catalog.Find(gpu_name);
    if (!gpu.ok()) return row.Error("gpu", std::string(gpu.status().message()));
    PressureSource source(**gpu, &registry, nullptr);
    InterferenceJob jobs[2];
    double solo[2], slowdown[2];
    std::string names[2];
    for (int side = 0; side < 2; ++side) {
      std::string s = side == 0 ? "a" : "b";
      ASSIGN_OR_RETURN(std::string_view name, row.Text("job_" + s));
      ASSIGN_OR_RETURN(int64_t sms, row.Int("sms_" + s));
      if (sms <= 0 || ((*gpu)->sms && sms > *(*gpu)->sms)) {
        return row.Error("sms_" + s, fmt::format("{} SMs: must be 1 to the GPU's {} SMs", sms,
                                                 (*gpu)->sms.value_or(0)));
      }
      absl::StatusOr<InterferenceJob> job = ParseJobName(name, static_cast<int>(sms), registry);
      if (!job.ok()) return row.Error("job_" + s, std::string(job.status().message()));
      ASSIGN_OR_RETURN(solo[side], row.Double("solo_" + s + "_ms"));
      if (!(solo[side] > 0) || !std::isfinite(solo[side])) {
        return row.Error("solo_" + s + "_ms", "must be a positive latency in ms");
      }
      ASSIGN_OR_RETURN(slowdown[side], row.Double("slowdown_" + s));
      if (!(slowdown[side] > 0) || !std::isfinite(slowdown[side])) {
        return row.Error("slowdown_" + s, "must be a positive ratio coloc / solo");
      }
      jobs[side] = *std::move(job);
      names[side] = std::string(name);
    }
    double u[2];
    for (int side = 0; side < 2; ++side) {
      std::optional<double> p = source.SoloPressure(jobs[side], solo[side]);
      if (!p) {
        return row.Error(side == 0 ? "job_a" : "job_b",
                         fmt::format("cannot derive the memory pressure of {}: the registry has "
                                     "no gflops_per_item for {} or the catalog no peak fp16 "
                                     "TFLOPS / SM count for {}",
                                     names[side], jobs[side].model, (*gpu)->name));
      }
      u[side] = *p;
    }
    for (int side = 0; side < 2; ++side) {
      int other = 1 - side;
      bool profiled =
          profiles != nullptr && !profiles->RowsFor((*gpu)->name, jobs[side].model).empty();
      samples.push_back(
          {names[side], names[other], u[side], u[other], slowdown[side], pair, profiled});
    }
    ++pair;
  }
  if (samples.empty()) {
    return absl::InvalidArgumentError(fmt::format("{}: no measurements (only a header)", path));
  }
  return samples;
}

double LinearFit::Predict(double u_a, double u_b) const {
  std::array<double, 4> f = Features(u_a, u_b);
  double s = 1;
  for (size_t i = 0; i < 4; ++i) s += c[i] * f[i];
  return std::max(1.0, s);
}

absl::StatusOr<LinearFit> FitLinearInterference(const std::vector<InterferenceSample>& samples) {
  if (samples.size() < 4) {
    return absl::InvalidArgumentError(fmt::format(
        "fitting interference: {} samples, at least 4 needed for 4 coefficients", samples.size()));
  }
  std::array<std::array<double, 4>, 4> ata{};
  std::array<double, 4> aty{};
  std::vector<double> victims, neighbours;
  for (const InterferenceSample& s : samples) {
    std::array<double, 4> f = Features(s.u_victim, s.u_neighbour);
    for (size_t i = 0; i < 4; ++i) {
      for (size_t j = 0; j < 4; ++j) ata[i][j] += f[i] * f[j];
      aty[i] += f[i] * (s.slowdown - 1);
    }
    victims.push_back(s.u_victim);
    neighbours.push_back(s.u_neighbour);
  }
  for (size_t i = 0; i < 4; ++i) ata[i][i] += kRidge * static_cast<double>(samples.size());
  LinearFit fit;
  if (!Solve(ata, aty, fit.c)) {
    return absl::InvalidArgumentError(
        "fitting interference: the pressures do not vary enough to fit 4 coefficients");
  }
  double sum = 0;
  for (double v : victims) sum += v;
  fit.mean_pressure = sum / static_cast<double>(victims.size());
  fit.budget_neighbour_pressure = Percentile(neighbours, 0.9);
  fit.samples = static_cast<int>(samples.size());
  return fit;
}

LinearInterference::LinearInterference(LinearFit fit, PressureSource source, std::string origin)
    : fit_(fit), source_(std::move(source)), origin_(std::move(origin)) {}

std::string LinearInterference::Describe() const {
  return fmt::format(
      "linear interference (gpulet's form) on {}: slowdown next to one neighbour = 1 + {:.4f} + "
      "{:.4f} u_self + {:.4f} u_other + {:.4f} u_self u_other, u = 1 - compute utilization "
      "from solo latency and FLOPs; neighbours weighted by their SMs; budget next to a p90 "
      "neighbour (u = {:.3f}); fitted on {} samples{}",
      source_.gpu().name, fit_.c[0], fit_.c[1], fit_.c[2], fit_.c[3],
      fit_.budget_neighbour_pressure, fit_.samples, origin_.empty() ? "" : " of " + origin_);
}

double LinearInterference::PressureOf(const InterferenceJob& job) const {
  return source_.Pressure(job).value_or(fit_.mean_pressure);
}

double LinearInterference::BudgetSlowdown(const InterferenceJob& job) const {
  return fit_.Predict(PressureOf(job), fit_.budget_neighbour_pressure);
}

double LinearInterference::Slowdown(const InterferenceJob& job,
                                    const std::vector<InterferenceJob>& neighbours) const {
  if (neighbours.empty()) return 1.0;
  int gpu_sms = source_.gpu().sms.value_or(0);
  double rest = gpu_sms > job.sms ? gpu_sms - job.sms : std::max(gpu_sms, 1);
  double u = PressureOf(job);
  double weights = 0, excess = 0;
  for (const InterferenceJob& n : neighbours) {
    double w = std::max(0, n.sms) / rest;
    weights += w;
    excess += w * (fit_.Predict(u, PressureOf(n)) - 1);
  }
  if (weights > 1) excess /= weights;
  return 1 + excess;
}

absl::StatusOr<CrossValidation> CrossValidateLinearInterference(
    const std::vector<InterferenceSample>& samples, int folds, double constant_factor) {
  int pairs = 0;
  for (const InterferenceSample& s : samples) pairs = std::max(pairs, s.pair + 1);
  if (folds <= 0 || folds > pairs) folds = pairs;
  if (folds < 2) {
    return absl::InvalidArgumentError(
        fmt::format("cross-validation needs at least 2 measured pairs, got {}", pairs));
  }
  CrossValidation cv;
  cv.folds = folds;
  cv.samples = static_cast<int>(samples.size());
  cv.constant_factor = constant_factor;
  cv.predicted.assign(samples.size(), 0);
  for (int fold = 0; fold < folds; ++fold) {
    std::vector<InterferenceSample> train;
    double train_sum = 0;
    for (const InterferenceSample& s : samples) {
      if (s.pair % folds != fold) {
        train.push_back(s);
        train_sum += s.slowdown;
      }
    }
    absl::StatusOr<LinearFit> fit = FitLinearInterference(train);
    if (!fit.ok()) {
      return absl::InvalidArgumentError(fmt::format("cross-validation fold {} of {}: {}", fold + 1,
                                                    folds, std::string(fit.status().message())));
    }
    double mean = train_sum / static_cast<double>(train.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      const InterferenceSample& s = samples[i];
      if (s.pair % folds != fold) continue;
      double p = fit->Predict(s.u_victim, s.u_neighbour);
      cv.predicted[i] = p;
      double e = std::abs(p - s.slowdown);
      cv.fitted_mae += e;
      cv.fitted_mape += e / s.slowdown;
      cv.fitted_max_abs = std::max(cv.fitted_max_abs, e);
      cv.constant_mae += std::abs(constant_factor - s.slowdown);
      cv.constant_mape += std::abs(constant_factor - s.slowdown) / s.slowdown;
      cv.mean_mae += std::abs(mean - s.slowdown);
      cv.mean_mape += std::abs(mean - s.slowdown) / s.slowdown;
    }
  }
  double n = static_cast<double>(samples.size());
  for (double* v : {&cv.fitted_mae, &cv.fitted_mape, &cv.constant_mae, &cv.constant_mape,
                    &cv.mean_mae, &cv.mean_mape}) {
    *v /= n;
  }
  return cv;
}

absl::StatusOr<std::string> DefaultInterferenceCsv() {
  ASSIGN_OR_RETURN(std::string dir, DataDir());
  return dir + "/datasets/h100-sm-partitions/interference_64_68.csv";
}

absl::StatusOr<std::unique_ptr<LinearInterference>> FitInterferenceModel(
    const std::string& path, const hw::GpuModel& gpu, const hw::Catalog& catalog,
    const models::ModelRegistry& registry, const ProfileTable* profiles) {
  ASSIGN_OR_RETURN(std::vector<InterferenceSample> samples,
                   ReadInterferenceCsv(path, catalog, registry, profiles));
  ASSIGN_OR_RETURN(LinearFit fit, FitLinearInterference(samples));
  size_t slash = path.find_last_of('/');
  return std::make_unique<LinearInterference>(
      fit, PressureSource(gpu, &registry, profiles),
      slash == std::string::npos ? path : path.substr(slash + 1));
}

}  // namespace tessera::perf
