#!/usr/bin/env bash
# adapt_study.sh [TESSERA] [PART...] — the adaptation figures of docs/evaluation.md ("Adapting over
# time"). Parts (default: all):
#   cl-day     continuous learning over one day (data/examples/adapt/cl-day.workload.yaml), 4 A100
#              80GB GPUs, 20 s windows, seeds 1 and 2: migrator, ekya, fair, paris; accuracy-
#              weighted goodput and the ratios of migrator against each (the gate: >= 1).
#   cl-hour    the same tenants on the Azure LLM hour (cl-hour-llm.workload.yaml) at MIGRator's
#              1 s windows, seed 1.
#   preinit    migrator on cl-hour with and without --pre-initialize: downtime and goodput.
#   mig-time   migrator on cl-hour with MIG create/destroy times of 0.1/0.05, 0.4/0.2 (default),
#              1/0.5 and 2/1 s.
#   drift      migrator against ekya on cl-day (seed 1) with every tenant's drift x0.5, x1, x2 and
#              retraining samples x0.5, x2.
#   autoscale  gpulet-autoscale against static-peak over one day of serving-day-h100.workload.yaml
#              on up to 8 H100s, 20 s windows: GPU-hours and SLO attainment.
# Every run prints `tessera adapt`'s table; the summary lines start with "==".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tessera=${1:-$root/build/release/bin/tessera}
shift || true
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(cl-day cl-hour preinit mig-time drift autoscale)
a100=(--profiles "$root/data/profiles/a100-parvagpu.csv" --gpu a100-80gb --gpus 4)
day=$root/data/examples/adapt/cl-day.workload.yaml
hour=$root/data/examples/adapt/cl-hour-llm.workload.yaml
serving=$root/data/examples/adapt/serving-day-h100.workload.yaml

# ratios JSON: "== name: migrator x/ekya y/..." from a --json run whose first policy is migrator.
ratios() {
  python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
m = runs[0]
line = " ".join(f"{r[\"policy\"]} {r[\"accuracy_goodput_rps\"]:.1f} (migrator {m[\"accuracy_goodput_rps\"] / r[\"accuracy_goodput_rps\"]:.3f}x, SLO {100 * r[\"slo_attainment\"]:.2f}%, lost {r[\"lost\"]})" for r in runs)
print("== " + sys.argv[1] + ": " + line)
gate = all(m["accuracy_goodput_rps"] >= r["accuracy_goodput_rps"] for r in runs[1:])
lost = sum(r["lost"] for r in runs)
print(f"== {sys.argv[1]}: gate migrator >= others: {\"PASS\" if gate else \"FAIL\"}; lost requests {lost}")
' "$1"
}

# one JSON run: "== name: policy goodput slo downtime ops"
summary() {
  python3 -c '
import json, sys
for r in json.load(sys.stdin)["runs"]:
    print(f"== {sys.argv[1]}: {r[\"policy\"]} acc-goodput {r[\"accuracy_goodput_rps\"]:.1f} SLO {100 * r[\"slo_attainment\"]:.2f}% "
          f"GPU-hours {r[\"gpu_hours\"]:.2f} reconfigurations {r[\"reconfigurations\"]} MIG ops {r[\"mig_operations\"]} "
          f"starts {r[\"restarts\"]} downtime {r[\"downtime_s\"]:.1f} instance-s lost {r[\"lost\"]} policy {r[\"decide_seconds\"]:.1f} s")
' "$1"
}

for part in "${parts[@]}"; do
  case $part in
    cl-day)
      for seed in 1 2; do
        "$tessera" adapt --workload "$day" "${a100[@]}" --duration 86400 --window 20 --seed $seed \
          --policy migrator,ekya,fair,paris --json | ratios "cl-day seed $seed"
      done ;;
    cl-hour)
      "$tessera" adapt --workload "$hour" "${a100[@]}" --duration 3600 --window 1 \
        --policy migrator,ekya,fair,paris --json | ratios "cl-hour" ;;
    preinit)
      for flag in "" --pre-initialize; do
        "$tessera" adapt --workload "$hour" "${a100[@]}" --duration 3600 --window 1 \
          --policy migrator $flag --json | summary "preinit ${flag:-off}"
      done ;;
    mig-time)
      for times in "0.1 0.05" "0.4 0.2" "1 0.5" "2 1"; do
        set -- $times
        "$tessera" adapt --workload "$hour" "${a100[@]}" --duration 3600 --window 1 \
          --policy migrator --mig-create-s "$1" --mig-destroy-s "$2" --json |
          summary "mig-time create $1 destroy $2"
      done ;;
    drift)
      for d in 0.5 1 2; do
        "$tessera" adapt --workload "$day" "${a100[@]}" --duration 86400 --window 20 \
          --policy migrator,ekya,fair,paris --drift-scale $d --json | ratios "drift x$d"
      done
      for r in 0.5 2; do
        "$tessera" adapt --workload "$day" "${a100[@]}" --duration 86400 --window 20 \
          --policy migrator,ekya,fair,paris --retraining-scale $r --json | ratios "retraining x$r"
      done ;;
    autoscale)
      "$tessera" adapt --workload "$serving" --profiles "$root/data/profiles/h100-sm-partitions.csv" \
        --gpu h100 --gpus 8 --duration 86400 --window 20 --policy gpulet-autoscale,static-peak \
        --json | summary "autoscale" ;;
    *) echo "unknown part $part" >&2; exit 2 ;;
  esac
done
