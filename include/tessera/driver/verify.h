// tessera/driver/verify.h — compares what a driver reports about a GPU with its catalog entry.
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<ProfileInfo> seen, driver.GetProfiles(0));
//   std::vector<Difference> diffs = CompareWithCatalog(gpu_info, seen, model);
//   // empty: the catalog agrees with the hardware on every compared value
#ifndef TESSERA_DRIVER_VERIFY_H_
#define TESSERA_DRIVER_VERIFY_H_

#include <string>
#include <vector>

#include "tessera/driver/gpu_driver.h"
#include "tessera/hw/catalog.h"

namespace tessera::driver {

// One disagreement between the catalog and the hardware.
struct Difference {
  std::string where;     // e.g. "profile 3g.40gb: sms" or "gpu: sms"
  std::string catalog;   // the catalog's value ("null" when unknown, "absent" when missing)
  std::string hardware;  // what the driver reported
  bool operator==(const Difference&) const = default;
};

// Compares profiles by name (the catalog's name and the hardware's id and slice count), ids, slice
// counts, instance counts, SMs, memory, engines and placements; also the GPU's memory and PCI id.
// A catalog value of null that the hardware knows is reported as a difference (the catalog should
// be filled in), so is a profile present on one side only.
std::vector<Difference> CompareWithCatalog(const GpuInfo& gpu, const std::vector<ProfileInfo>& seen,
                                           const hw::GpuModel& model);

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_VERIFY_H_
