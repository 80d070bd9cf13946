#!/usr/bin/env python3
"""make_list.py PROFILES.csv OUT.csv [--quick] — the configurations of a canonical profile table as
the configuration list `tessera profiles measure --list` reads (the columns `tessera profiles plan`
writes). --quick keeps the cheap, most informative part of the bundled H100 grid: batches <= 32 and
inputs <= 256, 216 of the 352 rows and about a tenth of their GPU time. Rows are ordered cheapest
model first so a run cut short by its time limit still covers every model.
"""
import argparse
import csv

ORDER = ["resnet50", "mobilenet_v2", "vgg16", "bert_base", "gpt2"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("profiles")
    parser.add_argument("out")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with open(args.profiles, newline="") as f:
        rows = list(csv.DictReader(f))
    if args.quick:
        rows = [r for r in rows if int(r["batch"]) <= 32 and int(r["input"]) <= 256]
    rank = {m: i for i, m in enumerate(ORDER)}
    rows.sort(key=lambda r: (rank.get(r["model"], 99), r["partition"], int(r["input"]),
                             int(r["batch"])))
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["gpu", "partition", "model", "input", "batch", "procs", "phase", "round",
                    "reason"])
        for r in rows:
            w.writerow([r["gpu"], r["partition"], r["model"], r["input"], r["batch"],
                        r.get("procs") or 1, "grid", 0, "bundled H100 configuration"])
    print(f"{len(rows)} configurations in {args.out}")


if __name__ == "__main__":
    main()
