// migrator's program in CBC (internal/migrator_program.h). Per GPU only the layout choice and the
// processes it keeps are variables; how many instances of each profile serve each (tenant, role)
// is counted over all GPUs, because instances of one profile are interchangeable except for what
// already runs on them. Decode places the new processes back on GPUs; that is exact
// (docs/design.md).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "internal/migrator_program.h"
#include "internal/valuation.h"
#include "planners/internal/mip.h"

namespace tessera::adapt::internal {
namespace {

namespace mip = ::tessera::planners::internal;
using mip::kInfinity;

constexpr double kGap = 1e-6;  // absolute, in accuracy-weighted requests

// The program shrinks to a few dozen rows in preprocessing; what takes time is the root's cut
// passes. Measured on 4 A100s with 6 tenants (migrator_test): these settings take the mean solve
// from ~95 ms to ~28 ms, every solve still proven optimal. One thread, serial.
// DiveCoefficient (the one diving heuristic CBC runs by default) is off: on rare programs it
// re-solves with a column's lower bound above its upper bound, which the Debian build of Clp 1.17
// (assertions on) turns into an abort (ClpNonLinearCost.cpp:1064, `lowerValue <= upperValue`;
// coin-or/Clp#173, coin-or/Cbc#701). Re-solving the 3,600 programs of an hour without it found the
// same optima.
const std::vector<std::pair<std::string, std::string>>& CbcParameters() {
  static const auto* parameters = new std::vector<std::pair<std::string, std::string>>{
      {"threads", "0"}, {"passC", "10"}, {"passT", "1"}, {"gomory", "off"}, {"DivingC", "off"}};
  return *parameters;
}

}  // namespace

// Column indices (-1: no such column), by cell = AssignedIndex(k, t, r).
struct WindowProgram::Columns {
  std::vector<std::vector<int>> x;     // [g][candidate]
  std::vector<std::vector<int>> keep;  // [g][cell]: processes kept where they run
  std::vector<int> n, fresh, hidden;   // [cell]: instances, new processes, new ones pre-initialized
  std::vector<int> spare;              // [g * K + k]: instances a kept layout has for new processes
};

struct WindowProgram::Rows {
  std::vector<int> choose, keep_supply, supply, capacity, fresh, kept, spare_on, spare_left,
      hide_supply, hide_fresh;
};

bool WindowProgram::MayHide(int g) const {
  return context_->costs.pre_initialize && gpus_[g].current_candidate >= 0;
}

int WindowProgram::CurrentCount(int g, int k) const {
  const GpuData& d = gpus_[g];
  return d.current_candidate < 0 ? 0 : d.candidates[d.current_candidate][profile_index_[k]];
}

WindowProgram::Rows WindowProgram::AddRows(mip::Program& p) const {
  const int G = gpus(), K = profiles(), cells = K * tenants() * kRoles;
  Rows rows;
  for (int g = 0; g < G; ++g) {
    rows.choose.push_back(p.AddRow(1, 1));
    for (int k = 0; k < K; ++k) rows.keep_supply.push_back(p.AddRow(-kInfinity, 0));
  }
  for (int k = 0; k < K; ++k) rows.supply.push_back(p.AddRow(-kInfinity, 0));
  for (int i = 0; i < tenants() * kRoles; ++i) rows.capacity.push_back(p.AddRow(-kInfinity, 0));
  for (int cell = 0; cell < cells; ++cell) {
    rows.fresh.push_back(p.AddRow(-kInfinity, 0));  // n - sum_g keep - fresh <= 0
    rows.kept.push_back(p.AddRow(-kInfinity, 0));   // sum_g keep - n <= 0
  }
  if (!context_->costs.pre_initialize) return rows;
  for (int g = 0; g < G; ++g) {
    for (int k = 0; k < K; ++k) {
      bool hide = MayHide(g) && CurrentCount(g, k) > 0;
      rows.spare_on.push_back(hide ? p.AddRow(-kInfinity, 0) : -1);  // spare <= count x_current
      rows.spare_left.push_back(hide ? p.AddRow(-kInfinity, CurrentCount(g, k)) : -1);
    }
  }
  for (int k = 0; k < K; ++k) rows.hide_supply.push_back(p.AddRow(-kInfinity, 0));
  for (int cell = 0; cell < cells; ++cell) rows.hide_fresh.push_back(p.AddRow(-kInfinity, 0));
  return rows;
}

WindowProgram::Columns WindowProgram::AddColumns(mip::Program& p, const Rows& rows) const {
  const int G = gpus(), K = profiles(), T = tenants(), cells = K * T * kRoles;
  const bool pre = context_->costs.pre_initialize;
  Columns c;
  c.x.resize(G);
  c.keep.assign(G, std::vector<int>(cells, -1));
  c.n.assign(cells, -1);
  c.fresh.assign(cells, -1);
  c.hidden.assign(cells, -1);
  c.spare.assign(G * K, -1);
  std::vector<int> most(K, 0);  // instances of profile k over all GPUs, at most
  for (int g = 0; g < G; ++g) {
    std::vector<int> largest(K, 0);
    for (size_t l = 0; l < gpus_[g].candidates.size(); ++l) {
      const hw::Multiset& m = gpus_[g].candidates[l];
      std::vector<std::pair<int, double>> entries = {{rows.choose[g], 1}};
      for (int k = 0; k < K; ++k) {
        int count = m[profile_index_[k]];
        largest[k] = std::max(largest[k], count);
        if (count == 0) continue;
        entries.push_back({rows.supply[k], -count});
        entries.push_back({rows.keep_supply[g * K + k], -count});
        if (pre && static_cast<int>(l) == gpus_[g].current_candidate)
          entries.push_back({rows.spare_on[g * K + k], -count});
      }
      c.x[g].push_back(p.AddColumn(gpus_[g].change_cost[l], 1, entries));
    }
    for (int k = 0; k < K; ++k) most[k] += largest[k];
    for (int k = 0; pre && MayHide(g) && k < K; ++k) {
      if (rows.spare_on[g * K + k] < 0) continue;
      c.spare[g * K + k] = p.AddColumn(0, CurrentCount(g, k),
                                       {{rows.spare_on[g * K + k], 1},
                                        {rows.spare_left[g * K + k], 1},
                                        {rows.hide_supply[k], -1}},
                                       /*is_integer=*/false);
    }
  }
  for (int k = 0; k < K; ++k) {
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < kRoles; ++r) {
        if (most[k] > 0 && Useful(k, t, r)) AddCellColumns(p, rows, k, t, r, most[k], c);
      }
    }
  }
  for (int t = 0; t < T; ++t) {
    const TenantData& td = tenants_[t];
    const int inference = rows.capacity[t * kRoles];
    if (td.demand > 0) p.AddColumn(-td.accuracy, td.demand, {{inference, 1}}, false);
    if (td.burst > 0) {
      p.AddColumn(-kBurstWeight * td.accuracy, td.burst, {{inference, 1}}, false);
    }
    if (td.backlog > 0) p.AddColumn(-kLateWeight, td.backlog, {{inference, 1}}, false);
    if (td.sample_value > 0 && td.remaining > 0) {
      p.AddColumn(-td.sample_value, td.remaining, {{rows.capacity[t * kRoles + 1], 1}}, false);
    }
  }
  return c;
}

void WindowProgram::AddCellColumns(mip::Program& p, const Rows& rows, int k, int t, int r, int most,
                                   Columns& c) const {
  const TenantData& td = tenants_[t];
  const int cell = AssignedIndex(k, t, r), capacity = rows.capacity[t * kRoles + r];
  const double rate = r == 0 ? td.rps[k] : td.samples_per_s[k];
  const double run_s = r == 0 ? td.inference_s : td.retrain_s;
  const double startup_s = r == 0 ? td.startup_s : td.retrain_startup_s;
  const bool pre = context_->costs.pre_initialize;
  for (int g = 0; g < gpus(); ++g) {
    int now = gpus_[g].current[cell];
    if (now == 0) continue;
    std::vector<std::pair<int, double>> entries = {
        {rows.keep_supply[g * profiles() + k], 1}, {rows.fresh[cell], -1}, {rows.kept[cell], 1}};
    if (pre && rows.spare_left[g * profiles() + k] >= 0)
      entries.push_back({rows.spare_left[g * profiles() + k], 1});
    c.keep[g][cell] = p.AddColumn(0, now, entries);
  }
  c.n[cell] = p.AddColumn(0, most,
                          {{rows.supply[k], 1},
                           {rows.fresh[cell], 1},
                           {rows.kept[cell], -1},
                           {capacity, -rate * run_s}});
  std::vector<std::pair<int, double>> fresh = {{rows.fresh[cell], -1},
                                               {capacity, rate * startup_s}};
  if (pre) fresh.push_back({rows.hide_fresh[cell], -1});
  c.fresh[cell] = p.AddColumn(kNewProcessWeight, most, fresh, /*is_integer=*/false);
  if (pre) {
    c.hidden[cell] = p.AddColumn(
        0, most,
        {{rows.hide_fresh[cell], 1}, {rows.hide_supply[k], 1}, {capacity, -rate * startup_s}});
  }
}

// The current decision as a start: every layout and process kept.
std::vector<double> WindowProgram::Start(const mip::Program& p, const Columns& c) const {
  std::vector<double> start(p.columns(), 0.0);
  for (int g = 0; g < gpus(); ++g) {
    const GpuData& d = gpus_[g];
    start[c.x[g][std::max(0, d.current_candidate)]] = 1;
    for (size_t cell = 0; cell < d.current.size(); ++cell) {
      if (c.keep[g][cell] < 0) continue;
      start[c.keep[g][cell]] = d.current[cell];
      start[c.n[cell]] += d.current[cell];
    }
  }
  return start;
}

std::vector<GpuDecision> WindowProgram::Decode(const std::vector<double>& x,
                                               const Columns& c) const {
  const int G = gpus(), K = profiles(), cells = K * tenants() * kRoles;
  std::vector<GpuDecision> out(G);
  std::vector<int> left(G * K, 0);  // instances with no process yet
  for (int g = 0; g < G; ++g) {
    out[g].assigned.assign(cells, 0);
    for (size_t l = 0; l < c.x[g].size(); ++l) {
      if (x[c.x[g][l]] > 0.5) out[g].candidate = static_cast<int>(l);
    }
    for (int k = 0; k < K; ++k)
      left[g * K + k] = gpus_[g].candidates[out[g].candidate][profile_index_[k]];
    for (int cell = 0; cell < cells; ++cell) {
      if (c.keep[g][cell] < 0) continue;
      out[g].assigned[cell] = static_cast<int>(x[c.keep[g][cell]]);
      left[g * K + cell / (tenants() * kRoles)] -= out[g].assigned[cell];
    }
  }
  std::vector<int> fresh(cells, 0), hidden(cells, 0);
  for (int cell = 0; cell < cells; ++cell) {
    if (c.n[cell] < 0) continue;
    fresh[cell] = static_cast<int>(x[c.n[cell]]);
    for (int g = 0; g < G; ++g) fresh[cell] -= out[g].assigned[cell];
    if (c.hidden[cell] >= 0)
      hidden[cell] = std::min(fresh[cell], static_cast<int>(x[c.hidden[cell]]));
  }
  // Pre-initialized processes go to kept layouts first, then every new process wherever there is
  // room, GPUs in order.
  auto place = [&](std::vector<int>& count, bool kept_only) {
    for (int cell = 0; cell < cells; ++cell) {
      const int k = cell / (tenants() * kRoles);
      for (int g = 0; g < G && count[cell] > 0; ++g) {
        if (kept_only && !StartupHidden(g, out[g])) continue;
        int n = std::min(count[cell], left[g * K + k]);
        out[g].assigned[cell] += n;
        left[g * K + k] -= n;
        count[cell] -= n;
        if (kept_only) fresh[cell] -= n;
      }
    }
  };
  place(hidden, /*kept_only=*/true);
  place(fresh, /*kept_only=*/false);  // takes what pass one could not place, were there any
  return out;
}

std::optional<std::vector<GpuDecision>> WindowProgram::Solve(double time_limit_s,
                                                             SolveStats* stats) const {
  mip::Program p;
  Rows rows = AddRows(p);
  Columns c = AddColumns(p, rows);
  mip::Solution s = mip::Solve(p, {.time_limit_s = time_limit_s,
                                   .gap = kGap,
                                   .start = Start(p, c),
                                   .parameters = CbcParameters()});
  if (stats != nullptr) {
    *stats = {.found = s.found,
              .optimal = s.optimal,
              .objective = -s.objective,
              .columns = p.columns(),
              .rows = p.rows()};
  }
  if (!s.found) return std::nullopt;
  return Decode(s.x, c);
}

}  // namespace tessera::adapt::internal
