// MeasureConcurrent (tessera/runtime_cuda/profiler.h): two models on disjoint green-context
// partitions, alone and together.
#include <atomic>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "fmt/core.h"
#include "runtime_cuda/internal/measure.h"
#include "tessera/base/status.h"
#include "tessera/runtime_cuda/profiler.h"

namespace tessera::runtime_cuda {
namespace {

struct Side {
  MeasureConfig config;
  std::unique_ptr<GreenContext> green;  // before the engine: destroyed after it
  std::unique_ptr<Engine> engine;
  ModelKey key;
  std::vector<double> together_ms;
  absl::Status status;
  // The engine goes with its own context current (its memory and graphs belong to it).
  ~Side() {
    if (green != nullptr && engine != nullptr && green->MakeCurrent().ok()) engine.reset();
  }
};

absl::StatusOr<int> SmsOf(const MeasureConfig& c) {
  absl::StatusOr<hw::Partition> p = hw::ParsePartition(c.partition);
  if (!p.ok() || p->kind != hw::PartitionKind::kSm) {
    return absl::InvalidArgumentError(
        fmt::format("--concurrent measures two `sm:N` partitions; {} is not one", c.partition));
  }
  return p->sms;
}

absl::Status Prepare(Side& side, const SmSplit& split, int index, uint64_t seed) {
  ASSIGN_OR_RETURN(side.green, split.NewContext(index));
  RETURN_IF_ERROR(side.green->MakeCurrent());
  EngineOptions options;
  options.seed = seed;
  ASSIGN_OR_RETURN(options.stream, side.green->NewStream());
  ASSIGN_OR_RETURN(side.engine, Engine::Create(options));
  side.key = {side.config.model, side.config.batch, side.config.input};
  return side.engine->Prepare(side.key);
}

// Replays until both sides have `repeats` samples; each keeps replaying until the other has its
// samples too, so every sample is taken while the other side runs.
void RunTogether(Side& self, const std::atomic<bool>& other_done, std::atomic<bool>& self_done,
                 std::atomic<int>& ready, int repeats) {
  self.status = self.green->MakeCurrent();
  ++ready;
  while (ready.load() < 2) std::this_thread::yield();
  while (self.status.ok() && !(self_done.load() && other_done.load())) {
    absl::StatusOr<double> ns = self.engine->Run(self.key);
    if (!ns.ok()) self.status = ns.status();
    if (ns.ok() && static_cast<int>(self.together_ms.size()) < repeats) {
      self.together_ms.push_back(*ns / 1e6);
    }
    if (static_cast<int>(self.together_ms.size()) >= repeats) self_done = true;
  }
  self_done = true;
}

std::string Describe(const MeasureConfig& c, int sms) {
  return fmt::format("{} {} {} sm:{}", c.model, c.input, c.batch, sms);
}

}  // namespace

absl::StatusOr<std::vector<ConcurrentRow>> MeasureConcurrent(const std::vector<MeasureConfig>& pair,
                                                             const MeasureOptions& options,
                                                             std::ostream& progress) {
  RETURN_IF_ERROR(options.Validate());
  if (pair.size() != 2) {
    return absl::InvalidArgumentError("--concurrent measures exactly two configurations");
  }
  ASSIGN_OR_RETURN(int sms_a, SmsOf(pair[0]));
  ASSIGN_OR_RETURN(int sms_b, SmsOf(pair[1]));
  ASSIGN_OR_RETURN(std::unique_ptr<SmSplit> split, SmSplit::Create(options.device, {sms_a, sms_b}));
  Side sides[2];
  std::vector<ConcurrentRow> rows(2);
  for (int i = 0; i < 2; ++i) {
    sides[i].config = pair[i];
    RETURN_IF_ERROR(Prepare(sides[i], *split, i, options.seed));
    RETURN_IF_ERROR(sides[i].green->MakeCurrent());
    ASSIGN_OR_RETURN(
        std::vector<double> alone,
        internal::TimeReplays(*sides[i].engine, sides[i].key, options.warmup, options.repeats));
    rows[i] = {pair[i], split->sms(i), Median(alone), 0, ""};
  }
  std::atomic<bool> done[2] = {false, false};
  std::atomic<int> ready = 0;
  std::thread other([&] { RunTogether(sides[1], done[0], done[1], ready, options.repeats); });
  RunTogether(sides[0], done[1], done[0], ready, options.repeats);
  other.join();
  for (int i = 0; i < 2; ++i) {
    RETURN_IF_ERROR(sides[i].status);
    if (sides[i].together_ms.empty()) {
      return absl::InternalError("the concurrent replays overlapped in no sample");
    }
    rows[i].together_ms = Median(sides[i].together_ms);
    rows[i].neighbour = Describe(pair[1 - i], split->sms(1 - i));
    progress << fmt::format("{}: alone {:.4f} ms, beside {}: {:.4f} ms ({:.2f}x)\n",
                            Describe(pair[i], rows[i].sms), rows[i].alone_ms, rows[i].neighbour,
                            rows[i].together_ms, rows[i].together_ms / rows[i].alone_ms);
  }
  return rows;
}

void WriteConcurrentCsv(const std::vector<ConcurrentRow>& rows, std::ostream& out) {
  out << "model,partition,input,batch,alone_ms,together_ms,slowdown,neighbour\n";
  for (const ConcurrentRow& r : rows) {
    out << fmt::format("{},sm:{},{},{},{:.4f},{:.4f},{:.4f},{}\n", r.config.model, r.sms,
                       r.config.input, r.config.batch, r.alone_ms, r.together_ms,
                       r.together_ms / r.alone_ms, r.neighbour);
  }
}

}  // namespace tessera::runtime_cuda
