// src/driver/testing/h100_model.h — an H100 80GB HBM3 catalog model built in code, for tests.
//
// The values are the NVML-verified table of docs mig-facts.md, which testing/fake_nvml.c also
// answers, so CompareWithCatalog(fake NVML, H100Model()) finds no differences.
#ifndef TESSERA_SRC_DRIVER_TESTING_H100_MODEL_H_
#define TESSERA_SRC_DRIVER_TESTING_H100_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/hw/catalog.h"

namespace tessera::driver::testing {

inline hw::MigProfile H100Profile(std::string name, int id, int compute_slices, int memory_slices,
                                  int sms, int64_t memory_mib, int engines, int ofa, int max_count,
                                  std::vector<int> starts) {
  hw::MigProfile p;
  p.name = std::move(name);
  p.nvml_id = id;
  p.compute_slices = compute_slices;
  p.memory_slices = memory_slices;
  p.sms = sms;
  p.memory_mib = memory_mib;
  p.engines = {.copy = engines, .decoder = engines, .encoder = 0, .jpeg = engines, .ofa = ofa};
  p.max_count = max_count;
  p.starts = std::move(starts);
  p.provenance = {.source = "mig-facts.md (NVML on H100)", .verified = true};
  return p;
}

inline hw::GpuModel H100Model() {
  hw::GpuModel gpu;
  gpu.name = "H100-SXM5-80GB";
  gpu.aliases = {"h100", "NVIDIA H100 80GB HBM3"};
  gpu.pci_device_ids = {0x2330};
  gpu.sms = 132;
  gpu.memory_mib = 81559;
  gpu.compute_slices = 7;
  gpu.memory_slices = 8;
  gpu.sm_partition = {.min_sms = 8, .multiple = 8, .provenance = {}};
  // The 7g profile has 8 copy engines but 7 decoders and JPEG engines.
  hw::MigProfile full = H100Profile("7g.80gb", 0, 7, 8, 132, 81152, 7, 1, 1, {0});
  full.engines.copy = 8;
  gpu.profiles = {
      H100Profile("1g.10gb", 19, 1, 1, 16, 9984, 1, 0, 7, {0, 1, 2, 3, 4, 5, 6}),
      H100Profile("1g.10gb+me", 20, 1, 1, 16, 9984, 1, 1, 1, {0, 1, 2, 3, 4, 5, 6}),
      H100Profile("1g.20gb", 15, 1, 2, 26, 20096, 1, 0, 4, {0, 2, 4, 6}),
      H100Profile("2g.20gb", 14, 2, 2, 32, 20096, 2, 0, 3, {0, 2, 4}),
      H100Profile("3g.40gb", 9, 3, 4, 60, 40448, 3, 0, 2, {0, 4}),
      H100Profile("4g.40gb", 5, 4, 4, 64, 40448, 4, 0, 1, {0}),
      full,
  };
  return gpu;
}

}  // namespace tessera::driver::testing

#endif  // TESSERA_SRC_DRIVER_TESTING_H100_MODEL_H_
