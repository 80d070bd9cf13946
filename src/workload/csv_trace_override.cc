// WithCsvTrace: a workload's models and SLOs with their demand replaced by a plain CSV trace
// (`tessera simulate --trace`, `tessera adapt --trace`).
#include <string>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/csv.h"
#include "tessera/base/status.h"
#include "tessera/workload/workload.h"

namespace tessera::workload {

namespace {

std::string InputYaml(const InputDistribution& input) {
  switch (input.kind) {
    case InputDistribution::Kind::kFixed:
      return fmt::format("{{fixed: {}}}", input.fixed);
    case InputDistribution::Kind::kUniform:
      return fmt::format("{{uniform: {{min: {}, max: {}}}}}", input.min, input.max);
    case InputDistribution::Kind::kEmpirical:
      return fmt::format("{{empirical: {{sizes: [{}], weights: [{}]}}}}",
                         fmt::join(input.sizes, ", "), fmt::join(input.weights, ", "));
  }
  return "";
}

}  // namespace

absl::StatusOr<Workload> WithCsvTrace(const Workload& workload, const std::string& csv_path,
                                      const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(csv_path));
  bool has_inputs = reader.ColumnIndex("input_size").has_value();
  std::string text = fmt::format(
      "name: \"{} with --trace\"\ntraces:\n  - {{name: trace, format: csv, path: "
      "\"{}\"}}\nmodels:\n",
      workload.name, csv_path);
  for (const WorkloadModel& m : workload.models) {
    text += fmt::format("  - {{model: {}, slo_ms: {}, {}demand: {{trace: {{name: trace{}}}}}}}\n",
                        m.model, m.slo_ms,
                        has_inputs ? "" : fmt::format("input: {}, ", InputYaml(m.input)),
                        has_inputs ? ", inputs_from_trace: true" : "");
  }
  ASSIGN_OR_RETURN(Workload replaced,
                   ParseWorkload(text, fmt::format("--trace {}", csv_path), ".", registry));
  replaced.tenants = workload.tenants;
  for (const WorkloadModel& m : replaced.models) {
    if (!(m.demand.rate_rps > 0)) {
      return absl::InvalidArgumentError(
          fmt::format("{}: no rows for model {}; add its requests or remove it from the workload",
                      csv_path, m.model));
    }
  }
  return replaced;
}

}  // namespace tessera::workload
