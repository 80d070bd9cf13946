// The importers behind ImportProfiles (perf/importers.h), one per outside format, and what they
// share. Internal to tessera_perf.
#ifndef TESSERA_SRC_PERF_INTERNAL_IMPORTERS_H_
#define TESSERA_SRC_PERF_INTERNAL_IMPORTERS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/base/csv.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/importers.h"

namespace tessera::perf::internal {

// ParvaGPU prof_data/<model>.csv files (a folder of them, or one).
absl::StatusOr<ImportResult> ImportParvaGpu(const std::string& path, const hw::Catalog& catalog,
                                            const models::ModelRegistry& registry);
// MIGProfiler integrated_result CSVs (a folder of them, or one).
absl::StatusOr<ImportResult> ImportMigProfiler(const std::string& path, const hw::Catalog& catalog,
                                               const models::ModelRegistry& registry);
// tessera's H100 SM-partition profiles.csv.
absl::StatusOr<ImportResult> ImportH100Sm(const std::string& path, const hw::Catalog& catalog,
                                          const models::ModelRegistry& registry);

// The *.csv files of a folder sorted by name, or `path` itself when it is a file.
absl::StatusOr<std::vector<std::string>> CsvFilesAt(const std::string& path);

// The file name without its folder, for notes.
std::string BaseName(const std::string& path);

// Adds `row` to `table`; an error names the file and line of `csv`.
absl::Status AddRow(ProfileTable& table, ProfileRow row, const CsvRow& csv,
                    const std::string& path);

}  // namespace tessera::perf::internal

#endif  // TESSERA_SRC_PERF_INTERNAL_IMPORTERS_H_
