#!/usr/bin/env python3
"""Summarise fused-kernel CTA timelines (pod_bench --modes trace, a -DPS_POD_TRACE fatbin).

For each CSV: the launch's span; when each phase's first CTA started and its last ended; the share
of the SMs' slot-time a CTA held; what the SMs' two slots held over time (both prefill, prefill beside decode, both decode, one idle, both
idle), as shares of the launch's slot-time; a phase's mean CTA time by what shared its SM for most
of it; and the tail after the decode's last CTA ended, with the prefill CTAs still running then.

Usage: pod_trace.py TRACE.csv [...]
"""
import csv
import sys
from collections import defaultdict


def load(path):
    with open(path) as f:
        header = f.readline().strip().lstrip("# ")
        rows = list(csv.DictReader(f))
    ctas = [(int(r["sm"]), r["op"], int(r["start_ns"]) / 1e3, int(r["end_ns"]) / 1e3) for r in rows]
    return header, ctas


def occupancy(ctas):
    """Slot-time (us, summed over SMs) by what the SM held: keys like 'prefill+decode', 'prefill', ''."""
    by_sm = defaultdict(list)
    for sm, op, s, e in ctas:
        by_sm[sm].append((s, 1, op))
        by_sm[sm].append((e, -1, op))
    span = max(e for _, _, _, e in ctas)
    held = defaultdict(float)
    for events in by_sm.values():
        events.sort(key=lambda x: (x[0], x[1]))
        running = defaultdict(int)
        t = 0.0
        for when, delta, op in events:
            key = "+".join(sorted(o for o, n in running.items() for _ in range(n)))
            held[key] += when - t
            t = when
            running[op] += delta
        held[""] += span - t
    return held, span


def overlap(a0, a1, b0, b1):
    return max(0.0, min(a1, b1) - max(a0, b0))


def beside(ctas):
    """Mean duration of each phase's CTAs by the op that shared their SM longest (or 'alone')."""
    by_sm = defaultdict(list)
    for c in ctas:
        by_sm[c[0]].append(c)
    out = defaultdict(list)
    for sm, cs in by_sm.items():
        for i, (_, op, s, e) in enumerate(cs):
            share = defaultdict(float)
            for j, (_, op2, s2, e2) in enumerate(cs):
                if j != i:
                    share[op2] += overlap(s, e, s2, e2)
            mate = max(share, key=share.get) if share and max(share.values()) > 0.5 * (e - s) else "alone"
            out[(op, mate)].append(e - s)
    return {k: (len(v), sum(v) / len(v)) for k, v in out.items()}


def main():
    for path in sys.argv[1:]:
        header, ctas = load(path)
        held, span = occupancy(ctas)
        sms = len({c[0] for c in ctas})
        print(f"{path}\n  {header}\n  span {span:.1f} us on {sms} SMs")
        for op in ("prefill", "decode"):
            mine = [c for c in ctas if c[1] == op]
            if mine:
                print(f"  {op:7s} {len(mine):5d} CTAs, first start {min(c[2] for c in mine):7.1f}, "
                      f"last start {max(c[2] for c in mine):7.1f}, last end {max(c[3] for c in mine):7.1f} us")
        total = sum(held.values())
        busy = sum(v * (len(k.split("+")) if k else 0) for k, v in held.items()) / (2 * total)
        print(f"  slots busy {busy:.1%} of the launch's slot-time")
        print("  slot pairs: " + ", ".join(f"{k or 'idle'} {v / total:.1%}" for k, v in
                                         sorted(held.items(), key=lambda kv: -kv[1])))
        for (op, mate), (n, mean) in sorted(beside(ctas).items()):
            print(f"  {op:7s} beside {mate:7s}: {n:5d} CTAs, mean {mean:7.1f} us")
        dec = [c for c in ctas if c[1] == "decode"]
        if dec:
            dend = max(c[3] for c in dec)
            tail = [c for c in ctas if c[1] == "prefill" and c[3] > dend]
            print(f"  after the decode's end ({dend:.1f} us): {span - dend:.1f} us, "
                  f"{len(tail)} prefill CTAs still running or to start "
                  f"({sum(1 for c in tail if c[2] >= dend)} started after)")


if __name__ == "__main__":
    main()
