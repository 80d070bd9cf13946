#!/usr/bin/env python3
"""adapt_summary.py MODE NAME < tessera-adapt.json — the "==" lines of bench/adapt_study.sh.

MODE ratios: per policy its accuracy-weighted goodput and the ratio of the first policy (migrator)
to it, then whether the first is at least every other (the gate) and the lost requests.
MODE runs: one line per policy with goodput, SLO attainment, GPU-hours, reconfigurations, MIG
operations, process starts, downtime, lost requests and policy time.
"""
import json
import sys


def main():
    mode, name = sys.argv[1], sys.argv[2]
    runs = json.load(sys.stdin)["runs"]
    if mode == "ratios":
        first = runs[0]
        parts = []
        for r in runs:
            ratio = first["accuracy_goodput_rps"] / r["accuracy_goodput_rps"]
            parts.append("%s %.1f (%s %.3fx, SLO %.2f%%, lost %d)" % (
                r["policy"], r["accuracy_goodput_rps"], first["policy"], ratio,
                100 * r["slo_attainment"], r["lost"]))
        print("== %s: %s" % (name, "; ".join(parts)))
        gate = all(first["accuracy_goodput_rps"] >= r["accuracy_goodput_rps"] for r in runs[1:])
        print("== %s: gate %s >= others: %s; lost requests %d" % (
            name, first["policy"], "PASS" if gate else "FAIL", sum(r["lost"] for r in runs)))
    else:
        for r in runs:
            print("== %s: %s acc-goodput %.1f SLO %.2f%% GPU-hours %.2f reconfigurations %d "
                  "MIG ops %d starts %d downtime %.1f instance-s lost %d policy %.1f s" % (
                      name, r["policy"], r["accuracy_goodput_rps"], 100 * r["slo_attainment"],
                      r["gpu_hours"], r["reconfigurations"], r["mig_operations"], r["restarts"],
                      r["downtime_s"], r["lost"], r["decide_seconds"]))


if __name__ == "__main__":
    main()
