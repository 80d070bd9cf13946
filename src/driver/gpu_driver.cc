#include "tessera/driver/gpu_driver.h"

namespace tessera::driver {

const char* MigModeName(MigMode mode) {
  switch (mode) {
    case MigMode::kDisabled:
      return "disabled";
    case MigMode::kEnabled:
      return "enabled";
    case MigMode::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

}  // namespace tessera::driver
