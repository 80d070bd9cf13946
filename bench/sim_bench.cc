// Simulator speed: a 100-GPU plan (H100s split into two 64-SM partitions) serving 20 models cloned
// from the bundled H100 SM-partition profiles, under Poisson load at 70% of planned capacity.
// Prints ns per simulated request and requests per second on one core, and the peak resident memory
// after runs of increasing length (flat = memory bounded by requests in flight, not by their
// number). A figure, not a test: see docs/evaluation.md.
//
//   build/release/bin/sim_bench [--seconds S] [--router R]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "tessera/base/paths.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/sim/simulator.h"
#include "tessera/sim/synthetic.h"
#include "tessera/workload/arrivals.h"

namespace {

long PeakRssMib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "sim_bench: %s\n", std::string(value.status().message()).c_str());
    std::exit(1);
  }
  return std::move(value).value();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tessera;
  double seconds = 20;
  std::string router = "shortest-expected-completion";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--router") == 0) router = argv[i + 1];
  }
  hw::Catalog catalog = OrDie(hw::LoadDefaultCatalog());
  models::ModelRegistry registry = OrDie(models::LoadDefaultModelRegistry());
  std::string data = OrDie(DataDir());
  perf::ProfileTable base =
      OrDie(perf::LoadProfileCsv(data + "/profiles/h100-sm-partitions.csv", catalog, registry));
  double baseline_ns = 0;
  sim::SyntheticOptions synthetic;
  synthetic.models = 20;
  synthetic.gpus = 100;
  sim::SyntheticCase c = OrDie(sim::GenerateSyntheticCase(base, synthetic));
  // The clones are not in the registry: register them so arrival sources can be built.
  std::vector<models::ModelInfo> infos = registry.models();
  for (const workload::WorkloadModel& m : c.workload.models) {
    models::ModelInfo info = *OrDie(registry.Find(m.model.substr(0, m.model.find('~'))));
    info.name = m.model;
    info.aliases.clear();
    infos.push_back(info);
  }
  models::ModelRegistry with_clones(infos);
  std::printf("case: %zu GPUs, %zu models, offered load %.0f requests/s, router %s\n",
              c.plan.gpus.size(), c.workload.models.size(), c.total_rate_rps, router.c_str());
  // Baseline, in the same run: only drawing the arrivals (what any simulator of this demand pays).
  {
    auto sources = OrDie(workload::MakeArrivalSources(c.workload, with_clones, {seconds, 1}));
    auto start = std::chrono::steady_clock::now();
    int64_t drawn = 0;
    workload::Arrival a;
    for (auto& source : sources) {
      while (source->Next(a)) ++drawn;
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    baseline_ns = wall * 1e9 / drawn;
    std::printf("baseline: drawing %lld arrivals alone takes %.1f ns each\n",
                static_cast<long long>(drawn), baseline_ns);
  }
  std::printf("%10s %14s %12s %14s %16s %14s %10s\n", "sim s", "requests", "wall s", "ns/request",
              "requests/s", "peak RSS MiB", "x drawing");
  for (double fraction : {0.25, 0.5, 1.0}) {
    sim::SimOptions options;
    options.duration_s = seconds * fraction;
    options.router = OrDie(sim::ParseRouter(router));
    auto sources = OrDie(
        workload::MakeArrivalSources(c.workload, with_clones, {options.duration_s, options.seed}));
    auto start = std::chrono::steady_clock::now();
    sim::SimResult r = OrDie(
        sim::Simulate({&c.plan, &c.workload, &c.profiles, &catalog}, std::move(sources), options));
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int64_t requests = r.Overall().arrivals;
    std::printf("%10.1f %14lld %12.3f %14.1f %16.0f %14ld %10.1f\n", options.duration_s,
                static_cast<long long>(requests), wall, wall * 1e9 / requests, requests / wall,
                PeakRssMib(), wall * 1e9 / requests / baseline_ns);
    if (fraction == 1.0) {
      std::printf("SLO attainment %.4f, events %lld\n", r.Overall().SloAttainment(),
                  static_cast<long long>(r.events));
    }
  }
  return 0;
}
