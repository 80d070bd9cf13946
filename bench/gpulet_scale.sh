#!/usr/bin/env bash
# gpulet_scale.sh [TESSERA] [GPUS] [STEP] [MAX_K] — how far the H100 mix
# (data/examples/h100-mix.workload.yaml) scales on GPUS (default 4) H100 SXM5 GPUs: for gpulet and
# whole-gpu, every rate scale k = STEP, 2 STEP, ... MAX_K (default 0.01 .. 2) is planned
# (`tessera plan --rate-scale k`, default rate quantile 0.99) and, when the plan needs at most GPUS
# GPUs, simulated for 60 s with seed 1 (`tessera simulate --rate-scale k`). A k passes when the
# plan fits in GPUS GPUs and the simulated overall SLO attainment is >= 99%. Prints one line per k
# that fits, then per planner the highest passing k, its total rate, and gpulet's gain over
# whole-gpu. Figures for docs/evaluation.md ("gpulet against whole-gpu").
# Four runs: "gpulet" (its default constant 1.1 margin) and "whole-gpu" simulated as measured
# alone (no interference: optimistic for gpulet's co-running partitions); "gpulet|fitted" the same
# gpulet plan simulated with the fitted interference model (`--interference fitted`: co-running SM
# partitions slow each other as measured in data/datasets/h100-sm-partitions/interference_64_68.csv);
# "gpulet fitted" planned with the fitted model (`tessera plan --interference fitted`) and simulated
# with it. whole-gpu runs one partition per GPU, which interference does not touch.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tessera=${1:-$root/build/release/bin/tessera}
gpus_limit=${2:-4}
step=${3:-0.01}
max_k=${4:-2}
workload=$root/data/examples/h100-mix.workload.yaml
profiles=$root/data/profiles/h100-sm-partitions.csv
base_rps=20000  # the mix's total rate at k = 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# attainment PLAN K INTERFERENCE: overall simulated SLO attainment in percent.
attainment() {
  "$tessera" simulate --plan "$1" --workload "$workload" --profiles "$profiles" --rate-scale "$2" \
    --duration 60 --seed 1 --interference "$3" --json |
    awk -F': ' '/"slo_attainment"/ {gsub(/,/, "", $2); printf "%.3f\n", 100 * $2; exit}'
}

declare -A best
printf "%-12s %6s %5s %9s\n" planner k GPUs "SLO met"
runs=(gpulet whole-gpu "gpulet|fitted" "gpulet fitted")
for run in "${runs[@]}"; do
  planner=${run%%[ |]*}
  plan_flags=()
  sim_interference=none
  case "$run" in
    "gpulet|fitted") sim_interference=fitted ;;
    "gpulet fitted") plan_flags=(--interference fitted) sim_interference=fitted ;;
  esac
  best[$run]=none
  n=1
  while :; do
    k=$(awk -v n=$n -v s="$step" 'BEGIN {printf "%.4g", n * s}')
    awk -v k="$k" -v m="$max_k" 'BEGIN {exit !(k > m + 1e-9)}' && break
    n=$((n + 1))
    plan=$tmp/$planner.yaml
    gpus=$("$tessera" plan --workload "$workload" --profiles "$profiles" --gpu h100 \
      --planner "$planner" --rate-scale "$k" "${plan_flags[@]}" -o "$plan" 2>/dev/null |
      sed -n 's/.*), \([0-9]*\) GPU(s).*/\1/p')
    [ -z "$gpus" ] && continue
    [ "$gpus" -gt $((gpus_limit + 2)) ] && break  # past the budget: larger k only needs more
    [ "$gpus" -gt "$gpus_limit" ] && continue
    met=$(attainment "$plan" "$k" "$sim_interference")
    printf "%-12s %6s %5s %8s%%\n" "$run" "$k" "$gpus" "$met"
    awk -v a="$met" 'BEGIN {exit !(a >= 99)}' && best[$run]=$k
  done
done
echo
for run in "${runs[@]}"; do
  k=${best[$run]}
  if [ "$k" = none ]; then echo "$run: no k in (0, $max_k] fits"; continue; fi
  awk -v p="$run" -v k="$k" -v r=$base_rps -v g=$gpus_limit \
    'BEGIN {printf "%s: highest k = %s (%.0f req/s in all) on %d H100s at >= 99%% SLO attainment\n", p, k, k * r, g}'
done
if [ "${best[gpulet]}" != none ] && [ "${best[whole-gpu]}" != none ]; then
  awk -v a="${best[gpulet]}" -v b="${best[whole-gpu]}" \
    'BEGIN {printf "gpulet / whole-gpu: %.2fx (%+.1f%% throughput; the gpulet paper reports +61.7%%)\n", a / b, 100 * (a / b - 1)}'
fi
