// Reads GPU model files (data/gpus/*.yaml, documented in docs/formats.md) into GpuModel values and
// checks them: every error names the file, line, column and field, and says what to fix.
#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <system_error>

#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/base/yaml.h"
#include "tessera/hw/catalog.h"

namespace tessera::hw {
namespace {

constexpr int64_t kNoLimit = std::numeric_limits<int>::max();

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

absl::Status CheckRange(const YamlView& view, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  if (hi >= kNoLimit) return view.Error(fmt::format("must be at least {}, found {}", lo, value));
  return view.Error(fmt::format("must be between {} and {}, found {}", lo, hi, value));
}

template <typename T>
absl::StatusOr<T> ReadInt(const YamlView& view, int64_t lo, int64_t hi = kNoLimit) {
  ASSIGN_OR_RETURN(int64_t value, view.Int());
  RETURN_IF_ERROR(CheckRange(view, value, lo, hi));
  return static_cast<T>(value);
}

// A present key whose value may be `null` (unknown).
template <typename T>
absl::StatusOr<std::optional<T>> ReadNullableInt(const YamlView& view, int64_t lo,
                                                 int64_t hi = kNoLimit) {
  ASSIGN_OR_RETURN(std::optional<int64_t> value, view.NullableInt());
  if (!value) return std::optional<T>();
  RETURN_IF_ERROR(CheckRange(view, *value, lo, hi));
  return std::optional<T>(static_cast<T>(*value));
}

// True when `key` is present with an explicit null value.
bool IsExplicitNull(const YamlView& parent, std::string_view key) {
  return parent.Has(key) && parent.Get(key).IsNull();
}

absl::StatusOr<Provenance> ReadProvenance(const YamlView& group) {
  Provenance provenance;
  ASSIGN_OR_RETURN(provenance.source,
                   group.Get("source").NonEmptyString("where the values come from"));
  ASSIGN_OR_RETURN(provenance.verified, group.Get("verified").Bool());
  return provenance;
}

absl::Status ParseNames(const YamlView& root, GpuModel& gpu) {
  ASSIGN_OR_RETURN(gpu.name, root.Get("name").NonEmptyString("the canonical model name"));
  ASSIGN_OR_RETURN(std::vector<YamlView> items, root.Get("aliases").Items());
  std::vector<std::string> seen = {Lower(gpu.name)};
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(std::string alias, item.NonEmptyString("a name users or NVML use"));
    if (std::find(seen.begin(), seen.end(), Lower(alias)) != seen.end()) {
      return item.Error(fmt::format(
          "'{}' repeats the name or another alias (names match case-insensitively); remove it",
          alias));
    }
    seen.push_back(Lower(alias));
    gpu.aliases.push_back(std::move(alias));
  }
  return absl::OkStatus();
}

absl::Status ParseIdentity(const YamlView& group, GpuModel& gpu) {
  RETURN_IF_ERROR(group.CheckKeys({"pci_device_ids", "source", "verified"}));
  if (!IsExplicitNull(group, "pci_device_ids")) {
    ASSIGN_OR_RETURN(std::vector<YamlView> items, group.Get("pci_device_ids").Items());
    for (const YamlView& item : items) {
      ASSIGN_OR_RETURN(uint32_t id, ReadInt<uint32_t>(item, 0, 0xFFFF));
      if (std::find(gpu.pci_device_ids.begin(), gpu.pci_device_ids.end(), id) !=
          gpu.pci_device_ids.end()) {
        return item.Error(fmt::format("PCI device id {:#06x} appears twice; keep one", id));
      }
      gpu.pci_device_ids.push_back(id);
    }
  }
  ASSIGN_OR_RETURN(gpu.identity_provenance, ReadProvenance(group));
  return absl::OkStatus();
}

absl::Status ParseResources(const YamlView& group, GpuModel& gpu) {
  RETURN_IF_ERROR(group.CheckKeys(
      {"sms", "memory_mib", "compute_slices", "memory_slices", "source", "verified"}));
  ASSIGN_OR_RETURN(gpu.sms, ReadNullableInt<int>(group.Get("sms"), 1));
  ASSIGN_OR_RETURN(gpu.memory_mib, ReadNullableInt<int64_t>(group.Get("memory_mib"), 1,
                                                            std::numeric_limits<int64_t>::max()));
  ASSIGN_OR_RETURN(gpu.compute_slices, ReadInt<int>(group.Get("compute_slices"), 0));
  YamlView memory_slices = group.Get("memory_slices");
  ASSIGN_OR_RETURN(gpu.memory_slices, ReadInt<int>(memory_slices, 0));
  if ((gpu.compute_slices == 0) != (gpu.memory_slices == 0)) {
    return memory_slices.Error(fmt::format(
        "is {} but compute_slices is {}; both are 0 for a GPU without MIG, else both positive",
        gpu.memory_slices, gpu.compute_slices));
  }
  ASSIGN_OR_RETURN(gpu.resources_provenance, ReadProvenance(group));
  return absl::OkStatus();
}

absl::Status ParseSmPartition(const YamlView& group, GpuModel& gpu) {
  RETURN_IF_ERROR(group.CheckKeys({"min_sms", "multiple", "source", "verified"}));
  ASSIGN_OR_RETURN(gpu.sm_partition.min_sms, ReadInt<int>(group.Get("min_sms"), 1));
  ASSIGN_OR_RETURN(gpu.sm_partition.multiple, ReadInt<int>(group.Get("multiple"), 1));
  ASSIGN_OR_RETURN(gpu.sm_partition.provenance, ReadProvenance(group));
  return absl::OkStatus();
}

absl::Status ParsePeak(const YamlView& group, GpuModel& gpu) {
  RETURN_IF_ERROR(
      group.CheckKeys({"fp16_dense_tflops", "memory_bandwidth_gbps", "source", "verified"}));
  ASSIGN_OR_RETURN(gpu.peak_fp16_dense_tflops,
                   group.Get("fp16_dense_tflops").NullablePositiveDouble());
  ASSIGN_OR_RETURN(gpu.memory_bandwidth_gbps,
                   group.Get("memory_bandwidth_gbps").NullablePositiveDouble());
  ASSIGN_OR_RETURN(gpu.peak_provenance, ReadProvenance(group));
  return absl::OkStatus();
}

// `engines: null` means every count is unknown; otherwise all five keys, each a count or null.
absl::StatusOr<Engines> ParseEngines(const YamlView& profile) {
  Engines engines;
  if (IsExplicitNull(profile, "engines")) return engines;
  YamlView view = profile.Get("engines");
  RETURN_IF_ERROR(view.CheckKeys({"copy", "decoder", "encoder", "jpeg", "ofa"}));
  ASSIGN_OR_RETURN(engines.copy, ReadNullableInt<int>(view.Get("copy"), 0));
  ASSIGN_OR_RETURN(engines.decoder, ReadNullableInt<int>(view.Get("decoder"), 0));
  ASSIGN_OR_RETURN(engines.encoder, ReadNullableInt<int>(view.Get("encoder"), 0));
  ASSIGN_OR_RETURN(engines.jpeg, ReadNullableInt<int>(view.Get("jpeg"), 0));
  ASSIGN_OR_RETURN(engines.ofa, ReadNullableInt<int>(view.Get("ofa"), 0));
  return engines;
}

// A profile's slice count: at least 1 and at most what the GPU has.
absl::StatusOr<int> ReadSlices(const YamlView& view, int gpu_slices, std::string_view kind) {
  ASSIGN_OR_RETURN(int slices, ReadInt<int>(view, 1));
  if (slices > gpu_slices) {
    return view.Error(fmt::format(
        "the profile needs {} {} slices but the GPU has only {} (resources.{}_slices); fix one",
        slices, kind, gpu_slices, kind));
  }
  return slices;
}

absl::StatusOr<std::vector<int>> ReadStarts(const YamlView& view, int size, int gpu_slices) {
  ASSIGN_OR_RETURN(std::vector<YamlView> items, view.Items());
  if (items.empty()) return view.Error("needs at least one allowed start memory slice");
  const int last = gpu_slices - size;
  std::vector<int> starts;
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(int64_t start, item.Int());
    if (start < 0 || start >= gpu_slices) {
      return item.Error(fmt::format(
          "start {} is outside the GPU's {} memory slices (0..{}); use a start in 0..{}", start,
          gpu_slices, gpu_slices - 1, last));
    }
    if (start > last) {
      return item.Error(fmt::format(
          "start {} leaves no room: an instance of {} memory slices there would need slices "
          "{}..{} but the GPU has {} (0..{}); the last possible start is {}",
          start, size, start, start + size - 1, gpu_slices, gpu_slices - 1, last));
    }
    if (!starts.empty() && start <= starts.back()) {
      return item.Error(
          fmt::format("start {} does not follow {}; list starts in ascending order, each once",
                      start, starts.back()));
    }
    starts.push_back(static_cast<int>(start));
  }
  return starts;
}

// max_count is at least 1, and no larger than the starts or compute slices allow.
absl::StatusOr<int> ReadMaxCount(const YamlView& view, const MigProfile& profile,
                                 const GpuModel& gpu) {
  ASSIGN_OR_RETURN(int max_count, ReadInt<int>(view, 1));
  if (max_count > static_cast<int>(profile.starts.size())) {
    return view.Error(fmt::format("{} instances need {} distinct starts but only {} are listed",
                                  max_count, max_count, profile.starts.size()));
  }
  if (max_count * profile.compute_slices > gpu.compute_slices) {
    return view.Error(fmt::format("{} instances of {} compute slices exceed the GPU's {}",
                                  max_count, profile.compute_slices, gpu.compute_slices));
  }
  return max_count;
}

// A profile's SMs and memory cannot exceed the whole GPU's, when both are known.
absl::Status CheckFitsGpu(const YamlView& item, const MigProfile& profile, const GpuModel& gpu) {
  if (profile.sms && gpu.sms && *profile.sms > *gpu.sms) {
    return item.Get("sms").Error(fmt::format(
        "the profile has {} SMs, more than the GPU's {} (resources.sms)", *profile.sms, *gpu.sms));
  }
  if (profile.memory_mib && gpu.memory_mib && *profile.memory_mib > *gpu.memory_mib) {
    return item.Get("memory_mib")
        .Error(fmt::format("the profile has {} MiB, more than the GPU's {} (resources.memory_mib)",
                           *profile.memory_mib, *gpu.memory_mib));
  }
  return absl::OkStatus();
}

absl::StatusOr<MigProfile> ParseProfile(const YamlView& item, const GpuModel& gpu) {
  RETURN_IF_ERROR(
      item.CheckKeys({"name", "nvml_id", "compute_slices", "memory_slices", "sms", "memory_mib",
                      "engines", "max_count", "starts", "source", "verified"}));
  MigProfile profile;
  ASSIGN_OR_RETURN(profile.name, item.Get("name").NonEmptyString("the profile name"));
  ASSIGN_OR_RETURN(profile.nvml_id, ReadNullableInt<int>(item.Get("nvml_id"), 0));
  ASSIGN_OR_RETURN(profile.compute_slices,
                   ReadSlices(item.Get("compute_slices"), gpu.compute_slices, "compute"));
  ASSIGN_OR_RETURN(profile.memory_slices,
                   ReadSlices(item.Get("memory_slices"), gpu.memory_slices, "memory"));
  ASSIGN_OR_RETURN(profile.sms, ReadNullableInt<int>(item.Get("sms"), 1));
  ASSIGN_OR_RETURN(
      profile.memory_mib,
      ReadNullableInt<int64_t>(item.Get("memory_mib"), 1, std::numeric_limits<int64_t>::max()));
  ASSIGN_OR_RETURN(profile.engines, ParseEngines(item));
  ASSIGN_OR_RETURN(profile.starts,
                   ReadStarts(item.Get("starts"), profile.memory_slices, gpu.memory_slices));
  ASSIGN_OR_RETURN(profile.max_count, ReadMaxCount(item.Get("max_count"), profile, gpu));
  ASSIGN_OR_RETURN(profile.provenance, ReadProvenance(item));
  RETURN_IF_ERROR(CheckFitsGpu(item, profile, gpu));
  return profile;
}

// Names and NVML ids are unique within one GPU model.
absl::Status CheckUniqueProfile(const YamlView& item, const MigProfile& profile,
                                const GpuModel& gpu) {
  for (size_t i = 0; i < gpu.profiles.size(); ++i) {
    const MigProfile& other = gpu.profiles[i];
    if (other.name == profile.name) {
      return item.Get("name").Error(fmt::format(
          "profile '{}' is already defined at mig_profiles[{}]; keep one", profile.name, i));
    }
    if (other.nvml_id && other.nvml_id == profile.nvml_id) {
      return item.Get("nvml_id").Error(fmt::format(
          "NVML id {} is already used by '{}' (mig_profiles[{}]); ids are unique per GPU",
          *profile.nvml_id, other.name, i));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseProfiles(const YamlView& view, GpuModel& gpu) {
  ASSIGN_OR_RETURN(std::vector<YamlView> items, view.Items());
  if (!items.empty() && gpu.compute_slices == 0) {
    return view.Error(
        "a GPU with resources.compute_slices 0 has no MIG; leave mig_profiles empty ([])");
  }
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(MigProfile profile, ParseProfile(item, gpu));
    RETURN_IF_ERROR(CheckUniqueProfile(item, profile, gpu));
    gpu.profiles.push_back(std::move(profile));
  }
  return absl::OkStatus();
}

absl::StatusOr<GpuModel> ParseRoot(const YamlView& root) {
  if (root.IsNull()) {
    return root.Error(
        "the file is empty; a GPU model file is a mapping with name, aliases, identity, "
        "resources, sm_partition, peak and mig_profiles (see docs/formats.md)");
  }
  RETURN_IF_ERROR(root.CheckKeys(
      {"name", "aliases", "identity", "resources", "sm_partition", "peak", "mig_profiles"}));
  GpuModel gpu;
  RETURN_IF_ERROR(ParseNames(root, gpu));
  RETURN_IF_ERROR(ParseIdentity(root.Get("identity"), gpu));
  RETURN_IF_ERROR(ParseResources(root.Get("resources"), gpu));
  RETURN_IF_ERROR(ParseSmPartition(root.Get("sm_partition"), gpu));
  RETURN_IF_ERROR(ParsePeak(root.Get("peak"), gpu));
  RETURN_IF_ERROR(ParseProfiles(root.Get("mig_profiles"), gpu));
  return gpu;
}

// Remembers which file claimed each name, alias and PCI id, so that a second claim names both.
class Claims {
 public:
  absl::Status Add(const YamlView& root, const GpuModel& gpu) {
    RETURN_IF_ERROR(ClaimName(root.Get("name"), gpu.name, gpu));
    ASSIGN_OR_RETURN(std::vector<YamlView> aliases, root.Get("aliases").Items());
    for (size_t i = 0; i < aliases.size(); ++i) {
      RETURN_IF_ERROR(ClaimName(aliases[i], gpu.aliases[i], gpu));
    }
    if (gpu.pci_device_ids.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<YamlView> ids, root.Get("identity").Get("pci_device_ids").Items());
    for (size_t i = 0; i < ids.size(); ++i) {
      RETURN_IF_ERROR(ClaimPciId(ids[i], gpu.pci_device_ids[i], gpu));
    }
    return absl::OkStatus();
  }

 private:
  struct Owner {
    std::string gpu;
    std::string file;
  };

  absl::Status ClaimName(const YamlView& at, const std::string& name, const GpuModel& gpu) {
    auto [it, inserted] = names_.try_emplace(Lower(name), Owner{gpu.name, at.file()});
    if (inserted) return absl::OkStatus();
    return at.Error(fmt::format(
        "'{}' is already the name or an alias of {} in {}; a name belongs to one GPU model, "
        "remove it from one of the two files",
        name, it->second.gpu, it->second.file));
  }

  absl::Status ClaimPciId(const YamlView& at, uint32_t id, const GpuModel& gpu) {
    auto [it, inserted] = pci_ids_.try_emplace(id, Owner{gpu.name, at.file()});
    if (inserted) return absl::OkStatus();
    return at.Error(fmt::format(
        "PCI device id {:#06x} already belongs to {} in {}; remove it from one of the two files",
        id, it->second.gpu, it->second.file));
  }

  std::map<std::string, Owner> names_;
  std::map<uint32_t, Owner> pci_ids_;
};

}  // namespace

absl::StatusOr<GpuModel> ParseGpuModel(std::string_view yaml_text, const std::string& source_name) {
  ASSIGN_OR_RETURN(YamlView root, YamlView::LoadString(yaml_text, source_name));
  return ParseRoot(root);
}

absl::StatusOr<GpuModel> LoadGpuModelFile(const std::string& path) {
  ASSIGN_OR_RETURN(YamlView root, YamlView::LoadFile(path));
  return ParseRoot(root);
}

absl::StatusOr<Catalog> LoadCatalogDir(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> files,
                   ListYamlFiles(dir,
                                 "a folder of GPU model files, one per GPU model (tessera's "
                                 "data/gpus; see docs/formats.md)"));
  std::vector<GpuModel> gpus;
  Claims claims;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(YamlView root, YamlView::LoadFile(file));
    ASSIGN_OR_RETURN(GpuModel gpu, ParseRoot(root));
    RETURN_IF_ERROR(claims.Add(root, gpu));
    gpus.push_back(std::move(gpu));
  }
  return Catalog(std::move(gpus));
}

}  // namespace tessera::hw
