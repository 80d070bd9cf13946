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
#              on up to 8 H100s, 20 s windows: GPU-hours and SLO attainment; then gpulet-autoscale
#              planning for 1.25, 1.5 and 2 x its rates (--headroom), to compare GPU-hours at
#              static-peak's SLO attainment.
# Each run's JSON is kept under $ADAPT_OUT (default: a new temporary folder); the summary lines
# start with "==" (bench/adapt_summary.py).
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

out=${ADAPT_OUT:-$(mktemp -d)}  # every run's JSON is kept here
mkdir -p "$out"
n=0
# run NAME MODE ARGS...: one `tessera adapt --json` run, kept as $out/NN.json, summarized.
run() {
  local name=$1 mode=$2
  shift 2
  n=$((n + 1))
  local file=$out/$(printf %02d $n).json
  "$tessera" adapt "$@" --json > "$file" || { echo "== $name: tessera adapt failed"; return; }
  python3 "$root/bench/adapt_summary.py" "$mode" "$name" < "$file"
}
echo "JSON of every run in $out"

for part in "${parts[@]}"; do
  case $part in
    cl-day)
      for seed in 1 2; do
        run "cl-day seed $seed" ratios --workload "$day" "${a100[@]}" --duration 86400 --window 20 \
          --seed $seed --policy migrator,ekya,fair,paris
      done ;;
    cl-hour)
      run cl-hour ratios --workload "$hour" "${a100[@]}" --duration 3600 --window 1 \
        --policy migrator,ekya,fair,paris ;;
    preinit)
      for flag in "" --pre-initialize; do
        run "preinit ${flag:-off}" runs --workload "$hour" "${a100[@]}" --duration 3600 --window 1 \
          --policy migrator $flag
      done ;;
    mig-time)
      for times in "0.1 0.05" "0.4 0.2" "1 0.5" "2 1"; do
        set -- $times
        run "mig-time create $1 destroy $2" runs --workload "$hour" "${a100[@]}" --duration 3600 \
          --window 1 --policy migrator --mig-create-s "$1" --mig-destroy-s "$2"
      done ;;
    drift)
      for d in 0.5 1 2; do
        run "drift x$d" ratios --workload "$day" "${a100[@]}" --duration 86400 --window 20 \
          --policy migrator,ekya,fair,paris --drift-scale $d
      done
      for r in 0.5 2; do
        run "retraining x$r" ratios --workload "$day" "${a100[@]}" --duration 86400 --window 20 \
          --policy migrator,ekya,fair,paris --retraining-scale $r
      done ;;
    autoscale)
      h100=(--workload "$serving" --profiles "$root/data/profiles/h100-sm-partitions.csv" --gpu h100
            --gpus 8 --duration 86400 --window 20)
      run autoscale runs "${h100[@]}" --policy gpulet-autoscale,static-peak
      for headroom in 1.25 1.5 2; do
        run "autoscale headroom $headroom" runs "${h100[@]}" --policy gpulet-autoscale \
          --headroom $headroom
      done ;;
    *) echo "unknown part $part" >&2; exit 2 ;;
  esac
done
