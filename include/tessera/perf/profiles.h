// tessera/perf/profiles.h — measured latency and memory of (GPU, partition, model, input, batch,
// procs), and lookup that interpolates but never extrapolates silently.
//
// The canonical table is one long CSV (docs/formats.md):
//   gpu,partition,model,input,batch,procs,latency_ms[,latency_ms_p90][,latency_ms_p99],memory_mib,source
// `gpu` is a catalog model name, `partition` a hw::Partition text ("3g.40gb", "sm:64", "mps:40"),
// `model` a registry canonical name, `input` an integer in the model's input unit, `procs` the
// number of copies of the model running at once in the partition (latency is per copy),
// `latency_ms` the typical batch latency, `memory_mib` without the CUDA context (empty = unknown),
// `source` one of measured / interpolated / predicted / stand-in.
//
// Example:
//   ASSIGN_OR_RETURN(ProfileTable table,
//                    LoadProfileCsv("data/profiles/h100-sm-partitions.csv", catalog, registry));
//   ASSIGN_OR_RETURN(ProfileRow row,
//                    table.Lookup({"H100-SXM5-80GB", hw::Partition::Sm(48), "resnet50", 224, 12,
//                    1}));
//   row.source == ProfileSource::kInterpolated;   // between sm:32/sm:64 and batch 8/16
//
// A ProfileTable is immutable once built and safe to share between threads. It keeps its rows
// indexed by (gpu, model) (RowsFor), so Lookup and the distinct-value queries read only the rows of
// the key's (gpu, model), not the whole table.
#ifndef TESSERA_PERF_PROFILES_H_
#define TESSERA_PERF_PROFILES_H_

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/partition.h"
#include "tessera/models/registry.h"

namespace tessera::perf {

// kStandIn: measured on another kind of partition and read as this one (a MIG profile's row taken
// from the `sm:` partition with its SM count; see WithMigStandIns).
enum class ProfileSource { kMeasured, kInterpolated, kPredicted, kStandIn };
const char* ProfileSourceName(ProfileSource source);  // "measured", ..., "stand-in"
// The inverse of ProfileSourceName; InvalidArgument lists the accepted names.
absl::StatusOr<ProfileSource> ParseProfileSource(std::string_view name);

// The configuration a row describes.
struct ProfileKey {
  std::string gpu;  // catalog canonical name
  hw::Partition partition;
  std::string model;  // registry canonical name
  int input = 0;
  int batch = 1;
  int procs = 1;
  auto operator<=>(const ProfileKey&) const = default;
  std::string ToString() const;  // "H100-SXM5-80GB sm:64 resnet50 input 224 batch 8 procs 1"
};

struct ProfileRow {
  ProfileKey key;
  double latency_ms = 0;
  std::optional<double> latency_ms_p90;
  std::optional<double> latency_ms_p99;
  std::optional<double> memory_mib;
  ProfileSource source = ProfileSource::kMeasured;
  bool operator==(const ProfileRow&) const = default;
};

class ProfileTable {
 public:
  ProfileTable() = default;
  // Copies rebuild the (gpu, model) index over their own rows; moves keep it (the rows' nodes move
  // with the map) and leave the source empty.
  ProfileTable(const ProfileTable& other);
  ProfileTable& operator=(const ProfileTable& other);
  ProfileTable(ProfileTable&& other) noexcept;
  ProfileTable& operator=(ProfileTable&& other) noexcept;
  ~ProfileTable() = default;

  // Adds a row; InvalidArgument on a duplicate key, a non-positive latency (or tail latency), a
  // negative memory, or a batch, procs or input below 1. O(log size) plus, when rows of a (gpu,
  // model) arrive out of key order, the rows of that (gpu, model).
  absl::Status Add(ProfileRow row);
  const std::map<ProfileKey, ProfileRow>& rows() const { return rows_; }
  size_t size() const { return rows_.size(); }

  // The rows of one (gpu, model), in key order (partition, then input, batch, procs); empty when
  // there are none. The pointers are into this table's rows(): valid until it is destroyed or
  // assigned to (a table moved from it takes them over; a copy has pointers of its own).
  // Costs O(log of the number of (gpu, model) pairs): use it, not rows(), to visit one model.
  const std::vector<const ProfileRow*>& RowsFor(std::string_view gpu, std::string_view model) const;

  // The row with exactly this key, or nullptr.
  const ProfileRow* Find(const ProfileKey& key) const;
  // An exact row, or one interpolated (linearly) along batch, then input size, then SM count (for
  // `sm:` partitions) between measured neighbours, marked kInterpolated and carrying `key`. Tail
  // latencies and memory are interpolated where both neighbours have them (else unknown). Procs
  // and MIG/MPS partitions are never interpolated. OutOfRange, naming the measured range, when
  // the key lies outside it on any axis (no extrapolation); NotFound when nothing matches the
  // gpu/model/procs, or the MIG/MPS partition was not profiled for them.
  absl::StatusOr<ProfileRow> Lookup(const ProfileKey& key) const;

  // Distinct values present, ascending; for planners and `profiles show`. Inputs() covers every
  // procs value.
  std::vector<hw::Partition> Partitions(const std::string& gpu, const std::string& model) const;
  std::vector<int> Batches(const std::string& gpu, const hw::Partition& partition,
                           const std::string& model, int input, int procs) const;
  std::vector<int> Inputs(const std::string& gpu, const hw::Partition& partition,
                          const std::string& model) const;
  std::vector<std::string> Models() const;

 private:
  // Orders (gpu, model) pairs and looks them up by string_view without building strings.
  struct GpuModelLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::pair<std::string_view, std::string_view>(a.first, a.second) <
             std::pair<std::string_view, std::string_view>(b.first, b.second);
    }
  };
  using Index =
      std::map<std::pair<std::string, std::string>, std::vector<const ProfileRow*>, GpuModelLess>;

  void RebuildIndex();

  std::map<ProfileKey, ProfileRow> rows_;
  Index by_gpu_model_;  // every row of rows_, under its (gpu, model), in key order
};

// Reads the canonical CSV strictly: required columns and no unknown ones (`procs` may be left out:
// 1), positive latencies, partitions that exist on the GPU (catalog; `sm:N` with N the GPU's SM
// count is the whole GPU and always allowed), known GPUs and models (aliases are mapped to
// canonical names), inputs within the model's maximum, known sources, no duplicate keys. Errors are
// InvalidArgument and name the file, line and column ("f.csv:7: column partition: ...").
absl::StatusOr<ProfileTable> LoadProfileCsv(const std::string& path, const hw::Catalog& catalog,
                                            const models::ModelRegistry& registry);
// The same for CSV text held in memory, named `source_name` in errors.
absl::StatusOr<ProfileTable> ParseProfileCsv(std::string text, std::string source_name,
                                             const hw::Catalog& catalog,
                                             const models::ModelRegistry& registry);
// MIG stand-ins, for GPUs profiled only on SM partitions (green contexts), such as the bundled H100
// table. For every (gpu, model) of `table` with `sm:` rows and no MIG rows, and every MIG profile
// of that GPU in `catalog` with a known SM count N: one row per (input, batch, procs) measured on
// the model's `sm:` partitions, looked up at sm:N (exact where sm:N was measured, else interpolated
// along SMs between measured neighbours; never extrapolated: a profile outside the measured SM
// range, or a key a neighbour lacks, gets no row), keyed by the MIG profile and marked kStandIn.
// Optimistic: an SM partition measured alone draws on the whole GPU's memory bandwidth and L2, a
// MIG instance only on its slice of them. GPUs the catalog does not know are left as they are.
// Planners and the simulator both read the returned table, so they see the same stand-ins.
absl::StatusOr<ProfileTable> WithMigStandIns(ProfileTable table, const hw::Catalog& catalog);

// One line saying which MIG rows of `gpu` in `table` are stand-ins and where they come from
// ("MIG rows of H100-SXM5-80GB are stand-ins read from SM-partition measurements: 1g.10gb = sm:16,
// 3g.40gb = sm:60 (interpolated between sm:32 and sm:64), ..."); empty when there are none.
std::string MigStandInNote(const ProfileTable& table, const hw::GpuModel& gpu);

// Writes the canonical CSV (rows in key order; tail columns only when some row has them; numbers
// in their shortest exact form, so writing what was read gives the same text).
void WriteProfileCsv(const ProfileTable& table, std::ostream& out);

}  // namespace tessera::perf

#endif  // TESSERA_PERF_PROFILES_H_
