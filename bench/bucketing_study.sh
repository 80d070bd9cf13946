#!/usr/bin/env bash
# bucketing_study.sh [TESSERA] [DURATION] [SEEDS] — the bucketing study (issue 5): elasticbatch on
# bert_base and gpt2 with Azure LLM trace input lengths (data/examples/bucketing-study.workload.yaml,
# H100 SM-partition profiles), with 1 (pad to the maximum), 2, 4 and 8 input buckets per model and
# the automatic choice (0); each plan simulated with Poisson arrivals on every seed. Prints GPUs,
# the buckets chosen, planning time and the lowest overall and per-model SLO attainment.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tessera=${1:-$root/build/release/bin/tessera}
duration=${2:-30}
seeds=${3:-1,2}
workload=$root/data/examples/bucketing-study.workload.yaml
profiles=$root/data/profiles/h100-sm-partitions.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-9s %5s %12s %10s %-22s %s\n" buckets GPUs "planning ms" "SLO met" "worst model" "buckets (bert_base; gpt2)"
for k in 1 2 4 8 0; do
  out=$("$tessera" plan --workload "$workload" --profiles "$profiles" --gpu h100 \
    --planner elasticbatch --buckets "$k" -o "$tmp/p.yaml" 2>&1)
  gpus=$(sed -n 's/.*), \([0-9]*\) GPU(s).*/\1/p' <<<"$out")
  ms=$(sed -n 's/.*planned in \([0-9.]*\) ms.*/\1/p' <<<"$out")
  chosen=$(grep -o 'note: [a-z_0-9]*: [0-9]* input bucket(s)' <<<"$out" | sed 's/note: //; s/ input bucket(s)//' | paste -sd';' -)
  if [ -z "$gpus" ]; then printf "%-9s %5s  %s\n" "$k" - "$(head -1 <<<"$out")"; continue; fi
  all=1 worst=1 worst_model=""
  for seed in ${seeds//,/ }; do
    json=$("$tessera" simulate --plan "$tmp/p.yaml" --workload "$workload" --profiles "$profiles" \
      --duration "$duration" --seed "$seed" --json)
    read -r a w wm < <(python3 -c '
import json,sys
d=json.load(sys.stdin)
w=min(d["models"], key=lambda m: m["slo_attainment"])
print(d["overall"]["slo_attainment"], w["slo_attainment"], w["model"])' <<<"$json")
    all=$(python3 -c "print(min($all, $a))")
    if python3 -c "import sys; sys.exit(0 if $w < $worst else 1)"; then worst=$w worst_model=$wm; fi
  done
  label=$k; [ "$k" = 0 ] && label="0 (auto)"
  printf "%-9s %5s %12s %9.2f%% %-22s %s\n" "$label" "$gpus" "$ms" "$(python3 -c "print(100*$all)")" \
    "${worst_model:-all}:$(python3 -c "print('%.2f%%' % (100*$worst))")" "${chosen:-1 each}"
done
