// migrator's per-window integer program (internal/migrator_program.h).
#include "internal/migrator_program.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "internal/valuation.h"
#include "planners/internal/mip.h"  // MaximalMultisets
#include "tessera/base/status.h"
#include "tessera/hw/transition.h"

namespace tessera::adapt::internal {
namespace {

int Find(const std::vector<hw::Multiset>& list, const hw::Multiset& m) {
  auto it = std::find(list.begin(), list.end(), m);
  return it == list.end() ? -1 : static_cast<int>(it - list.begin());
}

// Destroy + create seconds from `from` to `to`, as the engine would execute them from some legal
// placement of `from`; the profile-count difference when `from` has none.
double TransitionS(const hw::GpuModel& gpu, const TransitionCosts& costs, const hw::Multiset& from,
                   const hw::Multiset& to) {
  int destroys = 0, creates = 0;
  std::optional<hw::PlacedLayout> placed = hw::PlaceMultiset(gpu, from);
  absl::StatusOr<hw::TransitionPlan> plan =
      placed ? hw::PlanTransitionToMultiset(gpu, *placed, to, {})
             : absl::InvalidArgumentError("current layout not placeable");
  if (plan.ok()) {
    destroys = plan->destroys;
    creates = plan->creates;
  } else {
    for (size_t p = 0; p < from.size(); ++p) {
      destroys += std::max(0, from[p] - to[p]);
      creates += std::max(0, to[p] - from[p]);
    }
  }
  return destroys * costs.mig_destroy_s + creates * costs.mig_create_s;
}

// The fastest a tenant can retrain: every GPU at the layout with the most retraining samples/s.
double FastestRetrainRate(const std::vector<double>& rates, const std::vector<hw::Multiset>& cuts,
                          const std::vector<int>& profile_index, int gpus) {
  double best = 0;
  for (const hw::Multiset& cut : cuts) {
    double rate = 0;
    for (size_t k = 0; k < profile_index.size(); ++k) rate += cut[profile_index[k]] * rates[k];
    best = std::max(best, rate);
  }
  return gpus * best;
}

}  // namespace

WindowProgram WindowProgram::Build(const PolicyContext& context, const Observation& obs,
                                   TransitionSeconds& transitions) {
  const PerfBook& book = *context.book;
  const hw::GpuModel& gpu = context.space->gpu();
  TESSERA_CHECK(static_cast<int>(obs.tenants.size()) == book.tenant_count());
  WindowProgram w;
  w.context_ = &context;
  w.profile_index_ = context.space->profiles();
  const std::vector<hw::Multiset> cuts = planners::internal::MaximalMultisets(*context.space);
  const double horizon_s = std::max(obs.window_s, kMinHorizonS);
  for (int t = 0; t < book.tenant_count(); ++t) {
    const TenantView& view = obs.tenants[t];
    TenantData d;
    d.accuracy = view.accuracy;
    d.demand = std::max(0.0, view.forecast_rps) * horizon_s;
    d.burst = BurstRps(view) * horizon_s;
    d.backlog = std::max(0.0, view.backlog);
    d.remaining = std::max(0.0, view.retrain_remaining);
    for (int p : w.profile_index_) {
      d.rps.push_back(book.InferenceRps(t, p));
      d.samples_per_s.push_back(book.RetrainSamplesPerS(t, p));
    }
    d.inference_s = horizon_s;
    d.retrain_s = std::clamp(view.retrain_window_left_s, 0.0, horizon_s);
    d.startup_s = std::min(kRestartCaution * book.StartupS(t), d.inference_s);
    d.retrain_startup_s = std::min(kRestartCaution * book.StartupS(t), d.retrain_s);
    d.sample_value = RetrainSampleValue(
        view, book.tenants()[t],
        FastestRetrainRate(d.samples_per_s, cuts, w.profile_index_, context.gpus));
    w.tenants_.push_back(std::move(d));
  }
  const int cells = w.profiles() * w.tenants() * kRoles;
  for (int g = 0; g < context.gpus; ++g) {
    GpuData d;
    d.current.assign(cells, 0);
    d.candidates = cuts;
    hw::Multiset layout(gpu.profiles.size(), 0);
    bool in_space = true;
    if (obs.current != nullptr && g < static_cast<int>(obs.current->gpus.size()) &&
        obs.current->gpus[g].mig) {
      for (const Slot& slot : obs.current->gpus[g].slots) {
        auto k = std::find(w.profile_index_.begin(), w.profile_index_.end(), slot.profile);
        if (k == w.profile_index_.end()) {
          in_space = false;
          continue;
        }
        ++layout[slot.profile];
        d.has_current = true;
        if (slot.role == Role::kIdle || slot.tenant < 0 || slot.tenant >= w.tenants()) continue;
        int r = slot.role == Role::kInference ? 0 : 1;
        ++d.current[w.AssignedIndex(static_cast<int>(k - w.profile_index_.begin()), slot.tenant,
                                    r)];
      }
    }
    if (d.has_current && in_space) {
      d.current_candidate = Find(d.candidates, layout);
      if (d.current_candidate < 0 && context.space->IsPlaceable(layout)) {
        d.candidates.push_back(layout);
        d.current_candidate = static_cast<int>(d.candidates.size()) - 1;
      }
    }
    w.gpus_.push_back(std::move(d));
    w.SetChangeCosts(g, layout, transitions);
    w.DropDominated(g);
  }
  return w;
}

// Drops candidate l when another, l', costs no more to reach and has at least as many instances of
// every profile some (tenant, role) can use: whatever l's instances do, l''s can do as well. The
// current layout stays (with pre-initialization it also hides startups).
void WindowProgram::DropDominated(int g) {
  GpuData& d = gpus_[g];
  std::vector<int> useful;
  for (int k = 0; k < profiles(); ++k) {
    for (int i = 0; i < tenants() * kRoles; ++i) {
      if (Useful(k, i / kRoles, i % kRoles)) {
        useful.push_back(profile_index_[k]);
        break;
      }
    }
  }
  auto dominates = [&](size_t a, size_t b) {  // a dominates b
    for (int p : useful) {
      if (d.candidates[a][p] < d.candidates[b][p]) return false;
    }
    return d.change_cost[a] <= d.change_cost[b];
  };
  std::vector<hw::Multiset> candidates;
  std::vector<double> costs;
  int current = -1;
  for (size_t b = 0; b < d.candidates.size(); ++b) {
    bool dropped = false;
    for (size_t a = 0; static_cast<int>(b) != d.current_candidate && a < d.candidates.size(); ++a) {
      // Of two that dominate each other the first stays.
      dropped = a != b && dominates(a, b) && (a < b || !dominates(b, a));
      if (dropped) break;
    }
    if (dropped) continue;
    if (static_cast<int>(b) == d.current_candidate) current = static_cast<int>(candidates.size());
    candidates.push_back(d.candidates[b]);
    costs.push_back(d.change_cost[b]);
  }
  d.candidates = std::move(candidates);
  d.change_cost = std::move(costs);
  d.current_candidate = current;
}

// The value per second of what GPU g runs now, each tenant capped at its demand (inference) or at
// what is left to retrain: what a layout change stops for its destroy + create seconds.
double WindowProgram::CurrentValueRate(int g) const {
  const GpuData& d = gpus_[g];
  double value = 0;
  for (int t = 0; t < tenants(); ++t) {
    const TenantData& td = tenants_[t];
    double rps = 0, samples = 0;
    for (int k = 0; k < profiles(); ++k) {
      rps += td.rps[k] * d.current[AssignedIndex(k, t, 0)];
      samples += td.samples_per_s[k] * d.current[AssignedIndex(k, t, 1)];
    }
    value += td.accuracy * std::min(rps, td.demand / td.inference_s);
    if (td.retrain_s > 0) value += td.sample_value * std::min(samples, td.remaining / td.retrain_s);
  }
  return value;
}

void WindowProgram::SetChangeCosts(int g, const hw::Multiset& layout,
                                   TransitionSeconds& transitions) {
  GpuData& d = gpus_[g];
  d.change_cost.assign(d.candidates.size(), 0.0);
  if (!d.has_current) return;
  const double rate = CurrentValueRate(g);
  for (size_t l = 0; l < d.candidates.size(); ++l) {
    if (static_cast<int>(l) == d.current_candidate) continue;
    auto key = std::make_pair(layout, d.candidates[l]);
    auto it = transitions.find(key);
    if (it == transitions.end()) {
      double s = TransitionS(context_->space->gpu(), context_->costs, layout, d.candidates[l]);
      it = transitions.emplace(std::move(key), s).first;
    }
    d.change_cost[l] = rate * it->second;
  }
}

bool WindowProgram::Useful(int k, int t, int r) const {
  const TenantData& d = tenants_[t];
  if (r == 0) return d.rps[k] > 0 && (d.demand > 0 || d.burst > 0 || d.backlog > 0);
  return d.samples_per_s[k] > 0 && d.sample_value > 0 && d.remaining > 0 && d.retrain_s > 0;
}

bool WindowProgram::StartupHidden(int g, const GpuDecision& d) const {
  return context_->costs.pre_initialize && gpus_[g].current_candidate >= 0 &&
         d.candidate == gpus_[g].current_candidate;
}

std::optional<std::vector<GpuDecision>> WindowProgram::Current() const {
  std::vector<GpuDecision> out;
  for (const GpuData& d : gpus_) {
    if (d.has_current && d.current_candidate < 0) return std::nullopt;
    out.push_back({d.has_current ? d.current_candidate : 0, d.current});
  }
  return out;
}

std::optional<std::vector<GpuDecision>> WindowProgram::DecisionOf(
    const Allocation& allocation) const {
  if (allocation.gpus.size() != gpus_.size()) return std::nullopt;
  std::vector<GpuDecision> out;
  const hw::GpuModel& gpu = context_->space->gpu();
  for (int g = 0; g < gpus(); ++g) {
    hw::Multiset layout(gpu.profiles.size(), 0);
    GpuDecision d;
    d.assigned.assign(profiles() * tenants() * kRoles, 0);
    for (const Slot& slot : allocation.gpus[g].slots) {
      auto k = std::find(profile_index_.begin(), profile_index_.end(), slot.profile);
      if (k == profile_index_.end()) return std::nullopt;
      ++layout[slot.profile];
      if (slot.role == Role::kIdle) continue;
      if (slot.tenant < 0 || slot.tenant >= tenants()) return std::nullopt;
      int r = slot.role == Role::kInference ? 0 : 1;
      ++d.assigned[AssignedIndex(static_cast<int>(k - profile_index_.begin()), slot.tenant, r)];
    }
    d.candidate = Find(gpus_[g].candidates, layout);
    if (d.candidate < 0) return std::nullopt;
    out.push_back(std::move(d));
  }
  return out;
}

double WindowProgram::Objective(const std::vector<GpuDecision>& decisions) const {
  TESSERA_CHECK(decisions.size() == gpus_.size());
  std::vector<double> inference(tenants(), 0.0), retraining(tenants(), 0.0);
  double cost = 0;
  for (int g = 0; g < gpus(); ++g) {
    const GpuDecision& d = decisions[g];
    cost += gpus_[g].change_cost[d.candidate];
    const bool hidden = StartupHidden(g, d);
    for (int k = 0; k < profiles(); ++k) {
      for (int t = 0; t < tenants(); ++t) {
        const TenantData& td = tenants_[t];
        for (int r = 0; r < kRoles; ++r) {
          int i = AssignedIndex(k, t, r);
          int fresh = std::max(0, d.assigned[i] - gpus_[g].current[i]);
          cost += kNewProcessWeight * fresh;
          int lost = hidden ? 0 : fresh;
          if (r == 0) {
            inference[t] += td.rps[k] * (td.inference_s * d.assigned[i] - td.startup_s * lost);
          } else {
            retraining[t] +=
                td.samples_per_s[k] * (td.retrain_s * d.assigned[i] - td.retrain_startup_s * lost);
          }
        }
      }
    }
  }
  double value = 0;
  for (int t = 0; t < tenants(); ++t) {
    const TenantData& td = tenants_[t];
    double capacity = std::max(0.0, inference[t]);
    // served, burst and late share the capacity; the better-paid ones take it first.
    std::vector<std::pair<double, double>> uses = {{td.accuracy, td.demand},
                                                   {kBurstWeight * td.accuracy, td.burst},
                                                   {kLateWeight, td.backlog}};
    std::sort(uses.begin(), uses.end(), std::greater<>());
    for (const auto& [weight, most] : uses) {
      const double used = std::min(most, capacity);
      value += weight * used;
      capacity -= used;
    }
    value += td.sample_value * std::min(td.remaining, std::max(0.0, retraining[t]));
  }
  return value - cost;
}

}  // namespace tessera::adapt::internal
