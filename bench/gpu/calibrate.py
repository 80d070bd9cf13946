#!/usr/bin/env python3
"""calibrate.py LOAD.json SIMULATE.json — compares what `tessera load --json` measured against the
cuda backend with what `tessera simulate --json` predicts for the same plan, workload and profiles
(both write the simulator's metrics JSON: overall and per model `slo_attainment`, `latency` with
`p50_ms`/`p90_ms`/`p99_ms`, `throughput_rps`). Goal: SLO attainment within 3 points and latency
percentiles within 15%. Prints one line per model and metric; exit 0 whatever the verdict.
"""
import json
import sys


def points(x):
    return 100 * x if x is not None and x <= 1 else x


def rows(doc):
    out = {"overall": doc.get("overall", {})}
    for m in doc.get("models", []):
        out[m.get("model", "?")] = m
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    with open(sys.argv[1]) as f:
        real = rows(json.load(f))
    with open(sys.argv[2]) as f:
        sim = rows(json.load(f))
    ok = True
    print(f"{'model':>12} {'metric':>16} {'served':>10} {'simulated':>10} {'difference':>12}  goal")
    for name in [n for n in real if n in sim]:
        r, s = real[name], sim[name]
        ra, sa = points(r.get("slo_attainment")), points(s.get("slo_attainment"))
        if ra is not None and sa is not None:
            good = abs(ra - sa) <= 3
            ok &= good
            print(f"{name:>12} {'SLO attainment %':>16} {ra:>10.2f} {sa:>10.2f} "
                  f"{ra - sa:>+11.2f}p  {'ok' if good else 'MISSED'} (3 points)")
        for q in ("p50_ms", "p90_ms", "p99_ms"):
            rv, sv = r.get("latency", {}).get(q), s.get("latency", {}).get(q)
            if rv is None or not sv:
                continue
            rel = rv / sv - 1
            good = abs(rel) <= 0.15
            ok &= good
            print(f"{name:>12} {'latency ' + q:>16} {rv:>10.3f} {sv:>10.3f} {100 * rel:>+11.1f}%  "
                  f"{'ok' if good else 'MISSED'} (15%)")
        rt, st = r.get("throughput_rps"), s.get("throughput_rps")
        if rt is not None and st:
            print(f"{name:>12} {'throughput rps':>16} {rt:>10.1f} {st:>10.1f} "
                  f"{100 * (rt / st - 1):>+11.1f}%")
    print("calibration: " + ("meets the goal" if ok else "misses the goal"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
