// Speed of the exact placement geometry on the bundled H100 model: enumerating every placed layout
// and multiset, and the fragmentation-aware choice of a start. Prints times; passes or fails
// nothing.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "tessera/hw/catalog.h"
#include "tessera/hw/layout.h"

namespace tessera::hw {
namespace {

const GpuModel& H100() {
  static const GpuModel* gpu = [] {
    absl::StatusOr<Catalog> catalog = LoadDefaultCatalog();
    if (!catalog.ok()) std::abort();
    return new GpuModel(*catalog->Find("h100").value());
  }();
  return *gpu;
}

void BM_EnumerateH100Layouts(benchmark::State& state) {
  for (auto _ : state) {
    LayoutSpace space = LayoutSpace::WithoutMediaExtensions(H100());
    benchmark::DoNotOptimize(space.PlacedLayouts().size());
  }
  state.counters["layouts"] = 722;
}
BENCHMARK(BM_EnumerateH100Layouts)->Unit(benchmark::kMicrosecond);

void BM_StuckAndMaximalH100(benchmark::State& state) {
  LayoutSpace space = LayoutSpace::WithoutMediaExtensions(H100());
  for (auto _ : state) {
    int stuck = 0, maximal = 0;
    for (const PlacedLayout& l : space.PlacedLayouts()) stuck += space.IsStuck(l);
    for (const Multiset& m : space.Multisets()) maximal += space.IsMaximal(m);
    benchmark::DoNotOptimize(stuck + maximal);
  }
}
BENCHMARK(BM_StuckAndMaximalH100)->Unit(benchmark::kMicrosecond);

void BM_ChooseStartEmptyH100(benchmark::State& state) {
  LayoutSpace space = LayoutSpace::WithoutMediaExtensions(H100());
  int one_g = H100().ProfileIndex("1g.10gb");
  for (auto _ : state) benchmark::DoNotOptimize(ChooseStart(space, PlacedLayout(), one_g));
}
BENCHMARK(BM_ChooseStartEmptyH100)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tessera::hw

BENCHMARK_MAIN();
