#include "tessera/serving/backend.h"

namespace tessera::serving {

std::vector<SlotInfo> DescribeSlots(const plan::Plan& plan, const hw::Catalog* catalog) {
  std::vector<SlotInfo> slots;
  int partition_id = 0;
  for (size_t g = 0; g < plan.gpus.size(); ++g) {
    const plan::PlanGpu& gpu = plan.gpus[g];
    int gpu_sms = 0;
    if (catalog != nullptr) {
      absl::StatusOr<const hw::GpuModel*> model = catalog->Find(gpu.gpu);
      if (model.ok()) gpu_sms = (*model)->sms.value_or(0);
    }
    for (size_t p = 0; p < gpu.partitions.size(); ++p) {
      const plan::PlanPartition& pp = gpu.partitions[p];
      if (pp.assignments.empty()) continue;  // idle: no id (as the simulator counts partitions)
      for (size_t a = 0; a < pp.assignments.size(); ++a) {
        const plan::Assignment& assignment = pp.assignments[a];
        SlotInfo slot;
        slot.ref = {static_cast<int>(g), static_cast<int>(p), static_cast<int>(a)};
        slot.gpu_index = gpu.index;
        slot.gpu_uuid = gpu.uuid;
        slot.gpu_model = gpu.gpu;
        slot.gpu_sms = gpu_sms;
        slot.partition = pp.partition;
        slot.start = pp.start;
        slot.partition_id = partition_id;
        slot.model = assignment.model;
        slot.input_max = assignment.input_max;
        slot.batch = assignment.batch;
        slot.procs = assignment.procs;
        slots.push_back(std::move(slot));
      }
      ++partition_id;
    }
  }
  return slots;
}

}  // namespace tessera::serving
