// tessera/planners/interference.h — how much slower a job runs on an SM partition while other
// partitions of the same GPU are busy, for planners that co-locate partitions (gpulet).
//
// SM partitions (green contexts, MPS) split SMs but share memory bandwidth and L2, so a batch
// measured alone runs slower next to busy neighbours (1.12–1.43x on an H100 in
// data/datasets/h100-sm-partitions/interference_64_68.csv). A planner asks two questions:
//   - BudgetSlowdown(job): before it knows the neighbours (choosing a batch size), the factor to
//     budget for co-location;
//   - Slowdown(job, neighbours): once partitions are placed on one GPU, the factor for this job
//     next to these neighbours, to check that every job still meets its SLO rule (a planner keeps
//     apart partitions whose neighbours would slow a job beyond what its rule allows).
// ConstantInterference answers `factor` to both (1 with no neighbours): gpulet's 10% margin
// (Choi et al., ATC'22). A learned model (a regression on the jobs' solo bandwidth demand, as
// gpulet fits one) implements the same interface later.
//
// Example:
//   ConstantInterference interference(1.1);
//   InterferenceJob job{"resnet50", 32, 16, 224};
//   double f = interference.BudgetSlowdown(job);              // 1.1
//   double g = interference.Slowdown(job, {{"bert_base", 64, 8, 128}});   // 1.1; 1 with {}
//   std::unique_ptr<Planner> gpulet =
//   NewGpuletPlanner(std::make_shared<ConstantInterference>(1.2));
//
// Implementations must be immutable after construction and safe to call from several threads.
#ifndef TESSERA_PLANNERS_INTERFERENCE_H_
#define TESSERA_PLANNERS_INTERFERENCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/planners/planner.h"

namespace tessera::planners {

// One job running on an SM partition: a model at a batch size and input, on `sms` SMs.
struct InterferenceJob {
  std::string model;
  int sms = 0;
  int batch = 1;
  int input = 0;
  bool operator==(const InterferenceJob&) const = default;
};

class InterferenceModel {
 public:
  virtual ~InterferenceModel() = default;
  // One line: what the model is and where its numbers come from.
  virtual std::string Describe() const = 0;
  // The factor (>= 1) to budget for `job` next to neighbours not yet known.
  virtual double BudgetSlowdown(const InterferenceJob& job) const = 0;
  // The factor (>= 1) by which `job`'s latency grows while `neighbours` run on the other
  // partitions of its GPU; 1 when there are none. May exceed BudgetSlowdown(job) for bad pairs.
  virtual double Slowdown(const InterferenceJob& job,
                          const std::vector<InterferenceJob>& neighbours) const = 0;
};

// The same factor for every job that has a neighbour.
class ConstantInterference : public InterferenceModel {
 public:
  // REQUIRES: factor >= 1 (checked: a factor below 1 would promise a speed-up).
  explicit ConstantInterference(double factor);
  std::string Describe() const override;
  double BudgetSlowdown(const InterferenceJob& job) const override;
  double Slowdown(const InterferenceJob& job,
                  const std::vector<InterferenceJob>& neighbours) const override;
  double factor() const { return factor_; }

 private:
  double factor_;
};

// gpulet's margin: 10% (2 x 1.1 x latency(b) <= SLO).
inline constexpr double kGpuletInterferenceFactor = 1.1;

// The gpulet planner with `interference` deciding the margin and the co-location check.
// Planner::Create("gpulet") is NewGpuletPlanner(ConstantInterference(kGpuletInterferenceFactor)).
// REQUIRES: interference is not null.
std::unique_ptr<Planner> NewGpuletPlanner(std::shared_ptr<const InterferenceModel> interference);

}  // namespace tessera::planners

#endif  // TESSERA_PLANNERS_INTERFERENCE_H_
