#!/usr/bin/env python3
"""Summarise a pod_bench --ab-fatbin run: per mode, the time of build A over build B (>1: B faster),
and each build's serial / auto and serial / ideal.

Rows of build B carry the mode "<mode>@B". Read means over many points: inside one run, identical
launches still differed by 1-3% on single points (the "auto" and "proportional" rows of one build,
the same plan), even with the L2 flushed before every timing (pod_bench.cu, Ctx::time_all).

Usage: pod_ab.py RUN.json [...]
"""
import json
import statistics
import sys
from collections import defaultdict

MODES = [("pod", "auto", 2), ("serial", "", 2), ("decode_alone", "", 2), ("prefill_alone", "", 2)]


def load(path):
    points = defaultdict(dict)
    for r in json.load(open(path)):
        key = (r["model"], r["chunk"], r["prefix"], r["decodes"], r["context"])
        policy = "auto" if r["policy"].startswith("auto") else r["policy"]
        b = r["mode"].endswith("@B")
        mode = r["mode"][:-2] if b else r["mode"]
        points[key][(mode, policy, r.get("ctas_per_sm", 2), b)] = r["ms"]
    return points


def main():
    for path in sys.argv[1:]:
        points = load(path)
        print(path)
        for m in MODES:
            ratios = [v[m + (False,)] / v[m + (True,)] for v in points.values() if m + (True,) in v and m + (False,) in v]
            if ratios:
                name = m[0] + (":" + m[1] if m[1] else "")
                print(f"  {name:14s} A / B over {len(ratios)} points: mean {statistics.mean(ratios):.4f}, "
                      f"min {min(ratios):.3f}, max {max(ratios):.3f}")
        for b, label in ((False, "A"), (True, "B")):
            serial = [(v[("serial", "", 2, b)], v[("pod", "auto", 2, b)],
                       max(v[("prefill_alone", "", 2, b)], v[("decode_alone", "", 2, b)]))
                      for v in points.values() if ("pod", "auto", 2, b) in v and ("serial", "", 2, b) in v
                      and ("prefill_alone", "", 2, b) in v]
            if serial:
                over_auto = [s / a for s, a, _ in serial]
                over_ideal = [s / i for s, _, i in serial]
                print(f"  {label}: serial / auto mean {statistics.mean(over_auto):.4f} (min {min(over_auto):.3f}, "
                      f"max {max(over_auto):.3f}); serial / ideal {statistics.mean(over_ideal):.4f}")


if __name__ == "__main__":
    main()
