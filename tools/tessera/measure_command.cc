// `tessera profiles measure` (the GPU profiler) and the hidden `tessera worker` (a MIG instance's
// worker process). Both exist in every build; without runtime_cuda (TESSERA_HAVE_CUDA) they check
// their flags and then say that this tessera cannot run CUDA.
#include <algorithm>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "fmt/format.h"
#include "tessera/base/csv.h"
#include "tessera/base/status.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/partition.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/runtime_cuda/profiler.h"  // plain structs; functions are called only with CUDA

#if TESSERA_HAVE_CUDA
#include "tessera/runtime_cuda/engine.h"
#include "tessera/runtime_cuda/worker.h"
#endif

namespace tessera::cli {

// Registered by the CLI: AddProfilesMeasureCommand in cli.h, AddWorkerCommand in cli.cc.
void AddWorkerCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

namespace {

using runtime_cuda::MeasureConfig;

constexpr char kNoCuda[] =
    "this tessera was built without the CUDA runtime (runtime_cuda): rebuild on a machine with "
    "the CUDA 13 toolkit";

struct MeasureFlags {
  std::string models, partitions, batches, inputs, list, output, gpu;
  int warmup = 10, repeats = 50, device = 0;
  uint64_t seed = 1;
  bool concurrent = false;
};

struct Vocabulary {
  hw::Catalog catalog;
  models::ModelRegistry registry;
};

// The models the CUDA engine runs. Without runtime_cuda, the list tessera/runtime_cuda/engine.h
// documents (the model zoo's), so that flags are checked the same way in every build.
std::vector<std::string> EngineModelNames() {
#if TESSERA_HAVE_CUDA
  return runtime_cuda::EngineModels();
#else
  return {"bert_base", "gpt2", "mobilenet_v2", "resnet50", "vgg16"};
#endif
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    items.push_back(item);
  }
  return items;
}

absl::StatusOr<std::vector<int>> IntList(const std::string& flag, const std::string& text) {
  std::vector<int> values;
  for (const std::string& item : SplitList(text)) {
    size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value < 1 || value > 1000000) {
      return absl::InvalidArgumentError(
          fmt::format("{} '{}': expected integers in 1..1000000, separated by commas", flag, item));
    }
    values.push_back(value);
  }
  if (values.empty()) return absl::InvalidArgumentError(fmt::format("{} is empty", flag));
  return values;
}

// A registry model the engine runs, by name or alias; its canonical name.
absl::StatusOr<const models::ModelInfo*> EngineModel(const Vocabulary& v, std::string_view name) {
  ASSIGN_OR_RETURN(const models::ModelInfo* info, v.registry.Find(name));
  std::vector<std::string> engine = EngineModelNames();
  if (std::find(engine.begin(), engine.end(), info->name) == engine.end()) {
    return absl::InvalidArgumentError(
        fmt::format("model {}: the CUDA engine does not run it (it runs {})", info->name,
                    fmt::join(engine, ", ")));
  }
  return info;
}

// "whole", "sm:N" or a MIG profile name; MPS shares are not measured.
absl::Status CheckPartitionText(const std::string& text) {
  if (text == "whole") return absl::OkStatus();
  absl::StatusOr<hw::Partition> p = hw::ParsePartition(text);
  if (!p.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("partition '{}': {} (or `whole`)", text, std::string(p.status().message())));
  }
  if (p->kind == hw::PartitionKind::kMps) {
    return absl::InvalidArgumentError(fmt::format(
        "partition {}: MPS shares are not measured; use sm:N (green contexts) or whole", text));
  }
  return absl::OkStatus();
}

absl::Status CheckInput(const models::ModelInfo& model, int input, std::string_view where) {
  if (input > model.max_input) {
    return absl::InvalidArgumentError(fmt::format("{}: input {} is above {}'s maximum {}", where,
                                                  input, model.name, model.max_input));
  }
  return absl::OkStatus();
}

// The grid of --models x --partitions x --inputs (or each model's reference input) x --batches.
absl::StatusOr<std::vector<MeasureConfig>> GridConfigs(const MeasureFlags& f, const Vocabulary& v) {
  if (f.models.empty() || f.partitions.empty() || f.batches.empty()) {
    return absl::InvalidArgumentError(
        "say what to measure: --models, --partitions and --batches (or --list FILE)");
  }
  ASSIGN_OR_RETURN(std::vector<int> batches, IntList("--batches", f.batches));
  std::vector<int> inputs;
  if (!f.inputs.empty()) {
    ASSIGN_OR_RETURN(inputs, IntList("--inputs", f.inputs));
  }
  std::vector<MeasureConfig> configs;
  for (const std::string& partition : SplitList(f.partitions)) {
    RETURN_IF_ERROR(CheckPartitionText(partition));
    for (const std::string& name : SplitList(f.models)) {
      ASSIGN_OR_RETURN(const models::ModelInfo* model, EngineModel(v, name));
      std::vector<int> sizes = inputs.empty() ? std::vector<int>{model->reference_input} : inputs;
      for (int input : sizes) {
        RETURN_IF_ERROR(CheckInput(*model, input, "--inputs"));
        for (int batch : batches) configs.push_back({model->name, input, batch, partition});
      }
    }
  }
  return configs;
}

absl::StatusOr<MeasureConfig> ListRow(const CsvRow& row, const Vocabulary& v, std::string& gpu) {
  ASSIGN_OR_RETURN(std::string_view gpu_text, row.Text("gpu"));
  absl::StatusOr<const hw::GpuModel*> found = v.catalog.Find(gpu_text);
  if (!found.ok()) return row.Error("gpu", std::string(found.status().message()));
  if (!gpu.empty() && (*found)->name != gpu) {
    return row.Error("gpu", fmt::format("{} differs from the list's first GPU {}; measure one GPU "
                                        "model per run",
                                        (*found)->name, gpu));
  }
  gpu = (*found)->name;
  MeasureConfig c;
  ASSIGN_OR_RETURN(std::string_view partition, row.Text("partition"));
  c.partition = std::string(partition);
  absl::Status ok = CheckPartitionText(c.partition);
  if (!ok.ok()) return row.Error("partition", std::string(ok.message()));
  ASSIGN_OR_RETURN(std::string_view name, row.Text("model"));
  absl::StatusOr<const models::ModelInfo*> model = EngineModel(v, name);
  if (!model.ok()) return row.Error("model", std::string(model.status().message()));
  c.model = (*model)->name;
  for (auto [column, field] : {std::pair{"input", &c.input}, std::pair{"batch", &c.batch}}) {
    ASSIGN_OR_RETURN(int64_t value, row.Int(column));
    if (value < 1 || value > 1000000) {
      return row.Error(column, fmt::format("{} is outside 1..1000000", value));
    }
    *field = static_cast<int>(value);
  }
  if (c.input > (*model)->max_input) {
    return row.Error(
        "input", fmt::format("{} is above {}'s maximum {}", c.input, c.model, (*model)->max_input));
  }
  ASSIGN_OR_RETURN(int64_t procs, row.Int("procs"));
  if (procs != 1) return row.Error("procs", "only procs 1 is measured (one copy per partition)");
  return c;
}

// The configurations of a list that `tessera profiles plan` wrote (docs/formats.md, configs.csv);
// `gpu` receives its GPU model.
absl::StatusOr<std::vector<MeasureConfig>> ListConfigs(const std::string& path, const Vocabulary& v,
                                                       std::string& gpu) {
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
  RETURN_IF_ERROR(reader.RequireColumns({"gpu", "partition", "model", "input", "batch", "procs"}));
  std::vector<MeasureConfig> configs;
  CsvRow row;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(row));
    if (!more) break;
    ASSIGN_OR_RETURN(MeasureConfig c, ListRow(row, v, gpu));
    configs.push_back(c);
  }
  if (configs.empty()) return absl::InvalidArgumentError(fmt::format("{}: lists nothing", path));
  return configs;
}

// Every configuration once, in first-seen order.
std::vector<MeasureConfig> Unique(const std::vector<MeasureConfig>& configs) {
  std::vector<MeasureConfig> unique;
  for (const MeasureConfig& c : configs) {
    if (std::find(unique.begin(), unique.end(), c) == unique.end()) unique.push_back(c);
  }
  return unique;
}

absl::Status CheckNumbers(const MeasureFlags& f) {
  if (f.device < 0) return absl::InvalidArgumentError("--device must be >= 0");
  if (f.warmup < 0 || f.warmup > 100000) {
    return absl::InvalidArgumentError("--warmup must be in 0..100000");
  }
  if (f.repeats < 1 || f.repeats > 100000) {
    return absl::InvalidArgumentError("--repeats must be in 1..100000");
  }
  return absl::OkStatus();
}

using Pair = std::pair<MeasureConfig, MeasureConfig>;

// --concurrent: model i on partition i (each sm:N), one pair per batch.
absl::StatusOr<std::vector<Pair>> ConcurrentPairs(const MeasureFlags& f, const Vocabulary& v) {
  std::vector<std::string> models = SplitList(f.models), partitions = SplitList(f.partitions);
  if (!f.list.empty() || models.size() != 2 || partitions.size() != 2 ||
      (!f.inputs.empty() && SplitList(f.inputs).size() != 1) || f.batches.empty()) {
    return absl::InvalidArgumentError(
        "--concurrent takes two --models, two --partitions (sm:N each; model i runs on partition "
        "i), --batches and at most one --inputs");
  }
  ASSIGN_OR_RETURN(std::vector<int> batches, IntList("--batches", f.batches));
  std::vector<int> inputs;
  if (!f.inputs.empty()) {
    ASSIGN_OR_RETURN(inputs, IntList("--inputs", f.inputs));
  }
  MeasureConfig side[2];
  for (int i = 0; i < 2; ++i) {
    RETURN_IF_ERROR(CheckPartitionText(partitions[i]));
    if (partitions[i].rfind("sm:", 0) != 0) {
      return absl::InvalidArgumentError(
          fmt::format("--concurrent: partition {} is not sm:N", partitions[i]));
    }
    ASSIGN_OR_RETURN(const models::ModelInfo* model, EngineModel(v, models[i]));
    side[i] = {model->name, inputs.empty() ? model->reference_input : inputs[0], 1, partitions[i]};
    RETURN_IF_ERROR(CheckInput(*model, side[i].input, "--inputs"));
  }
  std::vector<Pair> pairs;
  for (int batch : batches) {
    side[0].batch = side[1].batch = batch;
    pairs.emplace_back(side[0], side[1]);
  }
  return pairs;
}

#if TESSERA_HAVE_CUDA
absl::Status WriteOutput(const std::string& path, const std::string& text, std::ostream& out) {
  if (path == "-") {
    out << text;
    return absl::OkStatus();
  }
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file.good()) return absl::InvalidArgumentError(fmt::format("-o {}: cannot write", path));
  return absl::OkStatus();
}

runtime_cuda::MeasureOptions Options(const MeasureFlags& f) {
  runtime_cuda::MeasureOptions o;
  o.device = f.device;
  o.gpu = f.gpu;
  o.warmup = f.warmup;
  o.repeats = f.repeats;
  o.seed = f.seed;
  return o;
}

absl::Status RunConcurrent(const std::vector<Pair>& pairs, const MeasureFlags& f, std::ostream& out,
                           std::ostream& err) {
  std::vector<runtime_cuda::ConcurrentRow> rows;
  for (const auto& [a, b] : pairs) {
    ASSIGN_OR_RETURN(auto measured, runtime_cuda::MeasureConcurrent({a, b}, Options(f), err));
    rows.insert(rows.end(), measured.begin(), measured.end());
  }
  std::ostringstream csv;
  runtime_cuda::WriteConcurrentCsv(rows, csv);
  return WriteOutput(f.output, csv.str(), out);
}
#endif

// The configurations the flags ask for (none with --concurrent, which measures pairs); `list_gpu`
// receives the --list's GPU.
absl::StatusOr<std::vector<MeasureConfig>> Configs(const MeasureFlags& f, const Vocabulary& v,
                                                   std::string& list_gpu) {
  bool grid = !f.models.empty() || !f.partitions.empty() || !f.batches.empty() || !f.inputs.empty();
  if (!f.list.empty() && grid) {
    return absl::InvalidArgumentError(
        "--list FILE says what to measure: leave out --models, --partitions, --batches, --inputs");
  }
  std::vector<MeasureConfig> configs;
  if (f.concurrent) return configs;
  if (f.list.empty()) {
    ASSIGN_OR_RETURN(configs, GridConfigs(f, v));
  } else {
    ASSIGN_OR_RETURN(configs, ListConfigs(f.list, v, list_gpu));
  }
  return Unique(configs);
}

absl::Status RunMeasure(const MeasureFlags& f, std::ostream& out, std::ostream& err) {
  RETURN_IF_ERROR(CheckNumbers(f));
  Vocabulary v;
  ASSIGN_OR_RETURN(v.catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(v.registry, models::LoadDefaultModelRegistry());
  if (!f.gpu.empty()) RETURN_IF_ERROR(v.catalog.Find(f.gpu).status());
  std::string list_gpu;
  ASSIGN_OR_RETURN(std::vector<MeasureConfig> configs, Configs(f, v, list_gpu));
  std::vector<Pair> pairs;
  if (f.concurrent) {
    ASSIGN_OR_RETURN(pairs, ConcurrentPairs(f, v));
  }
#if TESSERA_HAVE_CUDA
  if (f.concurrent) return RunConcurrent(pairs, f, out, err);
  ASSIGN_OR_RETURN(perf::ProfileTable table,
                   runtime_cuda::MeasureProfiles(configs, Options(f), v.catalog, err));
  std::string gpu = table.size() > 0 ? table.rows().begin()->first.gpu : list_gpu;
  if (gpu != list_gpu && !list_gpu.empty()) {
    err << fmt::format("note: {} lists configurations of {}; this GPU is {}, and the rows say so\n",
                       f.list, list_gpu, gpu);
  }
  std::ostringstream csv;
  perf::WriteProfileCsv(table, csv);
  RETURN_IF_ERROR(WriteOutput(f.output, csv.str(), out));
  err << fmt::format("wrote {} measured rows to {}\n", table.size(), f.output);
  return absl::OkStatus();
#else
  (void)out;
  (void)err;
  return absl::FailedPreconditionError(kNoCuda);
#endif
}

absl::Status RunWorkerCommand(int channels, uint64_t seed) {
  if (channels < 1) return absl::InvalidArgumentError("--channels must be >= 1");
#if TESSERA_HAVE_CUDA
  return runtime_cuda::RunWorker(channels, seed);
#else
  (void)seed;
  return absl::FailedPreconditionError(kNoCuda);
#endif
}

}  // namespace

void AddProfilesMeasureCommand(CLI::App* profiles, std::ostream& out, std::ostream& err,
                               int& exit_code) {
  auto f = std::make_shared<MeasureFlags>();
  CLI::App* cmd = profiles->add_subcommand(
      "measure",
      "Measure latency (median of CUDA-graph replays) and memory on this machine's GPU, on "
      "green-context SM partitions, the whole GPU or the MIG instance it runs in");
  cmd->add_option("--models", f->models, "Models, comma-separated (resnet50,bert_base)");
  cmd->add_option("--partitions", f->partitions,
                  "Partitions: sm:N, whole, or the MIG profile "
                  "this process runs in (sm:16,sm:32,whole)");
  cmd->add_option("--batches", f->batches, "Batch sizes, comma-separated (1,2,4,8)");
  cmd->add_option("--inputs", f->inputs,
                  "Input sizes for every model, comma-separated (default: each model's "
                  "reference input)");
  cmd->add_option("--list", f->list,
                  "A configuration list (configs.csv of `tessera profiles plan`) instead of the "
                  "grid flags");
  cmd->add_option("--gpu", f->gpu, "Catalog GPU model for the rows (default: detected)");
  cmd->add_option("--warmup", f->warmup, "Untimed replays per configuration (default 10)");
  cmd->add_option("--repeats", f->repeats, "Timed replays per configuration (default 50)");
  cmd->add_option("--device", f->device, "CUDA device ordinal (default 0)");
  cmd->add_option("--seed", f->seed, "Weights and inputs (default 1)");
  cmd->add_flag("--concurrent", f->concurrent,
                "Two models on disjoint SM partitions, alone and side by side (writes "
                "model,partition,input,batch,alone_ms,together_ms,slowdown,neighbour)");
  cmd->add_option("-o,--output", f->output, "Where to write the profile CSV ('-': stdout)")
      ->required();
  cmd->callback(Callback([f, &out, &err] { return RunMeasure(*f, out, err); }, err, exit_code));
}

void AddWorkerCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto channels = std::make_shared<int>(1);
  auto seed = std::make_shared<uint64_t>(1);
  CLI::App* cmd = app.add_subcommand(
      "worker", "Serve a MIG instance for the CUDA backend (internal: started by `tessera serve`)");
  cmd->group("");  // hidden from --help
  cmd->add_option("--channels", *channels, "Executor channels on fds 3.. (default 1)");
  cmd->add_option("--seed", *seed, "Weights and inputs (default 1)");
  (void)out;
  cmd->callback(
      Callback([channels, seed] { return RunWorkerCommand(*channels, *seed); }, err, exit_code));
}

}  // namespace tessera::cli
