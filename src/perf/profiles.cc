// ProfileTable: adding rows, exact and interpolated lookup, and the distinct values a table holds.
#include "tessera/perf/profiles.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/checks.h"
#include "tessera/base/status.h"

namespace tessera::perf {
namespace {

using RowMap = std::map<ProfileKey, ProfileRow>;

constexpr int kMin = std::numeric_limits<int>::min();
// The rows of one (gpu, model), in key order (ProfileTable::RowsFor).
using Rows = std::vector<const ProfileRow*>;

// Calls fn(row) for the rows of one gpu (contiguous; hw::Partition{} sorts first).
template <typename Fn>
void ForEachGpuRow(const RowMap& rows, const std::string& gpu, Fn fn) {
  ProfileKey start{gpu, hw::Partition{}, "", kMin, kMin, kMin};
  for (auto it = rows.lower_bound(start); it != rows.end() && it->first.gpu == gpu; ++it) {
    fn(it->second);
  }
}

// Calls fn(row) for the rows of `rows` (one gpu and model) on `partition`, which are contiguous:
// partition leads the key order within a (gpu, model).
template <typename Fn>
void ForEachRow(const Rows& rows, const hw::Partition& partition, Fn fn) {
  auto it = std::lower_bound(
      rows.begin(), rows.end(), partition,
      [](const ProfileRow* row, const hw::Partition& p) { return row->key.partition < p; });
  for (; it != rows.end() && (*it)->key.partition == partition; ++it) fn(**it);
}

// The row of `rows` (one gpu and model) with exactly `key`. REQUIRES: there is one.
const ProfileRow& RowAt(const Rows& rows, const ProfileKey& key) {
  auto it =
      std::lower_bound(rows.begin(), rows.end(), key,
                       [](const ProfileRow* row, const ProfileKey& k) { return row->key < k; });
  TESSERA_CHECK(it != rows.end() && (*it)->key == key);
  return **it;
}

std::vector<hw::Partition> PartitionsAt(const Rows& rows, std::optional<int> procs) {
  std::vector<hw::Partition> found;  // ascending and distinct: rows are in partition order
  for (const ProfileRow* row : rows) {
    if (procs && row->key.procs != *procs) continue;
    if (found.empty() || found.back() != row->key.partition) found.push_back(row->key.partition);
  }
  return found;
}

std::vector<int> InputsAt(const Rows& rows, const hw::Partition& partition,
                          std::optional<int> procs) {
  std::set<int> found;
  ForEachRow(rows, partition, [&](const ProfileRow& row) {
    if (!procs || row.key.procs == *procs) found.insert(row.key.input);
  });
  return {found.begin(), found.end()};
}

std::vector<int> BatchesAt(const Rows& rows, const ProfileKey& key) {
  std::vector<int> found;
  ForEachRow(rows, key.partition, [&](const ProfileRow& row) {
    if (row.key.input == key.input && row.key.procs == key.procs) found.push_back(row.key.batch);
  });
  return found;  // ascending: batch follows input in key order
}

std::string Join(const std::vector<int>& values) {
  return fmt::format("{}", fmt::join(values, ","));
}

// Where `value` lies among ascending measured `points`: between points[lo] and points[lo + 1] at
// fraction t, or exactly at points[lo] (t == 0).
struct Bracket {
  size_t lo = 0;
  double t = 0;
};

absl::StatusOr<Bracket> Locate(std::string_view axis, int value, const std::vector<int>& points,
                               const std::string& context) {
  TESSERA_CHECK(!points.empty());
  if (value < points.front() || value > points.back()) {
    return absl::OutOfRangeError(fmt::format(
        "{} {} is outside the measured range {}..{} (measured: {}) of {}; tessera interpolates "
        "between measured points but never extrapolates: choose a value in range or measure it",
        axis, value, points.front(), points.back(), Join(points), context));
  }
  auto it = std::lower_bound(points.begin(), points.end(), value);
  size_t index = static_cast<size_t>(it - points.begin());
  if (*it == value) return Bracket{index, 0};
  double t = static_cast<double>(value - points[index - 1]) / (points[index] - points[index - 1]);
  return Bracket{index - 1, t};
}

std::optional<double> BlendOptional(const std::optional<double>& a, const std::optional<double>& b,
                                    double t) {
  if (!a || !b) return std::nullopt;
  return *a + t * (*b - *a);
}

ProfileRow Blend(const ProfileRow& a, const ProfileRow& b, double t) {
  ProfileRow row = a;
  row.latency_ms = a.latency_ms + t * (b.latency_ms - a.latency_ms);
  row.latency_ms_p90 = BlendOptional(a.latency_ms_p90, b.latency_ms_p90, t);
  row.latency_ms_p99 = BlendOptional(a.latency_ms_p99, b.latency_ms_p99, t);
  row.memory_mib = BlendOptional(a.memory_mib, b.memory_mib, t);
  row.source = ProfileSource::kInterpolated;
  return row;
}

// Evaluates `at(point)` at the bracketing points of `value` and blends the two results.
template <typename At>
absl::StatusOr<ProfileRow> Interpolate(std::string_view axis, int value,
                                       const std::vector<int>& points, const std::string& context,
                                       At at) {
  ASSIGN_OR_RETURN(Bracket bracket, Locate(axis, value, points, context));
  ASSIGN_OR_RETURN(ProfileRow low, at(points[bracket.lo]));
  if (bracket.t == 0) return low;
  ASSIGN_OR_RETURN(ProfileRow high, at(points[bracket.lo + 1]));
  return Blend(low, high, bracket.t);
}

absl::StatusOr<ProfileRow> LookupBatch(const Rows& rows, const ProfileKey& key) {
  std::vector<int> batches = BatchesAt(rows, key);
  std::string context = fmt::format("{} {} {} input {} procs {}", key.gpu, key.partition.ToString(),
                                    key.model, key.input, key.procs);
  return Interpolate("batch", key.batch, batches, context, [&](int batch) {
    ProfileKey exact = key;
    exact.batch = batch;
    return absl::StatusOr<ProfileRow>(RowAt(rows, exact));
  });
}

absl::StatusOr<ProfileRow> LookupInput(const Rows& rows, const ProfileKey& key) {
  std::vector<int> inputs = InputsAt(rows, key.partition, key.procs);
  std::string context =
      fmt::format("{} {} {} procs {}", key.gpu, key.partition.ToString(), key.model, key.procs);
  if (inputs.empty()) {
    return absl::NotFoundError(fmt::format("no profile rows for {}", context));
  }
  return Interpolate("input", key.input, inputs, context, [&](int input) {
    ProfileKey at = key;
    at.input = input;
    return LookupBatch(rows, at);
  });
}

std::string PartitionList(const std::vector<hw::Partition>& partitions) {
  std::vector<std::string> names;
  names.reserve(partitions.size());
  for (const hw::Partition& p : partitions) names.push_back(p.ToString());
  return fmt::format("{}", fmt::join(names, ", "));
}

// SM counts of the `sm:` partitions among `partitions`, ascending.
std::vector<int> SmCounts(const std::vector<hw::Partition>& partitions) {
  std::vector<int> sms;
  for (const hw::Partition& p : partitions) {
    if (p.kind == hw::PartitionKind::kSm) sms.push_back(p.sms);
  }
  return sms;
}

// `rows`: those of key.gpu and key.model.
absl::StatusOr<ProfileRow> LookupPartition(const Rows& rows, const ProfileKey& key) {
  std::vector<hw::Partition> partitions = PartitionsAt(rows, key.procs);
  std::string context = fmt::format("{} {} procs {}", key.gpu, key.model, key.procs);
  if (partitions.empty()) {
    return absl::NotFoundError(fmt::format(
        "no profile rows for {}; check the GPU, model and procs against the table", context));
  }
  if (std::find(partitions.begin(), partitions.end(), key.partition) != partitions.end()) {
    return LookupInput(rows, key);
  }
  std::vector<int> sms = SmCounts(partitions);
  if (key.partition.kind != hw::PartitionKind::kSm || sms.empty()) {
    return absl::NotFoundError(fmt::format("partition {} was not profiled for {}; profiled: {}",
                                           key.partition.ToString(), context,
                                           PartitionList(partitions)));
  }
  return Interpolate("SM count", key.partition.sms, sms, context + " (sm: partitions)",
                     [&](int count) {
                       ProfileKey at = key;
                       at.partition = hw::Partition::Sm(count);
                       return LookupInput(rows, at);
                     });
}

absl::Status CheckRowValues(const ProfileRow& row) {
  const ProfileKey& key = row.key;
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", key.ToString(), what));
  };
  if (key.input < 1 || key.batch < 1 || key.procs < 1) {
    return bad("input, batch and procs must be at least 1");
  }
  if (!(row.latency_ms > 0) || !std::isfinite(row.latency_ms)) {
    return bad(fmt::format("latency_ms must be positive, found {}", row.latency_ms));
  }
  for (const auto& [name, value] :
       {std::pair{"latency_ms_p90", row.latency_ms_p90}, {"latency_ms_p99", row.latency_ms_p99}}) {
    if (value && !(*value > 0))
      return bad(fmt::format("{} must be positive, found {}", name, *value));
  }
  if (row.memory_mib && !(*row.memory_mib >= 0)) {
    return bad(fmt::format("memory_mib must not be negative, found {}", *row.memory_mib));
  }
  return absl::OkStatus();
}

}  // namespace

const char* ProfileSourceName(ProfileSource source) {
  switch (source) {
    case ProfileSource::kMeasured:
      return "measured";
    case ProfileSource::kInterpolated:
      return "interpolated";
    case ProfileSource::kPredicted:
      return "predicted";
    case ProfileSource::kStandIn:
      return "stand-in";
  }
  return "?";
}

absl::StatusOr<ProfileSource> ParseProfileSource(std::string_view name) {
  for (ProfileSource source : {ProfileSource::kMeasured, ProfileSource::kInterpolated,
                               ProfileSource::kPredicted, ProfileSource::kStandIn}) {
    if (name == ProfileSourceName(source)) return source;
  }
  return absl::InvalidArgumentError(
      fmt::format("unknown source '{}'; use measured, interpolated, predicted or stand-in", name));
}

std::string ProfileKey::ToString() const {
  return fmt::format("{} {} {} input {} batch {} procs {}", gpu, partition.ToString(), model, input,
                     batch, procs);
}

ProfileTable::ProfileTable(const ProfileTable& other) : rows_(other.rows_) { RebuildIndex(); }

ProfileTable& ProfileTable::operator=(const ProfileTable& other) {
  if (this != &other) {
    rows_ = other.rows_;
    RebuildIndex();
  }
  return *this;
}

// A moved std::map hands over its nodes, so the index's pointers stay valid in the new owner.
ProfileTable::ProfileTable(ProfileTable&& other) noexcept
    : rows_(std::move(other.rows_)), by_gpu_model_(std::move(other.by_gpu_model_)) {
  other.rows_.clear();
  other.by_gpu_model_.clear();
}

ProfileTable& ProfileTable::operator=(ProfileTable&& other) noexcept {
  if (this != &other) {
    rows_ = std::move(other.rows_);
    by_gpu_model_ = std::move(other.by_gpu_model_);
    other.rows_.clear();
    other.by_gpu_model_.clear();
  }
  return *this;
}

void ProfileTable::RebuildIndex() {
  by_gpu_model_.clear();
  for (const auto& [key, row] : rows_) by_gpu_model_[{key.gpu, key.model}].push_back(&row);
}

absl::Status ProfileTable::Add(ProfileRow row) {
  RETURN_IF_ERROR(CheckRowValues(row));
  if (rows_.count(row.key) > 0) {
    return absl::InvalidArgumentError(fmt::format(
        "duplicate row for {}; keep one measurement per configuration", row.key.ToString()));
  }
  ProfileKey key = row.key;
  auto [it, inserted] = rows_.emplace(std::move(key), std::move(row));
  TESSERA_CHECK(inserted);
  const ProfileRow* added = &it->second;  // std::map nodes never move
  Rows& slice = by_gpu_model_[{added->key.gpu, added->key.model}];
  if (slice.empty() || slice.back()->key < added->key) {
    slice.push_back(added);  // the usual case: rows arrive in key order (a CSV in key order)
  } else {
    slice.insert(
        std::lower_bound(slice.begin(), slice.end(), added,
                         [](const ProfileRow* a, const ProfileRow* b) { return a->key < b->key; }),
        added);
  }
  return absl::OkStatus();
}

const std::vector<const ProfileRow*>& ProfileTable::RowsFor(std::string_view gpu,
                                                            std::string_view model) const {
  static const Rows* const kNone = new Rows();
  auto it = by_gpu_model_.find(std::pair<std::string_view, std::string_view>(gpu, model));
  return it == by_gpu_model_.end() ? *kNone : it->second;
}

const ProfileRow* ProfileTable::Find(const ProfileKey& key) const {
  auto it = rows_.find(key);
  return it == rows_.end() ? nullptr : &it->second;
}

absl::StatusOr<ProfileRow> ProfileTable::Lookup(const ProfileKey& key) const {
  if (const ProfileRow* row = Find(key)) return *row;
  ASSIGN_OR_RETURN(ProfileRow row, LookupPartition(RowsFor(key.gpu, key.model), key));
  row.key = key;
  row.source = ProfileSource::kInterpolated;
  return row;
}

std::vector<hw::Partition> ProfileTable::Partitions(const std::string& gpu,
                                                    const std::string& model) const {
  return PartitionsAt(RowsFor(gpu, model), std::nullopt);
}

std::vector<int> ProfileTable::Batches(const std::string& gpu, const hw::Partition& partition,
                                       const std::string& model, int input, int procs) const {
  return BatchesAt(RowsFor(gpu, model), ProfileKey{gpu, partition, model, input, 1, procs});
}

std::vector<int> ProfileTable::Inputs(const std::string& gpu, const hw::Partition& partition,
                                      const std::string& model) const {
  return InputsAt(RowsFor(gpu, model), partition, std::nullopt);
}

std::vector<std::string> ProfileTable::Models() const {
  std::set<std::string> models;
  for (const auto& [gpu_model, rows] : by_gpu_model_) models.insert(gpu_model.second);
  return {models.begin(), models.end()};
}

namespace {

// Per (gpu, model): whether it has MIG rows, and the (input, batch, procs) measured on sm: rows.
struct SmOnly {
  bool mig = false;
  std::set<std::tuple<int, int, int>> keys;
};

// The stand-in rows of one (gpu, model) for every MIG profile of `gpu` with a known SM count.
absl::Status AddStandIns(const ProfileTable& table, const hw::GpuModel& gpu,
                         const std::string& model, const SmOnly& seen,
                         std::vector<ProfileRow>& out) {
  for (const hw::MigProfile& profile : gpu.profiles) {
    if (!profile.sms) continue;
    for (const auto& [input, batch, procs] : seen.keys) {
      absl::StatusOr<ProfileRow> row =
          table.Lookup({gpu.name, hw::Partition::Sm(*profile.sms), model, input, batch, procs});
      if (absl::IsNotFound(row.status()) || absl::IsOutOfRange(row.status())) continue;
      RETURN_IF_ERROR(row.status());
      row->key.partition = hw::Partition::Mig(profile.name);
      row->source = ProfileSource::kStandIn;
      out.push_back(*std::move(row));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProfileTable> WithMigStandIns(ProfileTable table, const hw::Catalog& catalog) {
  std::map<std::pair<std::string, std::string>, SmOnly> seen;  // by (gpu, model)
  for (const auto& [key, row] : table.rows()) {
    SmOnly& s = seen[{key.gpu, key.model}];
    if (key.partition.kind == hw::PartitionKind::kMig) s.mig = true;
    if (key.partition.kind == hw::PartitionKind::kSm)
      s.keys.insert({key.input, key.batch, key.procs});
  }
  std::vector<ProfileRow> added;
  for (const auto& [gpu_model, s] : seen) {
    absl::StatusOr<const hw::GpuModel*> gpu = catalog.Find(gpu_model.first);
    if (s.mig || s.keys.empty() || !gpu.ok() || (*gpu)->compute_slices == 0) continue;
    RETURN_IF_ERROR(AddStandIns(table, **gpu, gpu_model.second, s, added));
  }
  for (ProfileRow& row : added) RETURN_IF_ERROR(table.Add(std::move(row)));
  return table;
}

std::string MigStandInNote(const ProfileTable& table, const hw::GpuModel& gpu) {
  std::set<std::string> stand_in;  // MIG profiles with stand-in rows
  std::set<int> measured;          // SM counts of the GPU's sm: rows
  ForEachGpuRow(table.rows(), gpu.name, [&](const ProfileRow& row) {
    if (row.source == ProfileSource::kStandIn && row.key.partition.kind == hw::PartitionKind::kMig)
      stand_in.insert(row.key.partition.mig_profile);
    if (row.key.partition.kind == hw::PartitionKind::kSm) measured.insert(row.key.partition.sms);
  });
  std::vector<std::string> parts;
  for (const hw::MigProfile& p : gpu.profiles) {
    if (stand_in.count(p.name) == 0 || !p.sms) continue;
    std::string part = fmt::format("{} = sm:{}", p.name, *p.sms);
    auto above = measured.lower_bound(*p.sms);
    if (above != measured.end() && *above != *p.sms && above != measured.begin()) {
      part += fmt::format(" (interpolated between sm:{} and sm:{})", *std::prev(above), *above);
    }
    parts.push_back(std::move(part));
  }
  if (parts.empty()) return "";
  return fmt::format(
      "MIG rows of {} are stand-ins read from SM-partition (green-context) measurements: {}; "
      "optimistic: an SM partition measured alone draws on the whole GPU's memory bandwidth and "
      "L2, "
      "a MIG instance only on its slice of them",
      gpu.name, fmt::join(parts, ", "));
}

}  // namespace tessera::perf
