#include "tessera/runtime_cuda/green_context.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "fmt/core.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "runtime_cuda/internal/driver_api.h"
#include "tessera/base/status.h"

namespace tessera::runtime_cuda {
namespace {

using internal::DriverApi;

// The multiple CUDA documents for compute capability 9.0 and later (the driver may report a finer
// co-scheduling alignment, but splits are granted in these steps: sm:26 becomes 32 on an H100).
constexpr int kHopperMultiple = 8;

absl::StatusOr<CUdevResource> DeviceSmResource(const DriverApi& cu, int device) {
  CUdevice dev = 0;
  RETURN_IF_CU_ERROR(cu.cuDeviceGet(&dev, device), cu);
  CUdevResource resource{};
  RETURN_IF_CU_ERROR(cu.cuDeviceGetDevResource(dev, &resource, CU_DEV_RESOURCE_TYPE_SM), cu);
  return resource;
}

// Activates the device's primary context (green contexts retain it; CUDA advises it be active).
absl::Status ActivateDevice(int device) {
  RETURN_IF_CUDA_ERROR(cudaSetDevice(device));
  RETURN_IF_CUDA_ERROR(cudaFree(nullptr));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SmGranularity> QuerySmGranularity(int device) {
  ASSIGN_OR_RETURN(const DriverApi* cu, DriverApi::Get());
  RETURN_IF_ERROR(ActivateDevice(device));
  ASSIGN_OR_RETURN(CUdevResource resource, DeviceSmResource(*cu, device));
  int major = 0;
  RETURN_IF_CUDA_ERROR(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  SmGranularity g;
  g.sm_count = static_cast<int>(resource.sm.smCount);
  g.min_sms = static_cast<int>(resource.sm.minSmPartitionSize);
  g.alignment = std::max(1, static_cast<int>(resource.sm.smCoscheduledAlignment));
  if (major >= 9) g.alignment = std::max(g.alignment, kHopperMultiple);
  return g;
}

GreenContext::~GreenContext() {
  absl::StatusOr<const DriverApi*> cu = DriverApi::Get();
  if (!cu.ok()) return;
  for (void* stream : streams_) (*cu)->cuStreamDestroy(static_cast<CUstream>(stream));
  // cuGreenCtxDestroy leaves the thread's current context alone: do not leave it pointing at a
  // destroyed one (the thread's next runtime call would fail).
  CUcontext mine = nullptr, current = nullptr;
  if ((*cu)->cuCtxFromGreenCtx(&mine, static_cast<CUgreenCtx>(green_)) == CUDA_SUCCESS &&
      (*cu)->cuCtxGetCurrent(&current) == CUDA_SUCCESS && current == mine) {
    (*cu)->cuCtxSetCurrent(nullptr);
  }
  (*cu)->cuGreenCtxDestroy(static_cast<CUgreenCtx>(green_));
}

absl::Status GreenContext::MakeCurrent() const {
  ASSIGN_OR_RETURN(const DriverApi* cu, DriverApi::Get());
  CUcontext context = nullptr;
  RETURN_IF_CU_ERROR(cu->cuCtxFromGreenCtx(&context, static_cast<CUgreenCtx>(green_)), *cu);
  RETURN_IF_CU_ERROR(cu->cuCtxSetCurrent(context), *cu);
  return absl::OkStatus();
}

absl::StatusOr<void*> GreenContext::NewStream() {
  ASSIGN_OR_RETURN(const DriverApi* cu, DriverApi::Get());
  CUstream stream = nullptr;
  RETURN_IF_CU_ERROR(cu->cuGreenCtxStreamCreate(&stream, static_cast<CUgreenCtx>(green_),
                                                CU_STREAM_NON_BLOCKING, /*priority=*/0),
                     *cu);
  streams_.push_back(stream);
  return static_cast<void*>(stream);
}

absl::StatusOr<std::unique_ptr<SmSplit>> SmSplit::Create(int device,
                                                         const std::vector<int>& sm_counts) {
  ASSIGN_OR_RETURN(const DriverApi* cu, DriverApi::Get());
  ASSIGN_OR_RETURN(SmGranularity g, QuerySmGranularity(device));
  std::unique_ptr<SmSplit> split(new SmSplit());
  split->device_ = device;
  ASSIGN_OR_RETURN(split->plan_, PlanSmSplit(g, sm_counts));
  const SmSplitPlan& plan = split->plan_;
  ASSIGN_OR_RETURN(CUdevResource input, DeviceSmResource(*cu, device));
  std::vector<CUdevResource> groups(plan.units_total);
  unsigned int made = static_cast<unsigned int>(plan.units_total);
  CUdevResource remaining{};
  RETURN_IF_CU_ERROR(cu->cuDevSmResourceSplitByCount(groups.data(), &made, &input, &remaining,
                                                     /*useFlags=*/0, plan.unit),
                     *cu);
  if (static_cast<int>(made) < plan.units_total) {
    return absl::FailedPreconditionError(fmt::format(
        "device {}: the driver split its {} SMs into {} groups of {} SMs, fewer than the {} the "
        "SM partitions need",
        device, g.sm_count, made, plan.unit, plan.units_total));
  }
  for (size_t p = 0; p < plan.granted.size(); ++p) {
    int count = plan.granted[p] / plan.unit;
    CUdevResource* first = &groups[plan.first_unit[p]];
    int sms = 0;
    for (int u = 0; u < count; ++u) sms += static_cast<int>(first[u].sm.smCount);
    CUdevResourceDesc desc = nullptr;
    RETURN_IF_CU_ERROR(cu->cuDevResourceGenerateDesc(&desc, first, count), *cu);
    split->descs_.push_back(desc);
    split->sms_.push_back(sms);
  }
  return split;
}

absl::StatusOr<std::unique_ptr<GreenContext>> SmSplit::NewContext(int i) const {
  ASSIGN_OR_RETURN(const DriverApi* cu, DriverApi::Get());
  RETURN_IF_ERROR(ActivateDevice(device_));
  CUdevice dev = 0;
  RETURN_IF_CU_ERROR(cu->cuDeviceGet(&dev, device_), *cu);
  CUgreenCtx green = nullptr;
  RETURN_IF_CU_ERROR(cu->cuGreenCtxCreate(&green, static_cast<CUdevResourceDesc>(descs_[i]), dev,
                                          CU_GREEN_CTX_DEFAULT_STREAM),
                     *cu);
  return std::unique_ptr<GreenContext>(new GreenContext(device_, sms_[i], green));
}

absl::StatusOr<int> DeviceByUuid(const std::string& uuid) {
  int count = 0;
  RETURN_IF_CUDA_ERROR(cudaGetDeviceCount(&count));
  std::vector<std::string> seen;
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp prop{};
    RETURN_IF_CUDA_ERROR(cudaGetDeviceProperties(&prop, d));
    std::string id =
        FormatUuid(reinterpret_cast<const unsigned char*>(prop.uuid.bytes), /*mig=*/false);
    if (absl::AsciiStrToLower(id) == absl::AsciiStrToLower(uuid)) return d;
    seen.push_back(id);
  }
  return absl::NotFoundError(fmt::format("no CUDA device has UUID {}; CUDA sees: {}", uuid,
                                         seen.empty() ? "none" : absl::StrJoin(seen, ", ")));
}

}  // namespace tessera::runtime_cuda
