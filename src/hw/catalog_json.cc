#include "tessera/hw/catalog_json.h"

#include <optional>

#include "fmt/core.h"

namespace tessera::hw {
namespace {

using json = nlohmann::ordered_json;

template <typename T>
json Nullable(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json WithProvenance(json object, const Provenance& p) {
  object["source"] = p.source;
  object["verified"] = p.verified;
  return object;
}

json ProfileJson(const MigProfile& p) {
  json engines = {{"copy", Nullable(p.engines.copy)},
                  {"decoder", Nullable(p.engines.decoder)},
                  {"encoder", Nullable(p.engines.encoder)},
                  {"jpeg", Nullable(p.engines.jpeg)},
                  {"ofa", Nullable(p.engines.ofa)}};
  json object = {{"name", p.name},
                 {"nvml_id", Nullable(p.nvml_id)},
                 {"compute_slices", p.compute_slices},
                 {"memory_slices", p.memory_slices},
                 {"sms", Nullable(p.sms)},
                 {"memory_mib", Nullable(p.memory_mib)},
                 {"engines", engines},
                 {"max_count", p.max_count},
                 {"starts", p.starts}};
  return WithProvenance(std::move(object), p.provenance);
}

}  // namespace

json GpuModelToJson(const GpuModel& gpu) {
  std::vector<std::string> pci;
  for (uint32_t id : gpu.pci_device_ids) pci.push_back(fmt::format("0x{:04X}", id));
  json profiles = json::array();
  for (const MigProfile& p : gpu.profiles) profiles.push_back(ProfileJson(p));
  return {{"name", gpu.name},
          {"aliases", gpu.aliases},
          {"identity", WithProvenance({{"pci_device_ids", pci}}, gpu.identity_provenance)},
          {"resources", WithProvenance({{"sms", Nullable(gpu.sms)},
                                        {"memory_mib", Nullable(gpu.memory_mib)},
                                        {"compute_slices", gpu.compute_slices},
                                        {"memory_slices", gpu.memory_slices}},
                                       gpu.resources_provenance)},
          {"sm_partition", WithProvenance({{"min_sms", gpu.sm_partition.min_sms},
                                           {"multiple", gpu.sm_partition.multiple}},
                                          gpu.sm_partition.provenance)},
          {"peak", WithProvenance({{"fp16_dense_tflops", Nullable(gpu.peak_fp16_dense_tflops)},
                                   {"memory_bandwidth_gbps", Nullable(gpu.memory_bandwidth_gbps)}},
                                  gpu.peak_provenance)},
          {"mig_profiles", profiles}};
}

}  // namespace tessera::hw
