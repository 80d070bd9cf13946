// Planning time of the heuristic planners: each on ParvaGPU's six A100-80GB scenarios and on a
// generated 200-model case sized for about 1,000 GPUs (planners/planning_case.h), cloned from those
// scenarios (the gate's case) and, for planners of SM partitions such as gpulet, from the H100 mix.
// Each planner provisions its intended rate quantile (Planner::intended_rate_quantile). Prints, per
// (case, planner), the GPUs planned, the planning time in CPU and wall milliseconds (medians of
// repeated runs for fast planners), its ratio to a baseline measured in the same run (enumerating
// the A100's MIG layouts), and PASS / MISS against the targets: under 100 ms per ParvaGPU
// scenario, under 2 s for the large case. The verdict reads the CPU time, which leaves out the
// time other processes hold the core (on an idle machine the two agree). A figure, not a test
// (docs/evaluation.md); run it pinned to one core:
//
//   taskset -c 0 build/release/bin/planner_bench [--planners a,b] [--models N] [--gpus N]
//       [--seed S] [--large-timeout SECONDS] [--no-large]
//
// Planners run in this process on the scenarios; on the large case each runs in a child process
// that is stopped after --large-timeout seconds of wall time (default 120), reported as "> T".
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "tessera/base/paths.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/layout.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/planners/planner.h"
#include "tessera/planners/planning_case.h"
#include "tessera/workload/workload.h"

namespace tessera {
namespace {

constexpr char kGpu[] = "A100-SXM4-80GB";
constexpr char kH100[] = "H100-SXM5-80GB";
constexpr double kScenarioTargetMs = 100;
constexpr double kLargeTargetMs = 2000;
// Planners that search for an optimum (not held to the heuristics' targets).
const std::set<std::string> kExactPlanners = {"ilp"};

template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "planner_bench: %s\n", std::string(value.status().message()).c_str());
    std::exit(1);
  }
  return std::move(value).value();
}

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// CPU time of this process (all threads), ms: unlike wall time, it leaves out the time other
// processes hold the pinned core.
double CpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct Flags {
  std::vector<std::string> planners;  // empty: every heuristic
  planners::PlanningCaseOptions large;
  double large_timeout_s = 120;
  bool run_large = true;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--no-large") {
      f.run_large = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "planner_bench: %s needs a value\n", flag.c_str());
      std::exit(1);
    }
    std::string value = argv[++i];
    if (flag == "--planners") {
      std::stringstream list(value);
      for (std::string name; std::getline(list, name, ',');) f.planners.push_back(name);
    } else if (flag == "--models") {
      f.large.models = std::atoi(value.c_str());
    } else if (flag == "--gpus") {
      f.large.gpus = std::atoi(value.c_str());
    } else if (flag == "--seed") {
      f.large.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--large-timeout") {
      f.large_timeout_s = std::atof(value.c_str());
    } else {
      std::fprintf(stderr, "planner_bench: unknown flag %s\n", flag.c_str());
      std::exit(1);
    }
  }
  f.large.gpu = kGpu;
  return f;
}

// The heuristic planners: every registered one but the exact ones, or those asked for that exist.
std::vector<std::string> HeuristicPlanners(const Flags& flags) {
  std::vector<std::string> names;
  for (const std::string& name : planners::Planner::Names()) {
    bool asked = flags.planners.empty()
                     ? kExactPlanners.count(name) == 0
                     : std::count(flags.planners.begin(), flags.planners.end(), name) > 0;
    if (asked) names.push_back(name);
  }
  return names;
}

struct Measurement {
  double ms = 0;      // median planning time, wall clock
  double cpu_ms = 0;  // median planning time, CPU (what the gate is judged on)
  int runs = 0;
  int gpus = -1;     // -1: infeasible
  std::string note;  // "invalid plan: ...", a planner error, or a timeout
};

// Runs `planner` on `inputs`, repeating fast planners (up to 15 runs or about 1 s) for a median.
Measurement Measure(const planners::Planner& planner, const planners::PlanningInputs& inputs,
                    const planners::PlannerOptions& options) {
  Measurement m;
  std::vector<double> times, cpu_times;
  double total_ms = 0;
  absl::StatusOr<planners::PlanResult> result;
  while (times.empty() || (times.size() < 15 && total_ms < 1000)) {
    auto start = std::chrono::steady_clock::now();
    double cpu_start = CpuMs();
    result = planner.Run(inputs, options);
    cpu_times.push_back(CpuMs() - cpu_start);
    times.push_back(MsSince(start));
    total_ms += times.back();
    if (!result.ok()) break;
  }
  m.ms = Median(times);
  m.cpu_ms = Median(cpu_times);
  m.runs = static_cast<int>(times.size());
  if (!result.ok()) {
    m.note = "error: " + std::string(result.status().message());
    return m;
  }
  if (!result->summary.feasible) {
    m.note = "infeasible: " + result->summary.reason;
    return m;
  }
  m.gpus = result->summary.gpus;
  absl::Status valid = plan::ValidatePlan(
      result->plan, {inputs.catalog, inputs.profiles, inputs.workload, inputs.registry});
  if (!valid.ok()) m.note = "invalid plan: " + std::string(valid.message());
  return m;
}

// Measure() in a child process, stopped after `timeout_s`; the child reports through a pipe.
Measurement MeasureWithTimeout(const planners::Planner& planner,
                               const planners::PlanningInputs& inputs,
                               const planners::PlannerOptions& options, double timeout_s) {
  int fds[2];
  if (pipe(fds) != 0) return Measure(planner, inputs, options);
  std::fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    Measurement m = Measure(planner, inputs, options);
    std::string line = fmt::format("{} {} {} {} {}", m.ms, m.cpu_ms, m.runs, m.gpus, m.note);
    ssize_t written = write(fds[1], line.data(), line.size());
    _exit(written == static_cast<ssize_t>(line.size()) ? 0 : 1);
  }
  close(fds[1]);
  auto start = std::chrono::steady_clock::now();
  int status = 0;
  bool done = false;
  while (!(done = waitpid(child, &status, WNOHANG) == child) && MsSince(start) < timeout_s * 1e3) {
    usleep(10'000);
  }
  Measurement m;
  if (!done) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    m.ms = m.cpu_ms = MsSince(start);
    m.note = fmt::format("stopped after {:.0f} s", timeout_s);
  } else {
    char buffer[4096];
    ssize_t n = read(fds[0], buffer, sizeof(buffer) - 1);
    buffer[std::max<ssize_t>(n, 0)] = '\0';
    std::istringstream in(buffer);
    in >> m.ms >> m.cpu_ms >> m.runs >> m.gpus;
    std::getline(in >> std::ws, m.note);
    if (n <= 0) m.note = "the child process failed";
  }
  close(fds[0]);
  return m;
}

// The baseline: enumerating every placed MIG layout and multiset of the A100-80GB, CPU ms (median
// of 50).
double BaselineCpuMs(const hw::GpuModel& gpu) {
  std::vector<double> times;
  size_t layouts = 0;
  for (int i = 0; i < 50; ++i) {
    double start = CpuMs();
    hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(gpu);
    layouts += space.PlacedLayouts().size();
    times.push_back(CpuMs() - start);
  }
  std::printf("baseline: enumerating the %zu placed MIG layouts of the %s takes %.3f ms (CPU)\n",
              layouts / 50, gpu.name.c_str(), Median(times));
  return Median(times);
}

bool TimedOut(const Measurement& m) { return m.note.rfind("stopped", 0) == 0; }

// PASS / MISS of the CPU time against the target; n/a when the planner made no plan (infeasible
// or an error).
std::string Verdict(const Measurement& m, double target_ms) {
  if (m.gpus < 0 && !TimedOut(m)) return "n/a";
  return m.cpu_ms < target_ms && !TimedOut(m) ? "PASS" : "MISS";
}

std::string Millis(const Measurement& m, double ms) {
  return TimedOut(m) ? fmt::format("> {:.0f}", ms) : fmt::format("{:.2f}", ms);
}

void PrintRow(const std::string& scenario, const std::string& planner, double quantile,
              const Measurement& m, double baseline_ms, double target_ms) {
  std::string gpus = m.gpus >= 0 ? std::to_string(m.gpus) : "-";
  std::printf("%-16s %-13s %5g %6s %11s %11s %5d %11.1f  %s (< %g ms)%s%s\n", scenario.c_str(),
              planner.c_str(), quantile, gpus.c_str(), Millis(m, m.cpu_ms).c_str(),
              Millis(m, m.ms).c_str(), m.runs, m.cpu_ms / baseline_ms,
              Verdict(m, target_ms).c_str(), target_ms, m.note.empty() ? "" : "  ", m.note.c_str());
  std::fflush(stdout);
}

// Per planner: the slowest ParvaGPU scenario and the large case, each against its target.
struct PlannerTotals {
  std::string planner;
  Measurement slowest_scenario;
  std::string scenario_verdict = "PASS";
  std::optional<Measurement> large;       // the A100 case (the gate's)
  std::optional<Measurement> large_h100;  // the H100 case
};

void AddScenario(PlannerTotals& t, const Measurement& m) {
  if (m.cpu_ms >= t.slowest_scenario.cpu_ms) t.slowest_scenario = m;
  std::string v = Verdict(m, kScenarioTargetMs);
  if (v == "MISS" || (v == "n/a" && t.scenario_verdict == "PASS")) t.scenario_verdict = v;
}

void PrintSummary(const std::vector<PlannerTotals>& totals) {
  std::printf(
      "\nsummary (gate: every ParvaGPU scenario < %g ms, the large case < %g ms; the gate's large "
      "case is the A100 one, the H100 one covers planners of SM partitions)\n",
      kScenarioTargetMs, kLargeTargetMs);
  std::printf("%-13s %26s %6s %20s %6s %20s %6s\n", "planner", "slowest scenario CPU ms", "gate",
              "large A100 CPU ms", "gate", "large H100 CPU ms", "gate");
  auto cell = [](const std::optional<Measurement>& m) {
    return std::make_pair(m ? Millis(*m, m->cpu_ms) : std::string("-"),
                          m ? Verdict(*m, kLargeTargetMs) : std::string("-"));
  };
  for (const PlannerTotals& t : totals) {
    auto [a100, a100_verdict] = cell(t.large);
    auto [h100, h100_verdict] = cell(t.large_h100);
    std::printf("%-13s %26s %6s %20s %6s %20s %6s\n", t.planner.c_str(),
                Millis(t.slowest_scenario, t.slowest_scenario.cpu_ms).c_str(),
                t.scenario_verdict.c_str(), a100.c_str(), a100_verdict.c_str(), h100.c_str(),
                h100_verdict.c_str());
  }
}

// The 1-minute load average: other processes on the pinned core inflate every time.
std::string LoadAverage() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "unknown";
  char buffer[64] = {0};
  std::string text = std::fgets(buffer, sizeof(buffer), f) ? buffer : "unknown";
  std::fclose(f);
  return text.substr(0, text.find(' '));
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  using namespace tessera;
  Flags flags = ParseFlags(argc, argv);
  hw::Catalog catalog = OrDie(hw::LoadDefaultCatalog());
  models::ModelRegistry registry = OrDie(models::LoadDefaultModelRegistry());
  const hw::GpuModel* gpu = OrDie(catalog.Find(kGpu));
  planners::PlanningCaseBase base =
      OrDie(planners::LoadBundledPlanningCaseBase(catalog, registry, kGpu));
  std::vector<std::string> names = HeuristicPlanners(flags);
  std::printf("load average (1 min) at start: %s\n", LoadAverage().c_str());
  double baseline_ms = BaselineCpuMs(*gpu);
  std::vector<PlannerTotals> totals;
  for (const std::string& name : names) totals.push_back({.planner = name});
  std::printf("%-16s %-13s %5s %6s %11s %11s %5s %11s  %s\n", "case", "planner", "q", "GPUs",
              "CPU ms", "wall ms", "runs", "x baseline", "CPU time against the target");
  for (size_t s = 0; s < base.scenarios.size(); ++s) {
    for (size_t p = 0; p < names.size(); ++p) {
      std::unique_ptr<planners::Planner> planner = OrDie(planners::Planner::Create(names[p]));
      planners::PlannerOptions options;
      options.gpu = kGpu;
      options.rate_quantile = planner->intended_rate_quantile();
      Measurement m =
          Measure(*planner, {&catalog, &base.profiles, &base.scenarios[s], &registry}, options);
      PrintRow(fmt::format("parvagpu-slo{}", s + 1), names[p], options.rate_quantile, m,
               baseline_ms, kScenarioTargetMs);
      AddScenario(totals[p], m);
    }
  }
  if (flags.run_large) {
    // The gate's case (ParvaGPU's A100 base) and, for planners of SM partitions, the same size
    // cloned from the H100 mix (MIG planners read it through stand-ins, as the CLI does).
    for (const char* large_gpu : {kGpu, kH100}) {
      planners::PlanningCaseBase large_base =
          OrDie(planners::LoadBundledPlanningCaseBase(catalog, registry, large_gpu));
      planners::PlanningCaseOptions o = flags.large;
      o.gpu = large_gpu;
      auto start = std::chrono::steady_clock::now();
      planners::PlanningCase large = OrDie(planners::GeneratePlanningCase(large_base, o));
      perf::ProfileTable profiles = OrDie(perf::WithMigStandIns(large.profiles, catalog));
      std::printf(
          "large case: %s (%zu profile rows, %.0f requests/s, about %.0f GPUs; generated "
          "in %.0f ms)\n",
          large.command.c_str(), large.profiles.size(), large.total_rate_rps, large.estimated_gpus,
          MsSince(start));
      bool h100 = std::string(large_gpu) == kH100;
      std::string label =
          fmt::format("{}m-{}g-seed{}{}", o.models, o.gpus, o.seed, h100 ? "-h100" : "");
      for (size_t p = 0; p < names.size(); ++p) {
        std::unique_ptr<planners::Planner> planner = OrDie(planners::Planner::Create(names[p]));
        planners::PlannerOptions options;
        options.gpu = large_gpu;
        options.rate_quantile = planner->intended_rate_quantile();
        Measurement m =
            MeasureWithTimeout(*planner, {&catalog, &profiles, &large.workload, &registry}, options,
                               flags.large_timeout_s);
        PrintRow(label, names[p], options.rate_quantile, m, baseline_ms, kLargeTargetMs);
        (h100 ? totals[p].large_h100 : totals[p].large) = m;
      }
    }
  }
  PrintSummary(totals);
  return 0;
}
