#!/usr/bin/env bash
# predicted_plans.sh [TESSERA] [BUDGET] [DURATION] — what predicted profiles do to plans (issue 5,
# report): on ParvaGPU's six A100-80GB scenarios, active profiling chooses BUDGET (default 15%) of
# the measured grid (`tessera profiles plan`), `learned` is fitted on those rows only
# (`profiles fit --only`), and every other row of the grid is predicted (`profiles predict`, over a
# copy of the grid whose unchosen rows are marked `predicted`). Each planner then plans from the
# predicted table and from the full measurements; both plans are simulated on the MEASURED table
# (the truth) with Poisson arrivals. Prints GPUs and the simulated SLO attainment of both.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tessera=${1:-$root/build/release/bin/tessera}
budget=${2:-15%}
duration=${3:-30}
measured=$root/data/profiles/a100-parvagpu.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$tessera" profiles plan --profiles "$measured" --gpu a100-80gb --budget "$budget" \
  -o "$tmp/configs.csv" | head -1
"$tessera" profiles fit --profiles "$measured" --gpu a100-80gb --only "$tmp/configs.csv" \
  -o "$tmp/model.json" | tail -1
# The grid with every row that was not chosen marked `predicted` (its latency is replaced).
python3 - "$measured" "$tmp/configs.csv" "$tmp/grid.csv" <<'PY'
import csv, sys
chosen = {tuple(r[k] for k in ("gpu", "partition", "model", "input", "batch", "procs"))
          for r in csv.DictReader(open(sys.argv[2]))}
rows = list(csv.DictReader(open(sys.argv[1])))
with open(sys.argv[3], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=rows[0].keys())
    w.writeheader()
    for r in rows:
        key = tuple(r[k] for k in ("gpu", "partition", "model", "input", "batch", "procs"))
        if key not in chosen:
            r["source"] = "predicted"
        w.writerow(r)
PY
"$tessera" profiles predict --model "$tmp/model.json" --gpu a100-80gb --profiles "$tmp/grid.csv" \
  -o "$tmp/predicted.csv" | head -1
attainment() {
  "$tessera" simulate --plan "$1" --workload "$2" --profiles "$measured" --duration "$duration" \
    --seed 1 --json | python3 -c 'import json,sys; print("%.2f%%" % (100 * json.load(sys.stdin)["overall"]["slo_attainment"]))'
}
printf "%-8s %-13s %22s %22s\n" scenario planner "measured: GPUs / SLO" "predicted: GPUs / SLO"
for n in 1 2 3 4 5 6; do
  w=$root/data/examples/parvagpu/slo$n.workload.yaml
  for planner in elasticbatch parva ilp; do
    line=""
    for table in "$measured" "$tmp/predicted.csv"; do
      out=$("$tessera" plan --workload "$w" --profiles "$table" --gpu a100-80gb --planner "$planner" \
        -o "$tmp/p.yaml" 2>&1)
      gpus=$(sed -n 's/.*), \([0-9]*\) GPU(s).*/\1/p' <<<"$out")
      if [ -z "$gpus" ]; then line+=$(printf " %22s" "-"); continue; fi
      line+=$(printf " %22s" "$gpus / $(attainment "$tmp/p.yaml" "$w")")
    done
    printf "SLO%-5s %-13s%s\n" $n "$planner" "$line"
  done
done
