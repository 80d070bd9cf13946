#include "tessera/driver/verify.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "fmt/core.h"
#include "fmt/ranges.h"

namespace tessera::driver {
namespace {

constexpr char kAbsent[] = "absent";

template <typename T>
std::string ValueOrNull(const std::optional<T>& value) {
  return value ? fmt::format("{}", *value) : "null";
}

std::string FormatPciIds(const std::vector<uint32_t>& ids) {
  if (ids.empty()) return "none";
  std::vector<std::string> hex;
  for (uint32_t id : ids) hex.push_back(fmt::format("0x{:04X}", id));
  return fmt::format("{}", fmt::join(hex, ", "));
}

std::string FormatPlacements(const std::vector<PlacementRange>& placements) {
  if (placements.empty()) return "none";
  bool same_size = std::all_of(placements.begin(), placements.end(), [&](const PlacementRange& p) {
    return p.size == placements.front().size;
  });
  std::vector<std::string> parts;
  for (const PlacementRange& p : placements) {
    parts.push_back(same_size ? fmt::format("{}", p.start)
                              : fmt::format("{} (size {})", p.start, p.size));
  }
  std::string starts = fmt::format("starts {}", fmt::join(parts, ", "));
  return same_size ? fmt::format("{} (size {})", starts, placements.front().size) : starts;
}

std::vector<PlacementRange> CatalogPlacements(const hw::MigProfile& profile) {
  std::vector<PlacementRange> placements;
  for (int start : profile.starts) placements.push_back({start, profile.memory_slices});
  return placements;
}

std::vector<PlacementRange> SortedPlacements(std::vector<PlacementRange> placements) {
  std::sort(placements.begin(), placements.end(),
            [](const PlacementRange& a, const PlacementRange& b) {
              return a.start != b.start ? a.start < b.start : a.size < b.size;
            });
  return placements;
}

std::string Describe(const hw::MigProfile& p) {
  return fmt::format("id {}, {} compute slice(s), {} SMs, {} MiB", ValueOrNull(p.nvml_id),
                     p.compute_slices, ValueOrNull(p.sms), ValueOrNull(p.memory_mib));
}

std::string Describe(const ProfileInfo& p) {
  return fmt::format("id {}, {} compute slice(s), {} SMs, {} MiB", p.id, p.slice_count, p.sms,
                     p.memory_mib);
}

// Collects differences under a common prefix of `where`.
class Differences {
 public:
  explicit Differences(std::vector<Difference>& out) : out_(out) {}

  void Add(std::string where, std::string catalog, std::string hardware,
           bool unknown_in_catalog = false) {
    out_.push_back({std::move(where), std::move(catalog), std::move(hardware), unknown_in_catalog});
  }
  // A known catalog value that differs, or a null one (the hardware always knows; flagged).
  template <typename C, typename H>
  void Compare(const std::string& where, const std::optional<C>& catalog, H hardware) {
    if (!catalog || *catalog != static_cast<C>(hardware)) {
      Add(where, ValueOrNull(catalog), fmt::format("{}", hardware), !catalog.has_value());
    }
  }
  // Compared only where the catalog knows the value.
  template <typename C, typename H>
  void CompareKnown(const std::string& where, const std::optional<C>& catalog, H hardware) {
    if (catalog) Compare(where, catalog, hardware);
  }

 private:
  std::vector<Difference>& out_;
};

void CompareGpu(const GpuInfo& gpu, const hw::GpuModel& model, Differences& diffs) {
  const std::vector<uint32_t>& ids = model.pci_device_ids;
  if (std::find(ids.begin(), ids.end(), gpu.pci_device_id) == ids.end()) {
    diffs.Add("gpu: pci_device_id", FormatPciIds(ids), FormatPciIds({gpu.pci_device_id}));
  }
  diffs.Compare("gpu: memory_mib", model.memory_mib, gpu.memory_total_mib);
}

void CompareEngines(const std::string& at, const hw::Engines& engines, const ProfileInfo& seen,
                    Differences& diffs) {
  diffs.CompareKnown(at + "engines.copy", engines.copy, seen.copy_engines);
  diffs.CompareKnown(at + "engines.decoder", engines.decoder, seen.decoders);
  diffs.CompareKnown(at + "engines.encoder", engines.encoder, seen.encoders);
  diffs.CompareKnown(at + "engines.jpeg", engines.jpeg, seen.jpegs);
  diffs.CompareKnown(at + "engines.ofa", engines.ofa, seen.ofas);
}

void CompareProfile(const hw::MigProfile& profile, const ProfileInfo& seen, Differences& diffs) {
  const std::string at = fmt::format("profile {}: ", profile.name);
  if (!seen.name.empty() && seen.name != profile.name)
    diffs.Add(at + "name", profile.name, seen.name);
  diffs.Compare(at + "nvml_id", profile.nvml_id, seen.id);
  diffs.Compare(at + "compute_slices", std::optional<int>(profile.compute_slices),
                seen.slice_count);
  diffs.Compare(at + "max_count", std::optional<int>(profile.max_count), seen.instance_count);
  diffs.Compare(at + "sms", profile.sms, seen.sms);
  diffs.Compare(at + "memory_mib", profile.memory_mib, seen.memory_mib);
  CompareEngines(at, profile.engines, seen, diffs);
  std::vector<PlacementRange> catalog = SortedPlacements(CatalogPlacements(profile));
  std::vector<PlacementRange> hardware = SortedPlacements(seen.placements);
  if (catalog != hardware) {
    diffs.Add(at + "placements", FormatPlacements(catalog), FormatPlacements(hardware));
  }
}

// For each catalog profile, the index in `seen` of its hardware profile, or -1. Ids match first so
// that a profile renamed by the driver still pairs with its catalog entry.
std::vector<int> MatchProfiles(const std::vector<ProfileInfo>& seen, const hw::GpuModel& model) {
  std::vector<int> match(model.profiles.size(), -1);
  std::vector<bool> taken(seen.size(), false);
  auto pair_first = [&](size_t i, auto&& matches) {
    for (size_t j = 0; j < seen.size() && match[i] < 0; ++j) {
      if (!taken[j] && matches(seen[j])) {
        match[i] = static_cast<int>(j);
        taken[j] = true;
      }
    }
  };
  for (size_t i = 0; i < model.profiles.size(); ++i) {
    const std::optional<int>& id = model.profiles[i].nvml_id;
    if (id) pair_first(i, [&](const ProfileInfo& p) { return p.id == *id; });
  }
  for (size_t i = 0; i < model.profiles.size(); ++i) {
    const std::string& name = model.profiles[i].name;
    pair_first(i, [&](const ProfileInfo& p) { return !p.name.empty() && p.name == name; });
  }
  return match;
}

}  // namespace

std::vector<Difference> CompareWithCatalog(const GpuInfo& gpu, const std::vector<ProfileInfo>& seen,
                                           const hw::GpuModel& model) {
  std::vector<Difference> out;
  Differences diffs(out);
  CompareGpu(gpu, model, diffs);
  std::vector<int> match = MatchProfiles(seen, model);
  std::vector<bool> matched(seen.size(), false);
  for (size_t i = 0; i < model.profiles.size(); ++i) {
    const hw::MigProfile& profile = model.profiles[i];
    if (match[i] < 0) {
      diffs.Add("profile " + profile.name, Describe(profile), kAbsent);
      continue;
    }
    matched[match[i]] = true;
    CompareProfile(profile, seen[match[i]], diffs);
  }
  for (size_t j = 0; j < seen.size(); ++j) {
    if (matched[j]) continue;
    std::string name = seen[j].name.empty() ? fmt::format("id {}", seen[j].id) : seen[j].name;
    diffs.Add("profile " + name, kAbsent, Describe(seen[j]));
  }
  return out;
}

}  // namespace tessera::driver
