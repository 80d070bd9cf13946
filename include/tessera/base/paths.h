// tessera/base/paths.h — where tessera finds its bundled data.
//
// The data folder (gpus/*.yaml, models, profiles, examples) is found, in order:
//   1. the TESSERA_DATA_DIR environment variable, when set;
//   2. <folder of the running executable>/../share/tessera/data (an installed tree or the bundle);
//   3. the source tree's data/ folder recorded at build time (a developer's build).
// Example:
//   ASSIGN_OR_RETURN(std::string dir, DataDir());
//   std::string gpus = dir + "/gpus";
#ifndef TESSERA_BASE_PATHS_H_
#define TESSERA_BASE_PATHS_H_

#include <string>

#include "absl/status/statusor.h"

namespace tessera {

// The data folder, or NotFound naming every place that was tried.
absl::StatusOr<std::string> DataDir();

// The path of the running executable ("" if it cannot be read).
std::string ExecutablePath();

}  // namespace tessera

#endif  // TESSERA_BASE_PATHS_H_
