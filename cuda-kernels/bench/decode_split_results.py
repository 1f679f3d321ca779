#!/usr/bin/env python3
"""Summarises attention_bench --decode-sweep JSON: per decode batch, the planner's split against the
fastest split timed beside it, and the mean and worst ratio (planner time / best time) over all.

usage: decode_split_results.py SWEEP.json [OLD.json]
With OLD (a sweep of an earlier build), each batch also shows that build's planner time, so two
rules can be compared on the same batches (times from two runs: compare ratios, not raw times).
"""
import json
import re
import sys


def batches(path):
    """config -> {"planner": (splits, ctas, ms), "best": (splits, ctas, ms)}."""
    out = {}
    for row in json.load(open(path)):
        m = re.search(r"splits=(\d+) ctas=(\d+)", row["variant"])
        entry = (int(m.group(1)), int(m.group(2)), row["ms"])
        # Mixed batches carry their drawn lengths in the name; B and L tell them apart.
        b = out.setdefault(row["config"].split(" lens=")[0], {})
        if row["planner"]:
            b["planner"] = entry
        elif "best" not in b or entry[2] < b["best"][2]:
            b["best"] = entry
    return out


def main():
    new = batches(sys.argv[1])
    old = batches(sys.argv[2]) if len(sys.argv) > 2 else None
    ratios, old_ratios = [], []
    print(f"{'batch':28} {'planner s/ctas':>15} {'ms':>8} {'best s/ctas':>13} {'ms':>8} {'ratio':>6}"
          + (f" {'old ratio':>9}" if old else ""))
    for name, b in new.items():
        p, best = b["planner"], b["best"]
        # The planner's own row is timed too; a forced row of the same plan may come out faster.
        r = p[2] / min(best[2], p[2])
        ratios.append(r)
        line = f"{name:28} {p[0]:>6}/{p[1]:<8} {p[2]:8.4f} {best[0]:>4}/{best[1]:<8} {best[2]:8.4f} {r:6.3f}"
        if old and name in old:
            o = old[name]
            orr = o["planner"][2] / min(o["best"][2], o["planner"][2])
            old_ratios.append(orr)
            line += f" {orr:9.3f}"
        print(line)
    print(f"\n{len(ratios)} batches: planner / best mean {sum(ratios) / len(ratios):.4f}, worst {max(ratios):.3f}")
    if old_ratios:
        print(f"old build, same batches: mean {sum(old_ratios) / len(old_ratios):.4f}, worst {max(old_ratios):.3f}")


if __name__ == "__main__":
    main()
