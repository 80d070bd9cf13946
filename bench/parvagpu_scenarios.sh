#!/usr/bin/env bash
# parvagpu_scenarios.sh [TESSERA] [DURATION] — every planner on ParvaGPU's six scenarios (A100-80GB,
# bundled profiles), each plan simulated with Poisson arrivals; prints one line per (scenario,
# planner, rate quantile): GPUs and simulated SLO attainment. Figures for docs/evaluation.md.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tessera=${1:-$root/build/release/bin/tessera}
duration=${2:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-6s %-11s %-8s %5s %10s %10s\n" scenario planner quantile GPUs "SLO met" "worst model"
for n in 1 2 3 4 5 6; do
  workload=$root/data/examples/parvagpu/slo$n.workload.yaml
  for planner in parva elasticbatch whole-gpu static-mig; do
    for q in 0 0.99; do
      plan=$tmp/p.yaml
      gpus=$("$tessera" plan --workload "$workload" --profiles "$root/data/profiles/a100-parvagpu.csv" \
        --gpu a100-80gb --planner $planner --rate-quantile $q -o "$plan" 2>/dev/null |
        sed -n 's/.*), \([0-9]*\) GPU(s).*/\1/p')
      if [ -z "$gpus" ]; then printf "SLO%-3s %-11s %-8s %5s\n" $n $planner $q "-"; continue; fi
      json=$("$tessera" simulate --plan "$plan" --workload "$workload" \
        --profiles "$root/data/profiles/a100-parvagpu.csv" --duration "$duration" --json)
      read -r all worst < <(python3 -c '
import json,sys
d=json.load(sys.stdin)
w=min(d["models"], key=lambda m: m["slo_attainment"])
print("%.2f%%" % (100*d["overall"]["slo_attainment"]), "%s:%.1f%%" % (w["model"], 100*w["slo_attainment"]))' <<<"$json")
      printf "SLO%-3s %-11s %-8s %5s %10s %s\n" $n $planner $q "$gpus" "$all" "$worst"
    done
  done
done
