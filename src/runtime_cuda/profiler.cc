#include "tessera/runtime_cuda/profiler.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "fmt/core.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "runtime_cuda/internal/measure.h"
#include "tessera/base/status.h"
#include "tessera/driver/nvml_driver.h"

namespace tessera::runtime_cuda {
namespace internal {

absl::StatusOr<DeviceInfo> ReadDevice(int device) {
  int count = 0;
  RETURN_IF_CUDA_ERROR(cudaGetDeviceCount(&count));
  if (device >= count) {
    return absl::InvalidArgumentError(
        fmt::format("--device {}: CUDA sees {} device(s)", device, count));
  }
  cudaDeviceProp prop{};
  RETURN_IF_CUDA_ERROR(cudaGetDeviceProperties(&prop, device));
  DeviceInfo info;
  info.device = device;
  info.name = prop.name;
  info.sm_count = prop.multiProcessorCount;
  size_t mig = info.name.find(" MIG ");
  if (mig != std::string::npos) info.mig_profile = info.name.substr(mig + 5);
  return info;
}

absl::Status Place::MakeCurrent(int device) const {
  if (green != nullptr) return green->MakeCurrent();
  RETURN_IF_CUDA_ERROR(cudaSetDevice(device));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Place>> MakePlace(const std::string& partition,
                                                 const DeviceInfo& device, std::ostream& progress) {
  auto place = std::make_unique<Place>();
  bool sm = partition.rfind("sm:", 0) == 0;
  if (!device.mig_profile.empty()) {
    if (partition != "whole" && partition != device.mig_profile) {
      return absl::FailedPreconditionError(fmt::format(
          "partition {}: this process runs inside MIG instance {} ({}), where only that "
          "partition (or `whole`) can be measured; run once per MIG instance with "
          "CUDA_VISIBLE_DEVICES=MIG-<uuid>",
          partition, device.mig_profile, device.name));
    }
    place->written = hw::Partition::Mig(device.mig_profile);
    return place;
  }
  if (!sm && partition != "whole") {
    return absl::FailedPreconditionError(fmt::format(
        "partition {}: a MIG profile is measured inside that MIG instance (CUDA_VISIBLE_DEVICES="
        "MIG-<uuid> tessera profiles measure --partitions {} ...); this device ({}) is not one",
        partition, partition, device.name));
  }
  ASSIGN_OR_RETURN(hw::Partition parsed,
                   sm ? hw::ParsePartition(partition) : hw::Partition::Sm(device.sm_count));
  if (parsed.sms >= device.sm_count) {
    place->written = hw::Partition::Sm(device.sm_count);
    return place;
  }
  ASSIGN_OR_RETURN(place->split, SmSplit::Create(device.device, {parsed.sms}));
  ASSIGN_OR_RETURN(place->green, place->split->NewContext(0));
  RETURN_IF_ERROR(place->green->MakeCurrent());
  ASSIGN_OR_RETURN(place->stream, place->green->NewStream());
  place->written = hw::Partition::Sm(place->split->sms(0));
  if (place->split->sms(0) != parsed.sms) {
    progress << fmt::format("note: {} was granted {} SMs (the GPU's split rule); rows say sm:{}\n",
                            partition, place->split->sms(0), place->split->sms(0));
  }
  return place;
}

absl::StatusOr<std::unique_ptr<Engine>> MakeEngine(const Place& place, int device, uint64_t seed) {
  RETURN_IF_ERROR(place.MakeCurrent(device));
  EngineOptions options;
  options.stream = place.stream;
  options.seed = seed;
  return Engine::Create(options);
}

absl::StatusOr<std::vector<double>> TimeReplays(Engine& engine, const ModelKey& key, int warmup,
                                                int repeats) {
  for (int i = 0; i < warmup; ++i) RETURN_IF_ERROR(engine.Run(key).status());
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    ASSIGN_OR_RETURN(double ns, engine.Run(key));
    ms.push_back(ns / 1e6);
  }
  return ms;
}

}  // namespace internal

namespace {

using internal::DeviceInfo;
using internal::Place;

// The catalog name of the measured GPU: --gpu, else NVML's PCI device id of the GPU with the
// device's UUID, else the device's name (without its " MIG ..." suffix) as a catalog alias.
absl::StatusOr<std::string> DetectGpu(const MeasureOptions& options, const DeviceInfo& device,
                                      const hw::Catalog& catalog) {
  if (!options.gpu.empty()) {
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, catalog.Find(options.gpu));
    return gpu->name;
  }
  cudaDeviceProp prop{};
  RETURN_IF_CUDA_ERROR(cudaGetDeviceProperties(&prop, device.device));
  std::string uuid =
      FormatUuid(reinterpret_cast<const unsigned char*>(prop.uuid.bytes), /*mig=*/false);
  absl::StatusOr<std::unique_ptr<driver::GpuDriver>> nvml = driver::OpenNvmlDriver();
  absl::StatusOr<std::vector<driver::GpuInfo>> gpus =
      nvml.ok() ? (*nvml)->ListGpus() : absl::StatusOr<std::vector<driver::GpuInfo>>(nvml.status());
  for (const driver::GpuInfo& gpu : gpus.ok() ? *gpus : std::vector<driver::GpuInfo>()) {
    const hw::GpuModel* model = catalog.FindByPciDeviceId(gpu.pci_device_id);
    if (gpu.uuid == uuid && model != nullptr) return model->name;
  }
  std::string name = device.name.substr(0, device.name.find(" MIG "));
  absl::StatusOr<const hw::GpuModel*> by_name = catalog.Find(name);
  if (by_name.ok()) return (*by_name)->name;
  return absl::FailedPreconditionError(fmt::format(
      "cannot tell which catalog GPU device {} ({}) is; pass --gpu NAME (see `tessera gpus "
      "catalog`)",
      device.device, device.name));
}

// Rows of one (partition, model, input), batches ascending, on one engine.
absl::Status MeasureGroup(const std::vector<MeasureConfig>& group, const Place& place,
                          const DeviceInfo& device, const std::string& gpu,
                          const MeasureOptions& options, perf::ProfileTable& table,
                          std::ostream& progress) {
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine,
                   internal::MakeEngine(place, device.device, options.seed));
  int64_t first = -1, previous = 0;
  for (const MeasureConfig& c : group) {
    ModelKey key{c.model, c.batch, c.input};
    RETURN_IF_ERROR(engine->Prepare(key));
    int64_t now = engine->MemoryBytes();
    int64_t bytes = first < 0 ? now : first + (now - previous);
    if (first < 0) first = now;
    previous = now;
    ASSIGN_OR_RETURN(std::vector<double> ms,
                     internal::TimeReplays(*engine, key, options.warmup, options.repeats));
    perf::ProfileRow row;
    row.key = {gpu, place.written, c.model, c.input, c.batch, 1};
    row.latency_ms = Median(ms);
    row.latency_ms_p90 = Quantile(ms, 0.9);
    row.memory_mib = std::round(static_cast<double>(bytes) / (1 << 20));
    progress << fmt::format("{} {} input {} batch {}: {:.4f} ms (p90 {:.4f}), {:.0f} MiB\n",
                            place.written.ToString(), c.model, c.input, c.batch, row.latency_ms,
                            *row.latency_ms_p90, *row.memory_mib);
    RETURN_IF_ERROR(table.Add(row));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MeasureOptions::Validate() const {
  if (device < 0) return absl::InvalidArgumentError("--device must be >= 0");
  if (warmup < 0 || warmup > 100000) {
    return absl::InvalidArgumentError("--warmup must be in 0..100000");
  }
  if (repeats < 1 || repeats > 100000) {
    return absl::InvalidArgumentError("--repeats must be in 1..100000");
  }
  return absl::OkStatus();
}

double Quantile(std::vector<double> samples, double q) {
  std::sort(samples.begin(), samples.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
  return samples[std::clamp<size_t>(rank, 1, samples.size()) - 1];
}

double Median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  return n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

absl::StatusOr<perf::ProfileTable> MeasureProfiles(const std::vector<MeasureConfig>& configs,
                                                   const MeasureOptions& options,
                                                   const hw::Catalog& catalog,
                                                   std::ostream& progress) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(DeviceInfo device, internal::ReadDevice(options.device));
  ASSIGN_OR_RETURN(std::string gpu, DetectGpu(options, device, catalog));
  progress << fmt::format("measuring {} configurations on device {} ({}, {} SMs) as {}\n",
                          configs.size(), device.device, device.name, device.sm_count, gpu);
  std::vector<std::string> partitions;  // first-seen order
  std::map<std::string, std::map<std::tuple<std::string, int>, std::vector<MeasureConfig>>> groups;
  for (const MeasureConfig& c : configs) {
    if (!groups.count(c.partition)) partitions.push_back(c.partition);
    groups[c.partition][{c.model, c.input}].push_back(c);
  }
  perf::ProfileTable table;
  for (const std::string& partition : partitions) {
    ASSIGN_OR_RETURN(std::unique_ptr<Place> place,
                     internal::MakePlace(partition, device, progress));
    for (auto& [model_input, group] : groups[partition]) {
      std::sort(group.begin(), group.end(),
                [](const MeasureConfig& a, const MeasureConfig& b) { return a.batch < b.batch; });
      RETURN_IF_ERROR(MeasureGroup(group, *place, device, gpu, options, table, progress));
    }
  }
  return table;
}

}  // namespace tessera::runtime_cuda
