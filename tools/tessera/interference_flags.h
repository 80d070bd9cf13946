// The `--interference` flags of `tessera plan`, `simulate` and `compare`, and the
// `tessera interference` commands (interference_command.cc).
//
// A spec names an interference model (tessera/perf/interference.h):
//   none          no interference (the simulator's default; not accepted where a model is needed)
//   constant      gpulet's 1.1;  constant:F  the factor F >= 1 for every job with a neighbour
//   fitted        LinearInterference fitted on the bundled H100 pairs
//                 (data/datasets/h100-sm-partitions/interference_64_68.csv)
//   fitted:PATH   the same fitted on the CSV at PATH
#ifndef TESSERA_TOOLS_INTERFERENCE_FLAGS_H_
#define TESSERA_TOOLS_INTERFERENCE_FLAGS_H_

#include <iosfwd>
#include <memory>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/interference.h"
#include "tessera/perf/profiles.h"

namespace tessera::cli {

// The model `spec` names, for `gpu` (pressures from `registry` and `profiles`, which must outlive
// it); null for "none" when `allow_none`. InvalidArgument naming `flag` for a bad spec, or the
// CSV's error for a fitted model.
absl::StatusOr<std::shared_ptr<const perf::InterferenceModel>> MakeInterferenceModel(
    std::string_view spec, std::string_view flag, bool allow_none, const hw::GpuModel& gpu,
    const hw::Catalog& catalog, const models::ModelRegistry& registry,
    const perf::ProfileTable* profiles);

// `tessera interference fit`.
void AddInterferenceCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_INTERFERENCE_FLAGS_H_
