#include "tessera/runtime_cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "tessera/base/paths.h"
#include "tessera/base/status.h"
#include "tessera/driver/nvml_driver.h"
#include "tessera/runtime_cuda/engine.h"
#include "tessera/runtime_cuda/green_context.h"
#include "tessera/runtime_cuda/mig.h"
#include "tessera/runtime_cuda/worker.h"

namespace tessera::runtime_cuda {
namespace {

using serving::SlotInfo;

// One executor of one slot: an in-process Engine (on a green context or a whole device), or a
// channel of a MIG worker process.
struct Executor {
  int device = 0;
  std::unique_ptr<GreenContext> green;  // declared before the engine: destroyed after it
  std::unique_ptr<Engine> engine;
  WorkerProcess* worker = nullptr;
  int channel = 0;
  std::string model;
  int input = 0;
  std::vector<int> sizes;
};

std::string SlotPath(const SlotInfo& s) {
  return fmt::format("gpus[{}].partitions[{}].assignments[{}]", s.ref.gpu, s.ref.partition,
                     s.ref.assignment);
}

absl::Status Annotate(const absl::Status& status, const std::string& where) {
  if (status.ok()) return status;
  return absl::Status(status.code(), fmt::format("{}: {}", where, std::string(status.message())));
}

absl::StatusOr<int> DeviceCount() {
  int count = 0;
  RETURN_IF_CUDA_ERROR(cudaGetDeviceCount(&count));
  if (count == 0) {
    return absl::UnavailableError(
        "the CUDA backend needs an NVIDIA GPU and driver, and CUDA sees no device");
  }
  return count;
}

// The CUDA ordinal of the slot's plan GPU.
absl::StatusOr<int> ResolveDevice(const SlotInfo& s, int count) {
  if (!s.gpu_uuid.empty()) return DeviceByUuid(s.gpu_uuid);
  if (s.gpu_index >= count) {
    return absl::FailedPreconditionError(fmt::format(
        "plan GPU index {} has no CUDA device (CUDA sees {}); bind the plan to GPUs by uuid or "
        "set CUDA_DEVICE_ORDER=PCI_BUS_ID and CUDA_VISIBLE_DEVICES",
        s.gpu_index, count));
  }
  return s.gpu_index;
}

class CudaBackend : public serving::Backend {
 public:
  explicit CudaBackend(CudaBackendOptions options) : options_(std::move(options)) {}
  ~CudaBackend() override { Stop(); }

  std::string_view name() const override { return "cuda"; }

  absl::Status Start(const std::vector<SlotInfo>& slots) override {
    if (!executors_.empty()) return absl::FailedPreconditionError("the backend is started");
    absl::Status status = StartAll(slots);
    if (!status.ok()) Stop();
    return status;
  }

  absl::Status RunBatch(int slot, int executor, int batch) override {
    if (slot < 0 || slot >= static_cast<int>(executors_.size()) || executor < 0 ||
        executor >= static_cast<int>(executors_[slot].size()) || batch < 1) {
      return absl::InvalidArgumentError(fmt::format(
          "RunBatch({}, {}, {}): no such slot, executor or batch", slot, executor, batch));
    }
    Executor& x = executors_[slot][executor];
    int size = PaddedBatch(x.sizes, batch);
    if (x.worker != nullptr) {
      return x.worker->Call(x.channel, WorkerRequest::Run(x.model, x.input, size)).status();
    }
    if (x.green != nullptr) {
      RETURN_IF_ERROR(x.green->MakeCurrent());
    } else {
      RETURN_IF_CUDA_ERROR(cudaSetDevice(x.device));
    }
    return x.engine->Run({x.model, size, x.input}).status();
  }

  void Stop() override {
    // Each engine is destroyed with its own context current (its memory, graphs and handles
    // belong to it), then its green context.
    for (std::vector<Executor>& slot : executors_) {
      for (Executor& x : slot) {
        if (x.green != nullptr && x.engine != nullptr && x.green->MakeCurrent().ok()) {
          x.engine.reset();
        }
      }
    }
    executors_.clear();
    splits_.clear();
    workers_.clear();
  }

 private:
  absl::Status StartAll(const std::vector<SlotInfo>& slots);
  absl::Status StartSmGpu(const std::vector<SlotInfo>& slots, const std::vector<int>& members,
                          int count);
  absl::Status StartMigPartition(const std::vector<SlotInfo>& slots,
                                 const std::vector<int>& members, driver::GpuDriver& nvml);
  absl::Status PrepareLocal(const SlotInfo& s, Executor& x, const SmSplit* split, int part);
  void InitExecutor(const SlotInfo& s, Executor& x) const {
    x.model = s.model;
    x.input = s.input_max;
    x.sizes = options_.every_batch ? std::vector<int>() : CaptureBatchSizes(s.batch);
    for (int b = 1; options_.every_batch && b <= s.batch; ++b) x.sizes.push_back(b);
  }

  CudaBackendOptions options_;
  std::vector<std::unique_ptr<SmSplit>> splits_;  // outlive the executors' contexts
  std::vector<std::unique_ptr<WorkerProcess>> workers_;
  std::vector<std::vector<Executor>> executors_;  // per slot, per executor
};

absl::Status CudaBackend::StartAll(const std::vector<SlotInfo>& slots) {
  std::map<int, std::vector<int>> sm_by_gpu, mig_by_partition;  // -> slot indices
  for (int i = 0; i < static_cast<int>(slots.size()); ++i) {
    const SlotInfo& s = slots[i];
    switch (s.partition.kind) {
      case hw::PartitionKind::kSm:
        sm_by_gpu[s.ref.gpu].push_back(i);
        break;
      case hw::PartitionKind::kMig:
        mig_by_partition[s.partition_id].push_back(i);
        break;
      case hw::PartitionKind::kMps:
        return absl::FailedPreconditionError(fmt::format(
            "{}: the cuda backend does not serve MPS partitions ({}); plan SM partitions "
            "(sm:N, green contexts) instead, or serve with --backend emulated",
            SlotPath(s), s.partition.ToString()));
    }
  }
  executors_.resize(slots.size());
  // MIG workers see their instance through CUDA_VISIBLE_DEVICES; this process needs a device only
  // for SM partitions (on a GPU with MIG enabled it may see none).
  int count = 0;
  if (!sm_by_gpu.empty() || mig_by_partition.empty()) {
    ASSIGN_OR_RETURN(count, DeviceCount());
  }
  for (const auto& [gpu, members] : sm_by_gpu) {
    RETURN_IF_ERROR(StartSmGpu(slots, members, count));
  }
  if (mig_by_partition.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::unique_ptr<driver::GpuDriver> nvml, driver::OpenNvmlDriver());
  for (const auto& [partition, members] : mig_by_partition) {
    RETURN_IF_ERROR(StartMigPartition(slots, members, *nvml));
  }
  return absl::OkStatus();
}

// The SM partitions of one plan GPU: one split (or the whole device), then every executor.
absl::Status CudaBackend::StartSmGpu(const std::vector<SlotInfo>& slots,
                                     const std::vector<int>& members, int count) {
  const SlotInfo& first = slots[members.front()];
  std::string where = fmt::format("gpus[{}]", first.ref.gpu);
  absl::StatusOr<int> device = ResolveDevice(first, count);
  RETURN_IF_ERROR(Annotate(device.status(), where));
  std::map<int, int> part_of;  // partition_id -> index in the split
  std::vector<int> sms;
  for (int i : members) {
    if (part_of.emplace(slots[i].partition_id, static_cast<int>(sms.size())).second) {
      sms.push_back(slots[i].partition.sms);
    }
  }
  absl::StatusOr<SmGranularity> g = QuerySmGranularity(*device);
  RETURN_IF_ERROR(Annotate(g.status(), where));
  const SmSplit* split = nullptr;
  if (!(sms.size() == 1 && sms[0] >= g->sm_count)) {
    absl::StatusOr<std::unique_ptr<SmSplit>> made = SmSplit::Create(*device, sms);
    RETURN_IF_ERROR(Annotate(made.status(), where));
    splits_.push_back(std::move(*made));
    split = splits_.back().get();
  }
  for (int i : members) {
    const SlotInfo& s = slots[i];
    executors_[i].resize(s.procs);
    for (Executor& x : executors_[i]) {
      x.device = *device;
      RETURN_IF_ERROR(Annotate(PrepareLocal(s, x, split, part_of[s.partition_id]), SlotPath(s)));
    }
  }
  return absl::OkStatus();
}

absl::Status CudaBackend::PrepareLocal(const SlotInfo& s, Executor& x, const SmSplit* split,
                                       int part) {
  InitExecutor(s, x);
  EngineOptions engine_options;
  engine_options.seed = options_.seed;
  if (split != nullptr) {
    ASSIGN_OR_RETURN(x.green, split->NewContext(part));
    RETURN_IF_ERROR(x.green->MakeCurrent());
    ASSIGN_OR_RETURN(engine_options.stream, x.green->NewStream());
  } else {
    RETURN_IF_CUDA_ERROR(cudaSetDevice(x.device));
  }
  ASSIGN_OR_RETURN(x.engine, Engine::Create(engine_options));
  for (int size : x.sizes) RETURN_IF_ERROR(x.engine->Prepare({x.model, size, x.input}));
  return absl::OkStatus();
}

// One MIG instance: its worker process, one channel per executor of its assignments.
absl::Status CudaBackend::StartMigPartition(const std::vector<SlotInfo>& slots,
                                            const std::vector<int>& members,
                                            driver::GpuDriver& nvml) {
  const SlotInfo& first = slots[members.front()];
  std::string where = fmt::format("gpus[{}].partitions[{}]", first.ref.gpu, first.ref.partition);
  if (!first.start.has_value()) {
    return absl::InvalidArgumentError(fmt::format("{}: a MIG partition needs a start", where));
  }
  absl::StatusOr<int> index = DriverIndexOf(nvml, first.gpu_uuid, first.gpu_index);
  RETURN_IF_ERROR(Annotate(index.status(), where));
  absl::StatusOr<std::string> uuid =
      FindMigDeviceUuid(nvml, *index, first.partition.mig_profile, *first.start);
  RETURN_IF_ERROR(Annotate(uuid.status(), where));
  int channels = 0;
  for (int i : members) channels += slots[i].procs;
  std::string binary = options_.worker_binary.empty() ? ExecutablePath() : options_.worker_binary;
  std::vector<std::string> argv = {binary,       "worker",
                                   "--channels", std::to_string(channels),
                                   "--seed",     std::to_string(options_.seed)};
  absl::StatusOr<std::unique_ptr<WorkerProcess>> worker =
      WorkerProcess::Spawn(argv, {{"CUDA_VISIBLE_DEVICES", *uuid}}, channels);
  RETURN_IF_ERROR(Annotate(worker.status(), where));
  workers_.push_back(std::move(*worker));
  int channel = 0;
  for (int i : members) {
    executors_[i].resize(slots[i].procs);
    for (Executor& x : executors_[i]) {
      InitExecutor(slots[i], x);
      x.worker = workers_.back().get();
      x.channel = channel++;
      absl::StatusOr<double> ready =
          x.worker->Call(x.channel, WorkerRequest::Prepare(x.model, x.input, x.sizes));
      RETURN_IF_ERROR(Annotate(ready.status(), SlotPath(slots[i]) + " (" + *uuid + ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<int> CaptureBatchSizes(int batch) {
  std::vector<int> sizes;
  for (int b = 1; b <= batch; ++b) {
    bool keep = b <= 8 || (b <= 64 && b % 8 == 0) || b % 16 == 0 || b == batch;
    if (keep) sizes.push_back(b);
  }
  return sizes;
}

int PaddedBatch(const std::vector<int>& sizes, int n) {
  auto it = std::lower_bound(sizes.begin(), sizes.end(), n);
  return it == sizes.end() ? sizes.back() : *it;
}

absl::StatusOr<std::unique_ptr<serving::Backend>> MakeCudaBackend(
    const plan::Plan& plan, const CudaBackendOptions& options) {
  (void)plan;  // the slots Start receives carry everything the backend needs of the plan
  return std::unique_ptr<serving::Backend>(std::make_unique<CudaBackend>(options));
}

}  // namespace tessera::runtime_cuda
