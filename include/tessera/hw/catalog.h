// tessera/hw/catalog.h — GPU models and their MIG profiles, read from data/gpus/*.yaml.
//
// A GpuModel says what one kind of GPU offers: its SMs, memory, peak rates, the granularity of SM
// partitions (green contexts / MPS), and its MIG profiles with the placement rules that make a set
// of instances legal. Unknown values are std::nullopt (`null` in YAML); every group of values
// carries a Provenance saying where it comes from and whether it was read through NVML on that GPU
// model.
//
// Example:
//   ASSIGN_OR_RETURN(Catalog catalog, LoadCatalogDir(data_dir + "/gpus"));
//   ASSIGN_OR_RETURN(const GpuModel* h100, catalog.Find("h100"));      // name or alias
//   const MigProfile* p = h100->FindProfile("3g.40gb");                 // nullptr if absent
//   ASSIGN_OR_RETURN(int sms, RoundSmPartition(*h100, 26));            // 32 on Hopper
//
// Values are immutable after loading; a Catalog may be shared between threads.
#ifndef TESSERA_HW_CATALOG_H_
#define TESSERA_HW_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera::hw {

// Where a group of values comes from. `verified` is true only for values read through NVML on a GPU
// of this model.
struct Provenance {
  std::string source;
  bool verified = false;
  bool operator==(const Provenance&) const = default;
};

// Copy, decode, encode, JPEG and optical-flow engines of a MIG instance.
struct Engines {
  std::optional<int> copy;
  std::optional<int> decoder;
  std::optional<int> encoder;
  std::optional<int> jpeg;
  std::optional<int> ofa;
  bool operator==(const Engines&) const = default;
};

// One GPU-instance profile. Placement geometry is in memory slices: an instance at `start` occupies
// [start, start + memory_slices). It needs `compute_slices` of the GPU's compute slices.
struct MigProfile {
  std::string name;            // e.g. "3g.40gb", "1g.10gb+me"
  std::optional<int> nvml_id;  // NVML GPU-instance profile id; differs between GPU models
  int compute_slices = 0;      // the "g" in the name
  int memory_slices = 0;       // placement size
  std::optional<int> sms;      // streaming multiprocessors of one full-size compute instance
  std::optional<int64_t> memory_mib;
  Engines engines;
  int max_count = 0;        // most instances of this profile on one GPU
  std::vector<int> starts;  // allowed start memory slices, ascending
  Provenance provenance;

  // True for the media-extension variants ("+me"), which hold all media engines of the GPU.
  bool is_media_extension() const;
  bool operator==(const MigProfile&) const = default;
};

// SM partitions made with green contexts or MPS: at least `min_sms`, in multiples of `multiple`.
struct SmPartitionRule {
  int min_sms = 0;
  int multiple = 0;
  Provenance provenance;
  bool operator==(const SmPartitionRule&) const = default;
};

struct GpuModel {
  std::string name;                      // canonical, e.g. "H100-SXM5-80GB"
  std::vector<std::string> aliases;      // other names users and NVML use, e.g. "h100"
  std::vector<uint32_t> pci_device_ids;  // PCI device ids (without the 0x10DE vendor id)
  Provenance identity_provenance;
  std::optional<int> sms;
  std::optional<int64_t> memory_mib;
  int compute_slices = 0;  // MIG compute slices (7 on A100/H100; 4 on A30); 0 = no MIG
  int memory_slices = 0;   // MIG memory slices (8 on A100/H100; 4 on A30)
  Provenance resources_provenance;
  SmPartitionRule sm_partition;
  std::optional<double> peak_fp16_dense_tflops;
  std::optional<double> memory_bandwidth_gbps;
  Provenance peak_provenance;
  std::vector<MigProfile> profiles;  // in file order

  const MigProfile* FindProfile(std::string_view name) const;
  // Index into `profiles`, or -1.
  int ProfileIndex(std::string_view name) const;
  // True when `name` is the canonical name or an alias (case-insensitive).
  bool Matches(std::string_view name) const;
  bool operator==(const GpuModel&) const = default;
};

class Catalog {
 public:
  Catalog() = default;
  explicit Catalog(std::vector<GpuModel> gpus) : gpus_(std::move(gpus)) {}

  const std::vector<GpuModel>& gpus() const { return gpus_; }
  // Finds by canonical name or alias, case-insensitive. NotFound lists the known names.
  absl::StatusOr<const GpuModel*> Find(std::string_view name) const;
  // Finds by PCI device id; nullptr when none matches.
  const GpuModel* FindByPciDeviceId(uint32_t device_id) const;

 private:
  std::vector<GpuModel> gpus_;
};

// Parses and validates one GPU model file. Errors are InvalidArgument and name the file, line,
// column and field: missing or unknown keys, wrong types, a start outside the GPU's memory slices
// or not leaving room for the profile, a profile needing more slices than the GPU has, duplicate
// profiles, non-positive counts, an SM partition rule that is not positive.
absl::StatusOr<GpuModel> LoadGpuModelFile(const std::string& path);
absl::StatusOr<GpuModel> ParseGpuModel(std::string_view yaml_text, const std::string& source_name);

// Loads every *.yaml in `dir` (sorted by file name). Duplicate names or aliases across files are an
// error naming both files.
absl::StatusOr<Catalog> LoadCatalogDir(const std::string& dir);

// Loads the catalog bundled in tessera's data folder (see base/paths.h).
absl::StatusOr<Catalog> LoadDefaultCatalog();

// Rounds a requested SM count up to what the GPU can grant as one SM partition (green context):
// at least min_sms, a multiple of `multiple`; a request for exactly the GPU's SMs is the whole GPU
// and is granted as is. InvalidArgument if the request is not positive or the rounded count exceeds
// the GPU's SMs.
absl::StatusOr<int> RoundSmPartition(const GpuModel& gpu, int requested_sms);

}  // namespace tessera::hw

#endif  // TESSERA_HW_CATALOG_H_
