// tessera/driver/verify.h — compares what a driver reports about a GPU with its catalog entry.
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<ProfileInfo> seen, driver.GetProfiles(0));
//   std::vector<Difference> diffs = CompareWithCatalog(gpu_info, seen, model);
//   for (const Difference& d : diffs) fmt::print("{}: catalog {}, hardware {}\n", d.where,
//                                                d.catalog, d.hardware);
#ifndef TESSERA_DRIVER_VERIFY_H_
#define TESSERA_DRIVER_VERIFY_H_

#include <string>
#include <vector>

#include "tessera/driver/gpu_driver.h"
#include "tessera/hw/catalog.h"

namespace tessera::driver {

// One disagreement between the catalog and the hardware.
struct Difference {
  std::string where;     // e.g. "profile 3g.40gb: sms" or "gpu: pci_device_id"
  std::string catalog;   // the catalog's value ("null" when unknown, "absent" when missing)
  std::string hardware;  // what the driver reported ("absent" when missing)
  // True when the catalog does not know the value (null) and the hardware does: not a disagreement,
  // a value to fill in (and mark verified) in the catalog file.
  bool unknown_in_catalog = false;
  bool operator==(const Difference&) const = default;
};

// Compares what the driver reports for one GPU with its catalog model.
//
// Profiles are matched by NVML id where the catalog has one, otherwise (or when no hardware profile
// has that id) by name; hardware names come without NVML's "MIG " prefix and may be empty (older
// drivers), in which case only ids match. For each matched profile it compares, under
// "profile <catalog name>: <field>": name (when the hardware has one), nvml_id, compute_slices,
// max_count, sms, memory_mib, engines.copy / .decoder / .encoder / .jpeg / .ofa, and placements
// (starts and sizes). For the GPU: "gpu: pci_device_id" (the hardware's id must be one of the
// catalog's) and "gpu: memory_mib" (NVML's total memory).
//
// A catalog null where the hardware has a value is reported with unknown_in_catalog set ("null" vs
// the value), so that the catalog can be filled in without counting as a disagreement; engine
// counts are the exception: they are compared only where the catalog knows them. A profile present
// on one side only is a difference under "profile <name>"
// ("absent" on the missing side, a summary on the other).
//
// Order is deterministic: GPU differences, then catalog profiles in catalog order (fields in the
// order above), then hardware-only profiles in the driver's order. Empty: the catalog agrees with
// the hardware on every compared value.
std::vector<Difference> CompareWithCatalog(const GpuInfo& gpu, const std::vector<ProfileInfo>& seen,
                                           const hw::GpuModel& model);

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_VERIFY_H_
