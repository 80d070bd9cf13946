#include "tessera/serving/emulated_backend.h"

#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "fmt/core.h"
#include "tessera/base/rng.h"
#include "tessera/base/status.h"
#include "tessera/sim/execution.h"
#include "tessera/sim/interference_tracker.h"

namespace tessera::serving {
namespace {

class EmulatedBackend : public Backend {
 public:
  EmulatedBackend(const plan::Plan& plan, sim::ExecutionTimes times, const hw::Catalog* catalog,
                  const EmulatedOptions& options)
      : plan_(plan),
        times_(std::move(times)),
        catalog_(catalog),
        options_(options),
        tracker_(options_.interference.get()) {}

  std::string_view name() const override { return "emulated"; }

  absl::Status Start(const std::vector<SlotInfo>& slots) override {
    if (static_cast<int>(slots.size()) != times_.slots()) {
      return absl::InvalidArgumentError(fmt::format(
          "emulated backend: {} slots given for a plan of {}", slots.size(), times_.slots()));
    }
    std::lock_guard<std::mutex> lock(mu_);
    tracker_.AddPlan(plan_, times_, catalog_);
    for (const SlotInfo& slot : slots) {
      if (noise_.size() <= static_cast<size_t>(slot.partition_id)) {
        noise_.resize(slot.partition_id + 1, RngStream(options_.seed, 0));
      }
      noise_[slot.partition_id] = RngStream(options_.seed, 1'000'000 + slot.partition_id);
      partition_of_.push_back(slot.partition_id);
    }
    return absl::OkStatus();
  }

  absl::Status RunBatch(int slot, int executor, int batch) override {
    auto start = std::chrono::steady_clock::now();
    int64_t ns = ChargeStart(slot, batch);
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(ns));
    std::lock_guard<std::mutex> lock(mu_);
    if (tracker_.Tracks(slot)) tracker_.Finish(slot);
    return absl::OkStatus();
  }

  void Stop() override {}

 private:
  // The batch's time, as the simulator charges it when it dispatches a batch.
  int64_t ChargeStart(int slot, int batch) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t ns = options_.noise_cv > 0 ? times_.NoisyBatchNs(slot, batch, options_.noise_cv,
                                                             noise_[partition_of_[slot]])
                                       : times_.BatchNs(slot, batch);
    if (tracker_.Tracks(slot)) {
      double factor = tracker_.Start(slot);
      if (factor != 1) ns = std::max<int64_t>(1, std::llround(static_cast<double>(ns) * factor));
    }
    return ns;
  }

  const plan::Plan& plan_;
  const sim::ExecutionTimes times_;
  const hw::Catalog* catalog_;
  const EmulatedOptions options_;
  std::mutex mu_;
  sim::InterferenceTracker tracker_ ABSL_GUARDED_BY(mu_);
  std::vector<RngStream> noise_ ABSL_GUARDED_BY(mu_);  // per partition id
  std::vector<int> partition_of_;                      // per slot
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> MakeEmulatedBackend(const plan::Plan& plan,
                                                             const perf::ProfileTable& profiles,
                                                             const hw::Catalog* catalog,
                                                             const EmulatedOptions& options) {
  if (!(options.noise_cv >= 0)) {
    return absl::InvalidArgumentError(
        fmt::format("noise_cv: must be >= 0, got {}", options.noise_cv));
  }
  ASSIGN_OR_RETURN(sim::ExecutionTimes times, sim::ExecutionTimes::Build(plan, profiles));
  return std::make_unique<EmulatedBackend>(plan, std::move(times), catalog, options);
}

}  // namespace tessera::serving
