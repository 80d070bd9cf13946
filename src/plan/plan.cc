// Reads and writes plans (YAML and JSON, documented in docs/formats.md) and draws them as text.
// Parsing checks structure only; ValidatePlan (validate.cc) cross-checks against the catalog,
// profiles and workload.
#include "tessera/plan/plan.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"
#include "tessera/base/yaml.h"

namespace tessera::plan {
namespace {

using json = nlohmann::ordered_json;

constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

absl::StatusOr<int> ReadInt(const YamlView& view, int64_t lo, std::string_view meaning) {
  ASSIGN_OR_RETURN(int64_t value, view.Int());
  if (value < lo || value > kMaxInt) {
    return view.Error(fmt::format("must be at least {} ({}), found {}", lo, meaning, value));
  }
  return static_cast<int>(value);
}

// An optional integer key: `fallback` when absent.
absl::StatusOr<int> ReadOptionalInt(const YamlView& parent, std::string_view key, int fallback,
                                    int64_t lo, std::string_view meaning) {
  if (!parent.Has(key)) return fallback;
  return ReadInt(parent.Get(key), lo, meaning);
}

absl::StatusOr<std::string> ReadName(const YamlView& view, std::string_view what) {
  ASSIGN_OR_RETURN(std::string value, view.String());
  if (value.find_first_not_of(" \t") == std::string::npos) {
    return view.Error(fmt::format("must not be empty; write {}", what));
  }
  return value;
}

absl::StatusOr<std::string> ReadOptionalString(const YamlView& parent, std::string_view key) {
  if (!parent.Has(key)) return std::string();
  return parent.Get(key).String();
}

absl::StatusOr<double> ReadShare(const YamlView& parent) {
  if (!parent.Has("share")) return 1.0;
  YamlView view = parent.Get("share");
  ASSIGN_OR_RETURN(double share, view.Double());
  if (share <= 0 || share > 1) {
    return view.Error(fmt::format(
        "share {} is outside (0, 1]; it is the fraction of the partition's busy time the "
        "assignment gets",
        share));
  }
  return share;
}

absl::Status CheckBucket(const YamlView& item, const Assignment& a) {
  if (a.input_min <= a.input_max) return absl::OkStatus();
  return item.Get("input_min")
      .Error(fmt::format("input_min {} is above input_max {}; a bucket serves input_min <= size <= "
                         "input_max",
                         a.input_min, a.input_max));
}

absl::StatusOr<Assignment> ParseAssignment(const YamlView& item) {
  RETURN_IF_ERROR(item.CheckKeys({"model", "input_min", "input_max", "batch", "procs", "share"}));
  Assignment a;
  ASSIGN_OR_RETURN(a.model,
                   ReadName(item.Get("model"), "the model's registry name, e.g. resnet50"));
  ASSIGN_OR_RETURN(a.input_min, ReadOptionalInt(item, "input_min", 0, 0, "the smallest input"));
  ASSIGN_OR_RETURN(a.input_max, ReadInt(item.Get("input_max"), 1, "the bucket's padded size"));
  RETURN_IF_ERROR(CheckBucket(item, a));
  ASSIGN_OR_RETURN(a.batch, ReadInt(item.Get("batch"), 1, "requests per batch"));
  ASSIGN_OR_RETURN(a.procs, ReadOptionalInt(item, "procs", 1, 1, "copies running at once"));
  ASSIGN_OR_RETURN(a.share, ReadShare(item));
  return a;
}

absl::StatusOr<std::optional<int>> ParseStart(const YamlView& item, const hw::Partition& p) {
  const bool mig = p.kind == hw::PartitionKind::kMig;
  if (!mig && item.Has("start")) {
    return item.Get("start").Error(
        fmt::format("start applies only to MIG instances, not to {}; remove it", p.ToString()));
  }
  if (!mig) return std::optional<int>();
  if (!item.Has("start")) {
    return item.Error(
        fmt::format("MIG instance {} needs `start`, the memory slice it begins at (e.g. start: 0)",
                    p.mig_profile));
  }
  ASSIGN_OR_RETURN(int start, ReadInt(item.Get("start"), 0, "a memory slice"));
  return std::optional<int>(start);
}

absl::StatusOr<PlanPartition> ParsePlanPartition(const YamlView& item) {
  RETURN_IF_ERROR(item.CheckKeys({"partition", "start", "assignments"}));
  PlanPartition out;
  YamlView text = item.Get("partition");
  ASSIGN_OR_RETURN(std::string partition, text.String());
  absl::StatusOr<hw::Partition> parsed = hw::ParsePartition(partition);
  if (!parsed.ok()) return text.Error(std::string(parsed.status().message()));
  out.partition = *std::move(parsed);
  ASSIGN_OR_RETURN(out.start, ParseStart(item, out.partition));
  if (!item.Has("assignments")) return out;  // an idle partition
  ASSIGN_OR_RETURN(std::vector<YamlView> items, item.Get("assignments").Items());
  for (const YamlView& a : items) {
    ASSIGN_OR_RETURN(Assignment assignment, ParseAssignment(a));
    out.assignments.push_back(std::move(assignment));
  }
  return out;
}

absl::StatusOr<PlanGpu> ParsePlanGpu(const YamlView& item) {
  RETURN_IF_ERROR(item.CheckKeys({"index", "uuid", "gpu", "partitions"}));
  PlanGpu gpu;
  ASSIGN_OR_RETURN(gpu.index, ReadInt(item.Get("index"), 0, "the GPU's index on its machine"));
  ASSIGN_OR_RETURN(gpu.uuid, ReadOptionalString(item, "uuid"));
  ASSIGN_OR_RETURN(gpu.gpu, ReadName(item.Get("gpu"), "a catalog GPU model, e.g. H100-SXM5-80GB"));
  ASSIGN_OR_RETURN(std::vector<YamlView> items, item.Get("partitions").Items());
  for (const YamlView& p : items) {
    ASSIGN_OR_RETURN(PlanPartition partition, ParsePlanPartition(p));
    gpu.partitions.push_back(std::move(partition));
  }
  return gpu;
}

absl::StatusOr<Plan> ParseRoot(const YamlView& root) {
  if (root.IsNull()) {
    return root.Error(
        "the document is empty; a plan has `name`, `planner` and `gpus` (see docs/formats.md)");
  }
  RETURN_IF_ERROR(root.CheckKeys({"name", "planner", "gpus"}));
  Plan plan;
  ASSIGN_OR_RETURN(plan.name, ReadOptionalString(root, "name"));
  ASSIGN_OR_RETURN(plan.planner, ReadOptionalString(root, "planner"));
  ASSIGN_OR_RETURN(std::vector<YamlView> items, root.Get("gpus").Items());
  for (const YamlView& g : items) {
    ASSIGN_OR_RETURN(PlanGpu gpu, ParsePlanGpu(g));
    plan.gpus.push_back(std::move(gpu));
  }
  return plan;
}

// A string as a YAML scalar: plain where that reads back as the same string, else double-quoted
// (a JSON string is a valid YAML double-quoted scalar). `flow` forbids the indicators of flow
// collections.
std::string Scalar(const std::string& text, bool flow) {
  auto plain_char = [flow](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_.+-/@").find(c) != std::string_view::npos || (!flow && c == ':');
  };
  const bool plain = !text.empty() && std::isalnum(static_cast<unsigned char>(text[0])) &&
                     std::all_of(text.begin(), text.end(), plain_char) && text.back() != ':' &&
                     text != "null" && text != "Null" && text != "NULL";
  return plain ? text : json(text).dump();
}

std::string AssignmentYaml(const Assignment& a) {
  std::vector<std::string> fields = {fmt::format("model: {}", Scalar(a.model, true))};
  if (a.input_min != 0) fields.push_back(fmt::format("input_min: {}", a.input_min));
  fields.push_back(fmt::format("input_max: {}", a.input_max));
  fields.push_back(fmt::format("batch: {}", a.batch));
  if (a.procs != 1) fields.push_back(fmt::format("procs: {}", a.procs));
  if (a.share != 1.0) fields.push_back(fmt::format("share: {}", a.share));
  return fmt::format("{{{}}}", fmt::join(fields, ", "));
}

std::string PartitionYaml(const PlanPartition& p) {
  std::string out = fmt::format("      - partition: {}\n", Scalar(p.partition.ToString(), false));
  if (p.start) out += fmt::format("        start: {}\n", *p.start);
  if (p.assignments.empty()) return out + "        assignments: []\n";
  out += "        assignments:\n";
  for (const Assignment& a : p.assignments) {
    out += fmt::format("          - {}\n", AssignmentYaml(a));
  }
  return out;
}

std::string GpuYaml(const PlanGpu& gpu) {
  std::string out = fmt::format("  - index: {}\n", gpu.index);
  if (!gpu.uuid.empty()) out += fmt::format("    uuid: {}\n", Scalar(gpu.uuid, false));
  out += fmt::format("    gpu: {}\n", Scalar(gpu.gpu, false));
  if (gpu.partitions.empty()) return out + "    partitions: []\n";
  out += "    partitions:\n";
  for (const PlanPartition& p : gpu.partitions) out += PartitionYaml(p);
  return out;
}

json AssignmentJson(const Assignment& a) {
  return {{"model", a.model}, {"input_min", a.input_min}, {"input_max", a.input_max},
          {"batch", a.batch}, {"procs", a.procs},         {"share", a.share}};
}

json PartitionJson(const PlanPartition& p) {
  json out = {{"partition", p.partition.ToString()}};
  if (p.start) out["start"] = *p.start;
  out["assignments"] = json::array();
  for (const Assignment& a : p.assignments) out["assignments"].push_back(AssignmentJson(a));
  return out;
}

json GpuJson(const PlanGpu& gpu) {
  json out = {{"index", gpu.index}};
  if (!gpu.uuid.empty()) out["uuid"] = gpu.uuid;
  out["gpu"] = gpu.gpu;
  out["partitions"] = json::array();
  for (const PlanPartition& p : gpu.partitions) out["partitions"].push_back(PartitionJson(p));
  return out;
}

// "3g.40gb@4", "sm:64".
std::string PartitionLabel(const PlanPartition& p) {
  std::string label = p.partition.ToString();
  if (p.start) label += fmt::format("@{}", *p.start);
  return label;
}

// The GPU's partitions in one line: MIG instances in memory-slice order, others as listed.
std::string DrawGpu(const PlanGpu& gpu) {
  std::vector<const PlanPartition*> order;
  for (const PlanPartition& p : gpu.partitions) order.push_back(&p);
  std::stable_sort(order.begin(), order.end(), [](const PlanPartition* a, const PlanPartition* b) {
    return a->start.value_or(-1) < b->start.value_or(-1);
  });
  std::string picture;
  for (const PlanPartition* p : order) picture += fmt::format("[{}]", PartitionLabel(*p));
  return picture.empty() ? "(no partitions)" : picture;
}

std::string DescribeAssignment(const Assignment& a) {
  return fmt::format("{} inputs {}..{} batch {} procs {} share {}", a.model, a.input_min,
                     a.input_max, a.batch, a.procs, a.share);
}

}  // namespace

std::string Plan::DebugString() const {
  std::string out = fmt::format("plan {} (planner {}), {} GPU(s)\n", name.empty() ? "-" : name,
                                planner.empty() ? "-" : planner, gpus.size());
  for (const PlanGpu& gpu : gpus) {
    out += fmt::format("gpu {} {}{}: {}\n", gpu.index, gpu.gpu,
                       gpu.uuid.empty() ? "" : " " + gpu.uuid, DrawGpu(gpu));
    for (size_t i = 0; i < gpu.partitions.size(); ++i) {
      const PlanPartition& p = gpu.partitions[i];
      out += fmt::format("  partitions[{}] {}:", i, PartitionLabel(p));
      if (p.assignments.empty()) out += " idle";
      out += "\n";
      for (const Assignment& a : p.assignments) out += "    " + DescribeAssignment(a) + "\n";
    }
  }
  return out;
}

absl::StatusOr<Plan> ParsePlan(std::string_view text, const std::string& source_name) {
  ASSIGN_OR_RETURN(YamlView root, YamlView::LoadString(text, source_name));
  return ParseRoot(root);
}

absl::StatusOr<Plan> LoadPlanFile(const std::string& path) {
  ASSIGN_OR_RETURN(YamlView root, YamlView::LoadFile(path));
  return ParseRoot(root);
}

std::string PlanToYaml(const Plan& plan) {
  std::string out;
  if (!plan.name.empty()) out += fmt::format("name: {}\n", Scalar(plan.name, false));
  if (!plan.planner.empty()) out += fmt::format("planner: {}\n", Scalar(plan.planner, false));
  if (plan.gpus.empty()) return out + "gpus: []\n";
  out += "gpus:\n";
  for (const PlanGpu& gpu : plan.gpus) out += GpuYaml(gpu);
  return out;
}

nlohmann::ordered_json PlanToJson(const Plan& plan) {
  json out = json::object();
  if (!plan.name.empty()) out["name"] = plan.name;
  if (!plan.planner.empty()) out["planner"] = plan.planner;
  out["gpus"] = json::array();
  for (const PlanGpu& gpu : plan.gpus) out["gpus"].push_back(GpuJson(gpu));
  return out;
}

}  // namespace tessera::plan
