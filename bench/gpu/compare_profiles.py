#!/usr/bin/env python3
"""compare_profiles.py MEASURED.csv REFERENCE.csv [--label NAME] — per-row latency ratio measured /
reference over the configurations both canonical profile tables hold (joined on partition, model,
input, batch, procs; the gpu column is not compared), then the geometric mean per model and overall.
A ratio above 1 means the measured engine is slower than the reference. Prints a plain-text table.
"""
import argparse
import csv
import math
import sys
from collections import defaultdict


def read(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["partition"], r["model"], int(r["input"]), int(r["batch"]),
                   int(r.get("procs") or 1))
            rows[key] = float(r["latency_ms"])
    return rows


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("measured")
    parser.add_argument("reference")
    parser.add_argument("--label", default="reference")
    parser.add_argument("--goal", type=float, default=1.15)
    args = parser.parse_args()
    measured, reference = read(args.measured), read(args.reference)
    common = sorted(set(measured) & set(reference), key=lambda k: (k[1], k[0], k[2], k[3]))
    if not common:
        print(f"no configuration is in both {args.measured} and {args.reference}")
        return 1
    print(f"{'partition':>9} {'model':>12} {'input':>5} {'batch':>5} {'measured ms':>12} "
          f"{args.label + ' ms':>14} {'ratio':>6}")
    by_model = defaultdict(list)
    for key in common:
        ratio = measured[key] / reference[key]
        by_model[key[1]].append(ratio)
        print(f"{key[0]:>9} {key[1]:>12} {key[2]:>5} {key[3]:>5} {measured[key]:>12.4f} "
              f"{reference[key]:>14.4f} {ratio:>6.3f}")
    print()
    print(f"geometric mean of measured / {args.label} latency (goal <= {args.goal}):")
    for model, ratios in sorted(by_model.items()):
        print(f"  {model:>12}: {geomean(ratios):.3f} over {len(ratios)} rows "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    overall = geomean([r for rs in by_model.values() for r in rs])
    verdict = "meets" if overall <= args.goal else "misses"
    print(f"  {'all':>12}: {overall:.3f} over {len(common)} rows: {verdict} the goal")
    only = len(set(measured) - set(reference))
    if only:
        print(f"({only} measured rows have no {args.label} row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
