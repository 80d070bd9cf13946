#include "tessera/sim/interference_tracker.h"

#include <algorithm>
#include <cmath>

#include "tessera/base/status.h"

namespace tessera::sim {

void InterferenceTracker::AddSlot(int slot, int gpu, int partition, perf::InterferenceJob job) {
  TESSERA_CHECK(enabled() && slot >= 0 && gpu >= 0);
  if (slots_.size() <= static_cast<size_t>(slot)) slots_.resize(slot + 1);
  if (running_.size() <= static_cast<size_t>(gpu)) running_.resize(gpu + 1);
  slots_[slot].gpu = gpu;
  slots_[slot].partition = partition;
  slots_[slot].job = std::move(job);
}

void InterferenceTracker::AddPlan(const plan::Plan& plan, const ExecutionTimes& times,
                                  const hw::Catalog* catalog) {
  if (!enabled()) return;
  int partition_id = -1;
  for (int slot = 0; slot < times.slots(); ++slot) {
    const SlotRef& ref = times.ref(slot);
    if (ref.assignment == 0) ++partition_id;
    const plan::PlanPartition& pp = plan.gpus[ref.gpu].partitions[ref.partition];
    if (pp.partition.kind == hw::PartitionKind::kMig) continue;
    int gpu_sms = 0;
    if (catalog != nullptr) {
      absl::StatusOr<const hw::GpuModel*> gpu = catalog->Find(plan.gpus[ref.gpu].gpu);
      if (gpu.ok()) gpu_sms = (*gpu)->sms.value_or(0);
    }
    int sms = pp.partition.kind == hw::PartitionKind::kSm
                  ? pp.partition.sms
                  : static_cast<int>(std::lround(pp.partition.mps_percent * gpu_sms / 100.0));
    const plan::Assignment& a = pp.assignments[ref.assignment];
    AddSlot(slot, ref.gpu, partition_id, {a.model, sms, a.batch, a.input_max});
  }
}

double InterferenceTracker::Start(int slot) {
  TrackedSlot& s = slots_[slot];
  std::vector<int>& running = running_[s.gpu];
  std::vector<int>& key = scratch_;
  key.clear();
  for (int other : running) {
    if (slots_[other].partition != s.partition) key.push_back(other);
  }
  running.push_back(slot);
  if (key.empty()) return 1;
  std::sort(key.begin(), key.end());
  auto it = s.slowdowns.find(key);
  if (it != s.slowdowns.end()) return it->second;
  std::vector<perf::InterferenceJob> neighbours;
  for (int other : key) neighbours.push_back(slots_[other].job);
  double factor = std::max(1.0, model_->Slowdown(s.job, neighbours));
  s.slowdowns.emplace(key, factor);
  return factor;
}

void InterferenceTracker::Finish(int slot) {
  std::vector<int>& running = running_[slots_[slot].gpu];
  auto it = std::find(running.begin(), running.end(), slot);
  TESSERA_CHECK(it != running.end());
  running.erase(it);
}

}  // namespace tessera::sim
