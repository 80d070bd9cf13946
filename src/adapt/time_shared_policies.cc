// ekya and fair: whole GPUs (no MIG) time-sliced between tenants' inference and retraining jobs.
#include <algorithm>
#include <cmath>
#include <map>

#include "internal/policies.h"
#include "internal/valuation.h"

namespace tessera::adapt::internal {
namespace {

constexpr double kQuantum = 0.05;  // of one GPU: the unit shares move by
constexpr double kMinPart = 0.1;   // the thinnest part a split slice is cut into

// A job of the time-shared policies: one tenant's inference or retraining.
struct Job {
  int tenant = 0;
  Role role = Role::kInference;
  double share = 0;  // GPUs (may exceed 1)
};

// Estimated throughput of `share` GPUs: whole GPUs plus a time slice of one more.
double EstimatedRps(const PerfBook& book, int tenant, double share) {
  const double whole = std::floor(share + 1e-9);
  const double slice = share - whole;
  return whole * book.SharedInferenceRps(tenant, 1.0) +
         (slice > 1e-9 ? book.SharedInferenceRps(tenant, slice) : 0.0);
}

double JobValue(const Job& job, const Observation& obs, const PerfBook& book) {
  const TenantView& view = obs.tenants[job.tenant];
  if (job.role == Role::kInference) {
    return InferenceValue(view, EstimatedRps(book, job.tenant, job.share), obs.window_s);
  }
  return RetrainValue(view, book.tenants()[job.tenant],
                      book.SharedRetrainSamplesPerS(job.tenant, job.share), obs.window_s,
                      obs.max_gpus * book.SharedRetrainSamplesPerS(job.tenant, 1.0));
}

}  // namespace

Allocation PackShares(const std::vector<std::pair<int, Role>>& jobs,
                      const std::vector<double>& shares, int gpus, const PerfBook& book,
                      const Allocation* previous) {
  struct Piece {
    size_t job;
    double share;
  };
  std::vector<std::vector<Piece>> on(gpus);
  std::vector<double> room(gpus, 1.0);
  auto place = [&](int g, Piece piece) {
    on[g].push_back(piece);
    room[g] -= piece.share;
  };
  std::vector<Piece> pieces;
  int next_whole = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    double share = shares[j];
    // Whole GPUs first, from the last GPU down, so the slices share the first ones.
    while (share >= 1 - 1e-9 && next_whole < gpus) {
      place(gpus - 1 - next_whole++, {j, 1.0});
      share -= 1;
    }
    if (share > 1e-9) pieces.push_back({j, share});
  }
  std::stable_sort(pieces.begin(), pieces.end(),
                   [](const Piece& a, const Piece& b) { return a.share > b.share; });
  // Pass 1: a job stays on a GPU where it ran last window when its slice fits there (its process
  // keeps running).
  std::vector<bool> placed(pieces.size(), false);
  for (size_t k = 0; previous != nullptr && k < pieces.size(); ++k) {
    const auto [tenant, role] = jobs[pieces[k].job];
    for (int g = 0; g < gpus && g < static_cast<int>(previous->gpus.size()); ++g) {
      const std::vector<Slot>& was = previous->gpus[g].slots;
      const bool ran = std::any_of(was.begin(), was.end(), [&](const Slot& s) {
        return s.tenant == tenant && s.role == role;
      });
      if (ran && room[g] + 1e-9 >= pieces[k].share) {
        place(g, pieces[k]);
        placed[k] = true;
        break;
      }
    }
  }
  // Pass 2: first-fit decreasing; a slice that fits on no single GPU is split over the GPUs with
  // the most room, in parts of at least kMinPart (a thinner slice of a GPU meets no SLO).
  for (size_t k = 0; k < pieces.size(); ++k) {
    if (placed[k]) continue;
    Piece piece = pieces[k];
    for (int g = 0; g < gpus && piece.share > 1e-9; ++g) {
      if (room[g] + 1e-9 >= piece.share) {
        place(g, piece);
        piece.share = 0;
      }
    }
    while (piece.share >= kMinPart) {
      const int g = static_cast<int>(std::max_element(room.begin(), room.end()) - room.begin());
      if (room[g] < kMinPart) break;  // what is left of the GPUs is too thin to use
      const double part = std::min(room[g], piece.share);
      place(g, {piece.job, part});
      piece.share -= part;
    }
  }
  Allocation allocation;
  for (int g = 0; g < gpus; ++g) {
    GpuAllocation gpu{.mig = false, .slots = {}};
    std::map<size_t, double> share_of_job;  // one slot per job per GPU
    for (const Piece& piece : on[g]) share_of_job[piece.job] += piece.share;
    for (const auto& [j, share] : share_of_job) {
      const auto [tenant, role] = jobs[j];
      Slot slot{.label = "whole", .share = std::min(1.0, share), .tenant = tenant, .role = role};
      if (role == Role::kInference) slot.rps = book.SharedInferenceRps(tenant, slot.share);
      if (role == Role::kRetraining) {
        slot.samples_per_s = book.SharedRetrainSamplesPerS(tenant, slot.share);
      }
      gpu.slots.push_back(slot);
    }
    allocation.gpus.push_back(std::move(gpu));
  }
  return allocation;
}

namespace {

// The jobs this window: every tenant's inference, and retraining where a job is pending.
std::vector<Job> JobsOf(const Observation& obs, const PerfBook& book) {
  std::vector<Job> jobs;
  for (int t = 0; t < book.tenant_count(); ++t) {
    jobs.push_back({t, Role::kInference, 0});
    if (book.tenants()[t].retrains && obs.tenants[t].retrain_remaining > 0) {
      jobs.push_back({t, Role::kRetraining, 0});
    }
  }
  return jobs;
}

Allocation Pack(const std::vector<Job>& jobs, int gpus, const PerfBook& book,
                const Allocation* previous) {
  std::vector<std::pair<int, Role>> who;
  std::vector<double> shares;
  for (const Job& job : jobs) {
    if (job.share <= 1e-9) continue;
    who.push_back({job.tenant, job.role});
    shares.push_back(job.share);
  }
  return PackShares(who, shares, gpus, book, previous);
}

// Ekya (NSDI'22): start from an even split, then let the job whose value grows most from one more
// quantum steal it from the job that loses least, until no theft pays.
class EkyaPolicy : public Policy {
 public:
  explicit EkyaPolicy(const PolicyContext& context) : context_(context) {}
  std::string name() const override { return "ekya"; }

  absl::StatusOr<Allocation> Decide(const Observation& obs) override {
    const PerfBook& book = *context_.book;
    std::vector<Job> jobs = JobsOf(obs, book);
    const int quanta = static_cast<int>(std::lround(context_.gpus / kQuantum));
    // Even split in whole quanta; the remainder goes to the first jobs.
    std::vector<int> q(jobs.size(), quanta / static_cast<int>(jobs.size()));
    for (int k = 0; k < quanta % static_cast<int>(jobs.size()); ++k) ++q[k];
    auto value = [&](size_t j, int quanta_of_job) {
      Job job = jobs[j];
      job.share = quanta_of_job * kQuantum;
      return JobValue(job, obs, book);
    };
    for (int iteration = 0; iteration < 4 * quanta; ++iteration) {
      int thief = -1, victim = -1;
      double best_gain = 0, least_loss = 1e300;
      for (size_t j = 0; j < jobs.size(); ++j) {
        const double gain = value(j, q[j] + 1) - value(j, q[j]);
        if (thief < 0 || gain > best_gain + 1e-12) {
          thief = static_cast<int>(j);
          best_gain = gain;
        }
      }
      for (size_t j = 0; j < jobs.size(); ++j) {
        if (static_cast<int>(j) == thief || q[j] == 0) continue;
        const double loss = value(j, q[j]) - value(j, q[j] - 1);
        if (loss < least_loss - 1e-12) {
          victim = static_cast<int>(j);
          least_loss = loss;
        }
      }
      if (victim < 0 || best_gain <= least_loss + 1e-9) break;
      ++q[thief];
      --q[victim];
    }
    for (size_t j = 0; j < jobs.size(); ++j) jobs[j].share = q[j] * kQuantum;
    return Pack(jobs, context_.gpus, book, obs.current);
  }

 private:
  PolicyContext context_;
};

// Astraea-like fairness: each tenant gets gpus / tenants of GPU time; its inference takes the
// quanta its forecast, burst allowance (BurstRps) and backlog need (within the tenant's share),
// retraining the rest.
class FairPolicy : public Policy {
 public:
  explicit FairPolicy(const PolicyContext& context) : context_(context) {}
  std::string name() const override { return "fair"; }

  absl::StatusOr<Allocation> Decide(const Observation& obs) override {
    const PerfBook& book = *context_.book;
    const double each = static_cast<double>(context_.gpus) / book.tenant_count();
    std::vector<Job> jobs;
    for (int t = 0; t < book.tenant_count(); ++t) {
      const TenantView& view = obs.tenants[t];
      const bool retrains = book.tenants()[t].retrains && view.retrain_remaining > 0;
      const double need = view.forecast_rps + BurstRps(view) + view.backlog / obs.window_s;
      double inference = retrains ? 0 : each;
      while (retrains && inference + kQuantum <= each + 1e-9 &&
             EstimatedRps(book, t, inference) < need) {
        inference += kQuantum;
      }
      jobs.push_back({t, Role::kInference, inference});
      if (retrains) jobs.push_back({t, Role::kRetraining, each - inference});
    }
    return Pack(jobs, context_.gpus, book, obs.current);
  }

 private:
  PolicyContext context_;
};

}  // namespace

std::unique_ptr<Policy> MakeEkyaPolicy(const PolicyContext& context) {
  return std::make_unique<EkyaPolicy>(context);
}
std::unique_ptr<Policy> MakeFairPolicy(const PolicyContext& context) {
  return std::make_unique<FairPolicy>(context);
}

}  // namespace tessera::adapt::internal
