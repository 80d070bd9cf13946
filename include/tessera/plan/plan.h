// tessera/plan/plan.h — the Plan: how every GPU is cut and what runs on each piece. The hub that
// the validator, simulator, exporters, driver and runtime all read.
//
// Per GPU: its index (and optional UUID), its catalog model, and its partitions. A partition is a
// MIG instance (profile + start memory slice), an SM partition (`sm:N`, green contexts) or an MPS
// share (`mps:P`); a GPU holds either MIG instances or SM/MPS partitions, never both. Each
// partition serves one or more assignments: a model, the input bucket it serves (requests with
// input_min <= size <= input_max, each padded to input_max), the batch size, the number of copies
// running at once (`procs`), and `share`, the long-run fraction of the partition's busy time the
// assignment gets when several take turns (deficit round-robin on expected batch time).
//
// YAML and JSON round-trip (docs/formats.md):
//   name: h100-sm-example
//   gpus:
//     - index: 0
//       gpu: H100-SXM5-80GB
//       partitions:
//         - partition: sm:64
//           assignments:
//             - {model: resnet50, input_max: 224, batch: 16}
//     - index: 1
//       gpu: H100-SXM5-80GB
//       partitions:
//         - partition: 3g.40gb
//           start: 4
//           assignments:
//             - {model: bert_base, input_min: 1, input_max: 128, batch: 8, procs: 2, share: 0.6}
//             - {model: bert_base, input_min: 129, input_max: 512, batch: 4, share: 0.4}
//
// Example:
//   ASSIGN_OR_RETURN(Plan plan, LoadPlanFile("plan.yaml"));
//   std::cout << PlanToYaml(plan);          // the same document back
//   RETURN_IF_ERROR(ValidatePlan(plan, {&catalog, &profiles, &workload, &registry}));
#ifndef TESSERA_PLAN_PLAN_H_
#define TESSERA_PLAN_PLAN_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/hw/catalog.h"
#include "tessera/hw/partition.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/workload/workload.h"

namespace tessera::plan {

struct Assignment {
  std::string model;  // registry canonical name
  int input_min = 0;  // 0: from the smallest input
  int input_max = 0;  // the bucket bound every request is padded to
  int batch = 1;      // required in files
  int procs = 1;
  double share = 1.0;
  bool operator==(const Assignment&) const = default;
};

struct PlanPartition {
  hw::Partition partition;
  std::optional<int> start;  // MIG only: the start memory slice (required for MIG)
  std::vector<Assignment> assignments;
  bool operator==(const PlanPartition&) const = default;
};

struct PlanGpu {
  int index = 0;
  std::string uuid;  // optional: "GPU-..." when bound to a physical GPU
  std::string gpu;   // catalog canonical name
  std::vector<PlanPartition> partitions;
  bool operator==(const PlanGpu&) const = default;
};

struct Plan {
  std::string name;
  std::string planner;  // who made it ("hand-written", "elasticbatch", ...)
  std::vector<PlanGpu> gpus;
  bool operator==(const Plan&) const = default;
  // A readable multi-line summary needing no catalog: per GPU one line drawing its partitions
  // (`[2g.20gb@0][1g.10gb@2][3g.40gb@4]`, MIG instances by start, others as listed), then per
  // partition its assignments (model, bucket, batch, procs, share) or `idle`.
  std::string DebugString() const;
};

// Parses YAML or JSON (JSON is read as YAML, so errors carry line and column too). Structural
// checks only, each error located (`file:line:col: field gpus[0].partitions[1].start: ...`): types,
// required fields (`gpus`; per GPU `index` >= 0, `gpu`, `partitions`; per partition `partition`,
// and `start` exactly when it is a MIG profile; per assignment `model`, `input_max` >= 1, `batch`
// >= 1), unknown keys, procs >= 1, 0 < share <= 1, 0 <= input_min <= input_max, partition text that
// parses. `name`, `planner`, `uuid` and `assignments` (an idle partition) are optional. Names are
// taken as written; cross-checks against the catalog, registry and profiles are ValidatePlan's.
absl::StatusOr<Plan> ParsePlan(std::string_view text, const std::string& source_name);
absl::StatusOr<Plan> LoadPlanFile(const std::string& path);
// Block style with one flow mapping per assignment, fields in a fixed order, optional fields and
// defaults (input_min 0, procs 1, share 1) left out. ParsePlan(PlanToYaml(p)) == p.
std::string PlanToYaml(const Plan& plan);
// The same fields, with every assignment field written out. ParsePlan(PlanToJson(p).dump()) == p.
nlohmann::ordered_json PlanToJson(const Plan& plan);

// What the validator checks a plan against. Null members skip the checks that need them.
struct ValidationContext {
  const hw::Catalog* catalog = nullptr;             // required (REQUIRES: not null)
  const perf::ProfileTable* profiles = nullptr;     // memory fit, profiled configurations
  const workload::Workload* workload = nullptr;     // every workload model served, bucket coverage
  const models::ModelRegistry* registry = nullptr;  // known models, input limits
  double context_mib_per_proc = 550;  // CUDA context added per process to profiled memory
};

// Checks everything a plan must satisfy before it is simulated or applied: GPU models exist in the
// catalog under their canonical names; GPU indices are unique; MIG layouts are legal for the GPU
// model (profile exists, starts, overlap, counts — checked instance by instance with
// hw::CheckLayout, so each bad instance is named); SM partitions are legal for the GPU's SMs and
// granularity (hw::CheckPartition) and together fit in its SMs; MPS shares sum to <= 100 per GPU; a
// GPU does not mix MIG instances with SM/MPS partitions; shares per partition sum to <= 1; models
// exist in the registry under their canonical names with input_max within the model's maximum;
// every assignment's configuration (gpu, partition, model, input_max, batch, procs) can be looked
// up in the profiles (interpolated rows count); memory fits where known (profiled memory_mib per
// proc + context_mib_per_proc per proc, summed per MIG instance against its profile's memory, and
// over all SM/MPS partitions of a GPU against the GPU's memory; unknown values are skipped
// silently); with a workload, every served model is in it, every workload model is served, and
// the union of its buckets [input_min, input_max] covers every size of its input distribution.
// An idle partition (no assignments) is legal.
// Returns OK or one InvalidArgument listing every problem, one per line, each `<where>: <what>`
// where <where> is a plan path (`gpus[1].partitions[0].assignments[2]`) or a workload entry
// (`workload.models[0] (resnet50)`), in plan order then workload order.
absl::Status ValidatePlan(const Plan& plan, const ValidationContext& context);

}  // namespace tessera::plan

#endif  // TESSERA_PLAN_PLAN_H_
