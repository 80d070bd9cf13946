#include "tessera/hw/catalog.h"

#include <algorithm>
#include <cctype>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/paths.h"
#include "tessera/base/status.h"

namespace tessera::hw {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool MigProfile::is_media_extension() const {
  return name.size() >= 3 && name.compare(name.size() - 3, 3, "+me") == 0;
}

const MigProfile* GpuModel::FindProfile(std::string_view profile_name) const {
  int index = ProfileIndex(profile_name);
  return index < 0 ? nullptr : &profiles[index];
}

int GpuModel::ProfileIndex(std::string_view profile_name) const {
  for (size_t i = 0; i < profiles.size(); ++i) {
    if (profiles[i].name == profile_name) return static_cast<int>(i);
  }
  return -1;
}

bool GpuModel::Matches(std::string_view query) const {
  if (EqualsIgnoreCase(name, query)) return true;
  return std::any_of(aliases.begin(), aliases.end(),
                     [&](const std::string& alias) { return EqualsIgnoreCase(alias, query); });
}

absl::StatusOr<const GpuModel*> Catalog::Find(std::string_view query) const {
  for (const GpuModel& gpu : gpus_) {
    if (gpu.Matches(query)) return &gpu;
  }
  std::vector<std::string> names;
  for (const GpuModel& gpu : gpus_) names.push_back(gpu.name);
  return absl::NotFoundError(
      fmt::format("unknown GPU model '{}'; known models: {}", query, fmt::join(names, ", ")));
}

const GpuModel* Catalog::FindByPciDeviceId(uint32_t device_id) const {
  for (const GpuModel& gpu : gpus_) {
    for (uint32_t id : gpu.pci_device_ids) {
      if (id == device_id) return &gpu;
    }
  }
  return nullptr;
}

absl::StatusOr<Catalog> LoadDefaultCatalog() {
  ASSIGN_OR_RETURN(std::string dir, DataDir());
  return LoadCatalogDir(dir + "/gpus");
}

absl::StatusOr<int> RoundSmPartition(const GpuModel& gpu, int requested_sms) {
  if (requested_sms <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("an SM partition needs a positive SM count, got {}", requested_sms));
  }
  // The whole GPU is always available, whatever the granularity (132 SMs on an H100).
  if (gpu.sms && requested_sms == *gpu.sms) return requested_sms;
  const SmPartitionRule& rule = gpu.sm_partition;
  TESSERA_CHECK(rule.min_sms > 0 && rule.multiple > 0);
  int granted = std::max(requested_sms, rule.min_sms);
  granted = (granted + rule.multiple - 1) / rule.multiple * rule.multiple;
  if (gpu.sms && granted > *gpu.sms) {
    return absl::InvalidArgumentError(fmt::format(
        "{} SMs round up to {} (at least {}, multiples of {}), more than the {} SMs of a {}",
        requested_sms, granted, rule.min_sms, rule.multiple, *gpu.sms, gpu.name));
  }
  return granted;
}

}  // namespace tessera::hw
