#!/usr/bin/env bash
# serving_calibration.sh [TESSERA] [RUNS] — the serving figures of docs/evaluation.md ("Serving"):
# `tessera serve --backend emulated` + `tessera load` against `tessera simulate` on the same plan
# (data/examples/a100-mig.plan.yaml), trace workload (data/examples/serving/a100-trace.workload.yaml),
# duration (20 s) and seed (1), RUNS times (default 3); then the same server at 2.5 x the workload's
# rates (about twice the plan's capacity) for 10 s: answers by HTTP status, and whether every
# accepted request was answered. Prints one "==" line per comparison. Runs in real time (~1.5 min);
# run it on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tessera=${1:-$root/build/release/bin/tessera}
runs=${2:-3}
plan=$root/data/examples/a100-mig.plan.yaml
profiles=$root/data/profiles/a100-parvagpu.csv
workload=$root/data/examples/serving/a100-trace.workload.yaml
out=$(mktemp -d)
port=${SERVING_PORT:-18400}
"$tessera" simulate --plan "$plan" --profiles "$profiles" --workload "$workload" --duration 20 \
  --seed 1 --json > "$out/simulate.json"
for run in $(seq 1 "$runs"); do
  "$tessera" serve --plan "$plan" --profiles "$profiles" --port "$port" --stop-after 60 \
    > "$out/serve-$run.log" 2>&1 &
  server=$!
  sleep 1
  "$tessera" load --workload "$workload" --target "http://127.0.0.1:$port" --duration 20 \
    --seed 1 --json > "$out/load-$run.json"
  kill -TERM "$server"; wait "$server" || true
done
"$tessera" serve --plan "$plan" --profiles "$profiles" --port "$port" --stop-after 60 \
  > "$out/serve-overload.log" 2>&1 &
server=$!
sleep 1
"$tessera" load --workload "$workload" --rate-scale 2.5 --target "http://127.0.0.1:$port" \
  --duration 10 --seed 1 --json > "$out/load-overload.json"
kill -TERM "$server"; wait "$server" || true
python3 - "$out" "$runs" <<'PY'
import json, sys
out, runs = sys.argv[1], int(sys.argv[2])
sim = json.load(open(f"{out}/simulate.json"))
def rows(j):
    return {m["model"]: m for m in j["models"]} | {"all": j["overall"]}
s = rows(sim)
for run in range(1, runs + 1):
    l = rows(json.load(open(f"{out}/load-{run}.json")))
    for name in s:
        a, b = l[name], s[name]
        print(f"== run {run} {name:10s} SLO served {a['slo_attainment']*100:6.2f}% simulated "
              f"{b['slo_attainment']*100:6.2f}% (diff {abs(a['slo_attainment']-b['slo_attainment'])*100:.2f} pt); "
              f"p99 served {a['latency']['p99_ms']:7.2f} ms simulated {b['latency']['p99_ms']:7.2f} ms "
              f"(x{a['latency']['p99_ms']/b['latency']['p99_ms']:.3f}); p50 {a['latency']['p50_ms']:.2f} vs {b['latency']['p50_ms']:.2f} ms")
o = json.load(open(f"{out}/load-overload.json"))
print(f"== overload (2.5 x rates, 10 s): answers {o['http']}, no answer {o['transport_errors']}")
PY
grep -h "stopped" "$out"/serve-*.log | sed 's/^/== /'
echo "(JSON and logs in $out)"
