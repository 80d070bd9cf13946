#!/usr/bin/env bash
# parvagpu_scenarios.sh [TESSERA] [DURATION] [SEEDS] — planners on ParvaGPU's six scenarios
# (A100-80GB, bundled profiles), each plan simulated with Poisson arrivals on every seed; prints one
# line per (scenario, planner, rate quantile): GPUs, planning time, and the lowest overall and
# per-model SLO attainment over the seeds. Figures for docs/evaluation.md.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tessera=${1:-$root/build/release/bin/tessera}
duration=${2:-60}
seeds=${3:-1,2,3}
runs=${RUNS:-"parva:0 parva:0.99 elasticbatch:0 ilp:0 static-mig:0.99 whole-gpu:0.99"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-6s %-13s %-8s %5s %12s %10s %s\n" scenario planner quantile GPUs "planning ms" "SLO met" "worst model"
for n in 1 2 3 4 5 6; do
  workload=$root/data/examples/parvagpu/slo$n.workload.yaml
  for run in $runs; do
    planner=${run%%:*}
    q=${run##*:}
    plan=$tmp/p.yaml
    out=$("$tessera" plan --workload "$workload" --profiles "$root/data/profiles/a100-parvagpu.csv" \
      --gpu a100-80gb --planner "$planner" --rate-quantile "$q" -o "$plan" 2>/dev/null)
    gpus=$(sed -n 's/.*), \([0-9]*\) GPU(s).*/\1/p' <<<"$out")
    ms=$(sed -n 's/.*planned in \([0-9.]*\) ms.*/\1/p' <<<"$out")
    if [ -z "$gpus" ]; then printf "SLO%-3s %-13s %-8s %5s\n" $n "$planner" "$q" "-"; continue; fi
    all=1 worst=1 worst_model=""
    for seed in ${seeds//,/ }; do
      json=$("$tessera" simulate --plan "$plan" --workload "$workload" \
        --profiles "$root/data/profiles/a100-parvagpu.csv" --duration "$duration" --seed "$seed" --json)
      read -r a w wm < <(python3 -c '
import json,sys
d=json.load(sys.stdin)
w=min(d["models"], key=lambda m: m["slo_attainment"])
print(d["overall"]["slo_attainment"], w["slo_attainment"], w["model"])' <<<"$json")
      all=$(python3 -c "print(min($all, $a))")
      if python3 -c "import sys; sys.exit(0 if $w < $worst else 1)"; then worst=$w worst_model=$wm; fi
    done
    printf "SLO%-3s %-13s %-8s %5s %12s %9.2f%% %s\n" $n "$planner" "$q" "$gpus" "$ms" \
      "$(python3 -c "print(100*$all)")" "${worst_model:-all}:$(python3 -c "print('%.2f%%' % (100*$worst))")"
  done
done
