// `tessera gpus`, `gpus catalog`, `gpus layouts`, `gpus verify`.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "fmt/ranges.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"
#include "tessera/base/table.h"
#include "tessera/driver/nvml_driver.h"
#include "tessera/driver/verify.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/catalog_json.h"
#include "tessera/hw/layout.h"

namespace tessera::cli {
namespace {

using json = nlohmann::ordered_json;

struct CatalogOptions {
  std::string catalog_dir;  // empty: the bundled data/gpus
  std::string gpu;          // empty: every model
  bool json = false;
};

struct LayoutsOptions {
  std::string catalog_dir;
  std::string gpu;
  std::vector<std::string> mig_profiles;  // empty: every profile without +me
  bool stuck = false;
  bool multisets = false;
  bool maximal = false;
  bool json = false;
};

struct MachineOptions {
  std::string catalog_dir;
  int gpu_index = -1;  // -1: every GPU
  bool json = false;
};

absl::StatusOr<hw::Catalog> LoadCatalog(const std::string& dir) {
  return dir.empty() ? hw::LoadDefaultCatalog() : hw::LoadCatalogDir(dir);
}

std::string Opt(const std::optional<int>& v) { return v ? std::to_string(*v) : "-"; }
std::string Opt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }
std::string Opt(const std::optional<double>& v) { return v ? fmt::format("{:g}", *v) : "-"; }

std::string Placements(const hw::MigProfile& p) {
  return fmt::format("{{{}}}:{}", fmt::join(p.starts, ","), p.memory_slices);
}

std::string ProfileTable(const hw::GpuModel& gpu) {
  TextTable table({"profile", "id", "slices", "SMs", "memory MiB", "CE", "DEC", "ENC", "JPEG",
                   "OFA", "max", "placements {starts}:size", "verified"});
  for (size_t c : {1, 3, 4, 5, 6, 7, 8, 9, 10}) table.SetRightAligned(c);
  for (const hw::MigProfile& p : gpu.profiles) {
    table.AddRow({p.name, Opt(p.nvml_id), fmt::format("{}g/{}m", p.compute_slices, p.memory_slices),
                  Opt(p.sms), Opt(p.memory_mib), Opt(p.engines.copy), Opt(p.engines.decoder),
                  Opt(p.engines.encoder), Opt(p.engines.jpeg), Opt(p.engines.ofa),
                  std::to_string(p.max_count), Placements(p),
                  p.provenance.verified ? "yes" : "no"});
  }
  return table.Render();
}

std::string GpuHeader(const hw::GpuModel& gpu) {
  std::vector<std::string> pci;
  for (uint32_t id : gpu.pci_device_ids) pci.push_back(fmt::format("0x{:04X}", id));
  std::string text = fmt::format("{} (aliases: {})\n", gpu.name, fmt::join(gpu.aliases, ", "));
  text +=
      fmt::format("  {} SMs, memory {}, {} compute / {} memory slices; PCI device ids {}\n",
                  Opt(gpu.sms), gpu.memory_mib ? fmt::format("{} MiB", *gpu.memory_mib) : "unknown",
                  gpu.compute_slices, gpu.memory_slices, fmt::join(pci, " "));
  text += fmt::format("  SM partitions (green contexts, MPS): at least {} SMs, multiples of {}\n",
                      gpu.sm_partition.min_sms, gpu.sm_partition.multiple);
  text += fmt::format("  peak dense fp16 {} TFLOP/s, memory bandwidth {} GB/s ({})\n",
                      Opt(gpu.peak_fp16_dense_tflops), Opt(gpu.memory_bandwidth_gbps),
                      gpu.peak_provenance.source);
  return text;
}

absl::Status RunCatalog(const CatalogOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(hw::Catalog catalog, LoadCatalog(options.catalog_dir));
  std::vector<const hw::GpuModel*> gpus;
  if (options.gpu.empty()) {
    for (const hw::GpuModel& gpu : catalog.gpus()) gpus.push_back(&gpu);
  } else {
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, catalog.Find(options.gpu));
    gpus.push_back(gpu);
  }
  if (options.json) {
    json all = json::array();
    for (const hw::GpuModel* gpu : gpus) all.push_back(hw::GpuModelToJson(*gpu));
    out << all.dump(2) << "\n";
    return absl::OkStatus();
  }
  for (size_t i = 0; i < gpus.size(); ++i) {
    if (i > 0) out << "\n";
    out << GpuHeader(*gpus[i]) << "\n" << ProfileTable(*gpus[i]);
  }
  out << "\n'-' is a value the catalog does not know; 'verified' means read through NVML on that "
         "GPU model.\n";
  return absl::OkStatus();
}

json LayoutJson(const hw::GpuModel& gpu, const hw::PlacedLayout& layout) {
  json instances = json::array();
  for (const hw::Placement& p : layout.instances) {
    instances.push_back({{"profile", gpu.profiles[p.profile].name}, {"start", p.start}});
  }
  return instances;
}

json MultisetJson(const hw::GpuModel& gpu, const hw::Multiset& multiset) {
  json counts = json::object();
  for (size_t p = 0; p < multiset.size(); ++p) {
    if (multiset[p] > 0) counts[gpu.profiles[p].name] = multiset[p];
  }
  return counts;
}

absl::Status RunLayouts(const LayoutsOptions& options, std::ostream& out) {
  if (options.maximal && !options.multisets) {
    return absl::InvalidArgumentError("--maximal applies to multisets; add --multisets");
  }
  if (options.stuck && options.multisets) {
    return absl::InvalidArgumentError(
        "--stuck applies to placed layouts, --multisets lists multisets; use one of them");
  }
  ASSIGN_OR_RETURN(hw::Catalog catalog, LoadCatalog(options.catalog_dir));
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, catalog.Find(options.gpu));
  if (gpu->profiles.empty()) {
    return absl::FailedPreconditionError(fmt::format("{} has no MIG profiles", gpu->name));
  }
  hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(*gpu);
  if (!options.mig_profiles.empty()) {
    ASSIGN_OR_RETURN(space, hw::LayoutSpace::Create(*gpu, options.mig_profiles));
  }
  json items = json::array();
  size_t count = 0;
  if (options.multisets) {
    for (const hw::Multiset& m : space.Multisets()) {
      if (options.maximal && !space.IsMaximal(m)) continue;
      ++count;
      if (options.json)
        items.push_back(MultisetJson(*gpu, m));
      else
        out << hw::DescribeMultiset(*gpu, m) << "\n";
    }
  } else {
    for (const hw::PlacedLayout& l : space.PlacedLayouts()) {
      if (options.stuck && !space.IsStuck(l)) continue;
      ++count;
      if (options.json)
        items.push_back(LayoutJson(*gpu, l));
      else
        out << hw::DrawLayout(*gpu, l) << "\n";
    }
  }
  std::string noun = options.multisets ? (options.maximal ? "maximal multisets" : "multisets")
                                       : (options.stuck ? "stuck layouts" : "layouts");
  if (options.json) {
    std::vector<std::string> names;
    for (int p : space.profiles()) names.push_back(gpu->profiles[p].name);
    json doc = {{"gpu", gpu->name},
                {"mig_profiles", names},
                {"kind", noun},
                {"count", count},
                {"items", items}};
    out << doc.dump(2) << "\n";
  } else {
    out << count << " " << noun << "\n";
  }
  return absl::OkStatus();
}

std::string MigState(const driver::GpuInfo& g) {
  if (g.mig_current == g.mig_pending) return driver::MigModeName(g.mig_current);
  return fmt::format("{} (pending {})", driver::MigModeName(g.mig_current),
                     driver::MigModeName(g.mig_pending));
}

absl::Status RunList(const MachineOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(hw::Catalog catalog, LoadCatalog(options.catalog_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<driver::GpuDriver> nvml, driver::OpenNvmlDriver());
  ASSIGN_OR_RETURN(std::vector<driver::GpuInfo> gpus, nvml->ListGpus());
  json doc = json::array();
  TextTable table({"index", "name", "uuid", "pci id", "memory MiB", "MIG", "catalog model"});
  for (const driver::GpuInfo& g : gpus) {
    const hw::GpuModel* model = catalog.FindByPciDeviceId(g.pci_device_id);
    std::string model_name = model ? model->name : "unknown (not in the catalog)";
    table.AddRow({std::to_string(g.index), g.name, g.uuid, fmt::format("0x{:04X}", g.pci_device_id),
                  std::to_string(g.memory_total_mib), MigState(g), model_name});
    doc.push_back({{"index", g.index},
                   {"name", g.name},
                   {"uuid", g.uuid},
                   {"pci_device_id", fmt::format("0x{:04X}", g.pci_device_id)},
                   {"pci_bus_id", g.pci_bus_id},
                   {"memory_total_mib", g.memory_total_mib},
                   {"mig_current", driver::MigModeName(g.mig_current)},
                   {"mig_pending", driver::MigModeName(g.mig_pending)},
                   {"catalog_model", model ? json(model->name) : json(nullptr)}});
  }
  if (options.json) {
    out << doc.dump(2) << "\n";
  } else {
    out << table.Render() << gpus.size() << " GPU(s) found through " << nvml->Name() << "\n";
  }
  return absl::OkStatus();
}

void PrintVerification(const driver::GpuInfo& g, const hw::GpuModel& model, size_t reported,
                       const std::vector<driver::Difference>& diffs, size_t disagreements,
                       std::ostream& out) {
  out << fmt::format("GPU {}: {} ({}) against catalog entry {}: {} profiles reported\n", g.index,
                     g.name, g.uuid, model.name, reported);
  if (disagreements == 0) out << "  matches the catalog in every value the catalog knows\n";
  for (bool unknown : {false, true}) {
    TextTable table({"where", "catalog", "hardware"});
    size_t rows = 0;
    for (const driver::Difference& d : diffs) {
      if (d.unknown_in_catalog != unknown) continue;
      table.AddRow({d.where, d.catalog, d.hardware});
      ++rows;
    }
    if (rows == 0) continue;
    out << (unknown ? "  values the catalog does not know yet (fill them in, marked verified):\n"
                    : "  disagreements:\n")
        << table.Render();
  }
}

// Returns the number of disagreements found (values the catalog does not know are not counted).
absl::StatusOr<size_t> RunVerify(const MachineOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(hw::Catalog catalog, LoadCatalog(options.catalog_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<driver::GpuDriver> nvml, driver::OpenNvmlDriver());
  ASSIGN_OR_RETURN(std::vector<driver::GpuInfo> gpus, nvml->ListGpus());
  if (options.gpu_index >= static_cast<int>(gpus.size())) {
    return absl::NotFoundError(fmt::format("--gpu {}: the machine has {} GPU(s), indices 0..{}",
                                           options.gpu_index, gpus.size(),
                                           static_cast<int>(gpus.size()) - 1));
  }
  size_t total = 0;
  json doc = json::array();
  for (const driver::GpuInfo& g : gpus) {
    if (options.gpu_index >= 0 && g.index != options.gpu_index) continue;
    const hw::GpuModel* model = catalog.FindByPciDeviceId(g.pci_device_id);
    if (model == nullptr) {
      out << fmt::format("GPU {} ({}, PCI 0x{:04X}): no catalog entry; add one to data/gpus/\n",
                         g.index, g.name, g.pci_device_id);
      ++total;
      doc.push_back({{"index", g.index}, {"name", g.name}, {"catalog_model", nullptr}});
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<driver::ProfileInfo> seen, nvml->GetProfiles(g.index));
    std::vector<driver::Difference> diffs = driver::CompareWithCatalog(g, seen, *model);
    size_t disagreements = std::count_if(diffs.begin(), diffs.end(),
                                         [](const auto& d) { return !d.unknown_in_catalog; });
    total += disagreements;
    json jdiffs = json::array();
    for (const driver::Difference& d : diffs) {
      jdiffs.push_back({{"where", d.where},
                        {"catalog", d.catalog},
                        {"hardware", d.hardware},
                        {"unknown_in_catalog", d.unknown_in_catalog}});
    }
    doc.push_back({{"index", g.index},
                   {"name", g.name},
                   {"catalog_model", model->name},
                   {"profiles_reported", seen.size()},
                   {"differences", jdiffs}});
    if (!options.json) PrintVerification(g, *model, seen.size(), diffs, disagreements, out);
  }
  if (options.json)
    out << doc.dump(2) << "\n";
  else
    out << total << " disagreement(s)\n";
  return total;
}

void AddCatalogFlag(CLI::App* cmd, std::string& dir) {
  cmd->add_option("--catalog", dir,
                  "Folder of GPU model YAML files (default: the bundled data/gpus)")
      ->check(CLI::ExistingDirectory);
}

}  // namespace

void AddGpusCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto machine = std::make_shared<MachineOptions>();
  CLI::App* gpus = app.add_subcommand(
      "gpus", "List this machine's NVIDIA GPUs and their MIG state (through NVML; reads only)");
  AddCatalogFlag(gpus, machine->catalog_dir);
  gpus->add_flag("--json", machine->json, "Print JSON");
  gpus->callback([machine, gpus, &out, &err, &exit_code] {
    if (!gpus->get_subcommands().empty()) return;
    absl::Status status = RunList(*machine, out);
    if (!status.ok()) exit_code = ReportError(status, err);
  });

  auto catalog = std::make_shared<CatalogOptions>();
  CLI::App* cat = gpus->add_subcommand(
      "catalog", "Print the MIG profiles (like nvidia-smi mig -lgip) and placements (-lgipp)");
  AddCatalogFlag(cat, catalog->catalog_dir);
  cat->add_option("--gpu", catalog->gpu, "GPU model name or alias (default: every model)");
  cat->add_flag("--json", catalog->json, "Print JSON");
  cat->callback([catalog, &out, &err, &exit_code] {
    absl::Status status = RunCatalog(*catalog, out);
    if (!status.ok()) exit_code = ReportError(status, err);
  });

  auto layouts = std::make_shared<LayoutsOptions>();
  CLI::App* lay = gpus->add_subcommand(
      "layouts", "List every legal placed MIG layout of a GPU model, or its placeable multisets");
  AddCatalogFlag(lay, layouts->catalog_dir);
  lay->add_option("--gpu", layouts->gpu, "GPU model name or alias")->required();
  lay->add_option("--mig-profiles", layouts->mig_profiles,
                  "Comma-separated profiles to consider (default: all but the +me variants)")
      ->delimiter(',');
  lay->add_flag("--stuck", layouts->stuck,
                "Only layouts where no considered profile fits any more");
  lay->add_flag("--multisets", layouts->multisets, "List placeable multisets instead of layouts");
  lay->add_flag("--maximal", layouts->maximal,
                "With --multisets: only those nothing can be added to");
  lay->add_flag("--json", layouts->json, "Print JSON");
  lay->callback([layouts, &out, &err, &exit_code] {
    absl::Status status = RunLayouts(*layouts, out);
    if (!status.ok()) exit_code = ReportError(status, err);
  });

  auto verify = std::make_shared<MachineOptions>();
  CLI::App* ver = gpus->add_subcommand(
      "verify",
      "Compare what NVML reports (profiles, SMs, memory, placements) with the catalog; "
      "exit code 1 when they differ");
  AddCatalogFlag(ver, verify->catalog_dir);
  ver->add_option("--gpu", verify->gpu_index, "Only this GPU index")->check(CLI::NonNegativeNumber);
  ver->add_flag("--json", verify->json, "Print JSON");
  ver->callback([verify, &out, &err, &exit_code] {
    absl::StatusOr<size_t> differences = RunVerify(*verify, out);
    if (!differences.ok())
      exit_code = ReportError(differences.status(), err);
    else if (*differences > 0)
      exit_code = 1;
  });
}

}  // namespace tessera::cli
