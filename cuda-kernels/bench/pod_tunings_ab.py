#!/usr/bin/env python3
"""Compare two split-rule variants of pod_bench (PS_POD_TUNINGS rows, mode "pod", policy
"<policy>@<name>") free of the rows' places in the round.

Within one round a row's time moves by 1-5% with the row before it (pod_bench.cu, Ctx::time_all), so
time each variant twice a round and swap the order between runs, e.g.
  PS_POD_TUNINGS="a:8:0:2,b:8:3:2,a2:8:0:2,b2:8:3:2" and then "b:8:3:2,a:8:0:2,b2:8:3:2,a2:8:0:2";
a name and the same name with a trailing "2" are pooled. Per point: the mean of A's rows over the mean of B's
(>1: B faster), whether the two plans differ (their prefill or decode CTA counts), and serial over
each; then the means over the points where the plans differ and where they do not (the latter
should be 1.000: what is left of the order effect).

Usage: pod_tunings_ab.py A B [--policy proportional] RUN.json[.gz] ...
"""
import gzip
import json
import statistics
import sys
from collections import defaultdict


def rows(path):
    with (gzip.open(path) if path.endswith(".gz") else open(path)) as f:
        return json.load(f)


def main():
    args = sys.argv[1:]
    policy = "proportional"
    if "--policy" in args:
        i = args.index("--policy")
        policy = args[i + 1]
        del args[i:i + 2]
    if len(args) < 3:
        sys.exit(__doc__)
    a, b, paths = args[0], args[1], args[2:]
    times = defaultdict(lambda: defaultdict(list))  # point -> variant -> ms
    ctas = {}                                         # (point, variant) -> (prefill, decode CTAs)
    runs = [rows(path) for path in paths]
    names = {r["policy"].split("@")[1] for run in runs for r in run if r["mode"] == "pod" and "@" in r["policy"]}
    for run in runs:
        for r in run:
            point = (r["model"], r["chunk"], r["prefix"], r["decodes"], r["context"])
            if r["mode"] == "serial":
                times[point]["serial"].append(r["ms"])
            if r["mode"] != "pod" or "@" not in r["policy"]:
                continue
            pol, name = r["policy"].split("@")
            # "x2" is the second copy of "x" only where "x" exists too ("r2" alone is its own variant).
            name = name[:-1] if name.endswith("2") and name[:-1] in names else name
            if pol == policy and name in (a, b):
                times[point][name].append(r["ms"])
                ctas[(point, name)] = (r["prefill_ctas"], r["decode_ctas"])
    changed, same = [], []
    print(f"{'point':44} {a + ' ms':>9} {b + ' ms':>9} {a + '/' + b:>8}  serial/{a} serial/{b}")
    for point in sorted(times):
        t = times[point]
        if not t[a] or not t[b]:
            continue
        ta, tb = statistics.mean(t[a]), statistics.mean(t[b])
        differ = ctas[(point, a)] != ctas[(point, b)]
        (changed if differ else same).append(ta / tb)
        serial = statistics.mean(t["serial"]) if t["serial"] else float("nan")
        print(f"{str(point):44} {ta:9.4f} {tb:9.4f} {ta / tb:8.3f}  {serial / ta:9.3f} {serial / tb:9.3f}"
              + ("  plans differ" if differ else ""))
    for label, v in (("plans differ", changed), ("same plan", same)):
        if v:
            print(f"{label}: {len(v)} points, {a}/{b} mean {statistics.mean(v):.4f} "
                  f"min {min(v):.3f} max {max(v):.3f}")


if __name__ == "__main__":
    main()
