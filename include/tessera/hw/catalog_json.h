// tessera/hw/catalog_json.h — GPU models as JSON (for `--json` output and tools that read it).
//
// Field names follow the YAML catalog format (docs/formats.md); unknown values are null.
// Example:
//   std::cout << GpuModelToJson(*h100).dump(2);
#ifndef TESSERA_HW_CATALOG_JSON_H_
#define TESSERA_HW_CATALOG_JSON_H_

#include "nlohmann/json.hpp"
#include "tessera/hw/catalog.h"

namespace tessera::hw {

nlohmann::ordered_json GpuModelToJson(const GpuModel& gpu);

}  // namespace tessera::hw

#endif  // TESSERA_HW_CATALOG_JSON_H_
