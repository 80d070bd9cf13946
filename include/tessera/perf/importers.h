// tessera/perf/importers.h — converters from outside profile tables to tessera's canonical rows.
//
// Each importer handles its source's quirks (data/datasets/*/README.md) and maps names through the
// model registry; docs/formats.md ("Profiles") lists every conversion.
//   parvagpu    ParvaGPU prof_data/*.csv -> A100-SXM4-80GB: `Mig instance` 1/2/3/4/7 GPCs ->
//               1g.10gb/2g.20gb/3g.40gb/4g.40gb/7g.80gb, `Workload Number` -> procs, latency_ms =
//               batch * 1000 / per-process Throughput (the `Latency` column is rounded to 1 ms),
//               input 224 px / 128 tokens (what ParvaGPU's script feeds), `0,0` rows skipped and
//               counted in a note, memory unknown.
//   migprofiler MIGProfiler cv/nlp CSVs -> A100-SXM4-80GB: latency_ms = mean latency, memory_mib =
//               fb_used_mean - 500 MiB (CUDA context estimate), input = seq_length or the
//               registry's reference input; rows whose latency_std is >= 20% of the mean (BERT at
//               256/512 tokens) are kept and flagged in a note; a configuration repeated with
//               equal values in a later file is kept once.
//   h100-sm     tessera's H100 SM-partition table: `sms` -> `sm:N`, `img224` / `seqN` -> 224 / N,
//               p50 -> latency_ms, p90 -> latency_ms_p90, peak_memory_mib -> memory_mib.
//
// Example:
//   ASSIGN_OR_RETURN(ImportResult r, ImportProfiles("h100-sm", path, catalog, registry));
//   for (const std::string& note : r.notes) std::cerr << note << "\n";
#ifndef TESSERA_PERF_IMPORTERS_H_
#define TESSERA_PERF_IMPORTERS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"

namespace tessera::perf {

struct ImportResult {
  ProfileTable table;
  std::vector<std::string> notes;  // what was skipped or flagged, one line each
};

// `format` is "parvagpu" (PATH: a prof_data folder or one of its files), "migprofiler" (PATH: a CSV
// or a folder of them) or "h100-sm" (PATH: profiles.csv). InvalidArgument for an unknown format,
// with the list of formats.
absl::StatusOr<ImportResult> ImportProfiles(const std::string& format, const std::string& path,
                                            const hw::Catalog& catalog,
                                            const models::ModelRegistry& registry);

}  // namespace tessera::perf

#endif  // TESSERA_PERF_IMPORTERS_H_
