// tessera/runtime_cuda/green_context.h — SM partitions of one GPU through CUDA green contexts.
//
// One SmSplit cuts one physical GPU into disjoint SM groups in a single driver split: the device's
// SM resource is split into equal units (cuDevSmResourceSplitByCount), and each partition is
// given a descriptor over as many whole units as its SM count needs (cuDevResourceGenerateDesc
// over units of that one split, so partitions never overlap). A GreenContext is then created on a
// partition's descriptor; work on its streams runs only on that partition's SMs (memory bandwidth
// and L2 stay shared).
//
// Granularity: the driver reports the minimum partition size (minSmPartitionSize) and the
// alignment (smCoscheduledAlignment) of the device's SM resource. CUDA documents 8 SMs minimum in
// multiples of 8 on compute capability 9.0+ (H100: 132 SMs, so at most 16 units of 8 = 128 SMs
// can be handed out; the rest stays in the split's remainder), 4 minimum in multiples of 2 on 8.x.
// Counts are rounded up to that rule and the granted counts are read back from the split.
//
// Every driver function is reached through cudaGetDriverEntryPointByVersion (libcuda is never
// linked). Without a driver or GPU, every call returns Unavailable saying so.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<SmSplit> split, SmSplit::Create(/*device=*/0, {16, 32}));
//   ASSIGN_OR_RETURN(std::unique_ptr<GreenContext> g, split->NewContext(1));   // 32 SMs
//   RETURN_IF_ERROR(g->MakeCurrent());            // runtime calls of this thread use it
//   ASSIGN_OR_RETURN(void* stream, g->NewStream());  // a cudaStream_t on those SMs
//
// Ownership: a GreenContext owns its green context and the streams it made (destroyed first); an
// SmSplit owns its descriptors' source resources and must outlive the contexts made from it.
// Neither is thread-safe; a green context is current to one thread at a time, so make one
// GreenContext per thread that uses it (several may be made from one partition: they share its
// SMs).
#ifndef TESSERA_RUNTIME_CUDA_GREEN_CONTEXT_H_
#define TESSERA_RUNTIME_CUDA_GREEN_CONTEXT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera::runtime_cuda {

// What a device's SM resource allows.
struct SmGranularity {
  int sm_count = 0;   // SMs of the device
  int min_sms = 0;    // smallest partition
  int alignment = 0;  // partitions are multiples of this
  bool operator==(const SmGranularity&) const = default;
};

// How SmSplit realises a list of requested SM counts (pure arithmetic, no device).
struct SmSplitPlan {
  int unit = 0;                 // SMs per split group
  int units_total = 0;          // groups the split must yield
  std::vector<int> granted;     // per request: SMs granted (a multiple of unit)
  std::vector<int> first_unit;  // per request: its first group (groups are consecutive)
  bool operator==(const SmSplitPlan&) const = default;
};

// The SM count a request is granted: at least min_sms, rounded up to the alignment.
int GrantedSms(const SmGranularity& g, int requested);

// Plans one split for `requested` (each > 0): every request rounded with GrantedSms, the unit is
// the largest common divisor of the granted counts that is a legal partition (>= min_sms and a
// multiple of the alignment), and the total fits in the SMs the split can hand out
// (floor(sm_count / unit) units). FailedPrecondition, naming the requests, the device's SMs and
// its rule, when the partitions cannot be realised; InvalidArgument for a request < 1.
absl::StatusOr<SmSplitPlan> PlanSmSplit(const SmGranularity& g, const std::vector<int>& requested);

// The device's SMs and split rule, read from the driver (cuDeviceGetDevResource).
absl::StatusOr<SmGranularity> QuerySmGranularity(int device);

class GreenContext {
 public:
  ~GreenContext();
  GreenContext(const GreenContext&) = delete;
  GreenContext& operator=(const GreenContext&) = delete;

  int device() const { return device_; }
  int sms() const { return sms_; }
  // Makes this green context the calling thread's current context (runtime API calls of the
  // thread, allocations, events and graph launches, go to it).
  absl::Status MakeCurrent() const;
  // A new non-blocking stream (cudaStream_t) on the context's SMs, owned by this object.
  absl::StatusOr<void*> NewStream();

 private:
  friend class SmSplit;
  GreenContext(int device, int sms, void* green) : device_(device), sms_(sms), green_(green) {}
  int device_;
  int sms_;
  void* green_;                 // CUgreenCtx
  std::vector<void*> streams_;  // CUstream
};

class SmSplit {
 public:
  // Splits `device` (a CUDA ordinal) into partitions of `sm_counts` SMs. The errors of
  // PlanSmSplit, Unavailable without a driver or device, FailedPrecondition when the driver
  // grants fewer or other groups than planned.
  static absl::StatusOr<std::unique_ptr<SmSplit>> Create(int device,
                                                         const std::vector<int>& sm_counts);
  int device() const { return device_; }
  int size() const { return static_cast<int>(descs_.size()); }
  // SMs granted to partition i, as the driver reported them.
  int sms(int i) const { return sms_[i]; }
  const SmSplitPlan& plan() const { return plan_; }
  // A new green context on partition i (0 <= i < size()).
  absl::StatusOr<std::unique_ptr<GreenContext>> NewContext(int i) const;

 private:
  SmSplit() = default;
  int device_ = 0;
  SmSplitPlan plan_;
  std::vector<void*> descs_;  // CUdevResourceDesc per partition (owned by the driver)
  std::vector<int> sms_;
};

// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (or "MIG-..." when `mig`) from 16 UUID bytes, as
// NVML and nvidia-smi print it.
std::string FormatUuid(const unsigned char bytes[16], bool mig);

// The CUDA ordinal of the device with `uuid` (NVML's "GPU-..." form), or NotFound listing the
// UUIDs CUDA sees.
absl::StatusOr<int> DeviceByUuid(const std::string& uuid);

}  // namespace tessera::runtime_cuda

#endif  // TESSERA_RUNTIME_CUDA_GREEN_CONTEXT_H_
