# Summarises a POD sweep (pod_bench.cu JSON) and merges PyTorch's serial times into it.
#   python3 pod_results.py SWEEP.json OUT.json [pytorch-llama.json pytorch-yi.json]
# Per point (model, chunk, prefix, decodes, context): serial, streams, ideal = max(prefill alone,
# decode alone), each pod policy, auto. Writes every row with ideal_ms and pytorch_serial_ms (null
# where PyTorch was not run) to OUT.json, and prints the summary: mean / median / max / min speedup
# of the best pod policy and of auto over serial, streams and PyTorch's serial, the fraction of
# points within 10% of ideal, the ideal's own speedup and auto's time against it per prefill-share
# band, the paper's subset (both phases >= 20% of the serial time), the worst point, each
# split-rule variant (rows "<policy>@<name>"), and the 4-CTAs-per-SM shape against the 2-CTA one
# per prefill-share band (fused rows with ctas_per_sm 4 are keyed "pod:<policy>/4").
import json, statistics, sys

rows = json.load(open(sys.argv[1]))
out = sys.argv[2]
torch = {}
for path, model in zip(sys.argv[3:5], ["llama-3-8b", "yi-6b"]):
    try:
        for r in json.load(open(path)):
            torch[(model, r["C"], r["P"], r["B"], r["L"])] = r["serial_ms"]
    except Exception as e:
        print(f"no pytorch rows from {path}: {e}")
key = lambda r: (r["model"], r["chunk"], r["prefix"], r["decodes"], r["context"])
pts = {}
for r in rows:
    shape = "/4" if r["mode"] == "pod" and r.get("ctas_per_sm", 2) == 4 else ""
    pts.setdefault(key(r), {})[r["mode"] + (":" + r["policy"] if r["policy"] else "") + shape] = r["ms"]
card = rows[0]["card"]
for r in rows:
    p = pts[key(r)]
    r["ideal_ms"] = max(p["prefill_alone"], p["decode_alone"])
    r["pytorch_serial_ms"] = torch.get(key(r))
json.dump(rows, open(out, "w"), indent=0)

def stats(xs):
    return dict(n=len(xs), mean=statistics.mean(xs), median=statistics.median(xs), max=max(xs), min=min(xs)) if xs else {}

# Per point: the ideal, auto's time (row "pod:auto:<what it ran>"), the fixed policies' times
# (split-rule variants "<policy>@<name>" left out) and the measured prefill share.
ideal_of = lambda p: max(p["prefill_alone"], p["decode_alone"])
auto_of = lambda p: next(t for m, t in p.items() if m.startswith("pod:auto"))
fixed_of = lambda p: {m: t for m, t in p.items() if m.startswith("pod:") and not m.startswith("pod:auto") and "@" not in m}
share_of = lambda p: p["prefill_alone"] / (p["prefill_alone"] + p["decode_alone"])

vs = {"serial": ([], []), "streams": ([], []), "pytorch": ([], [])}
within, worst = 0, None
for k, p in pts.items():
    a = auto_of(p)
    b = min(fixed_of(p).values())
    within += a <= 1.1 * ideal_of(p)
    for base, t in [("serial", p["serial"]), ("streams", p["streams"]), ("pytorch", torch.get(k))]:
        if t:
            vs[base][0].append(t / b)
            vs[base][1].append(t / a)
    s = p["serial"] / a
    if worst is None or s < worst[0]:
        worst = (s, k, p)
print(f"card: {card}; {len(pts)} points")
for base, (bb, aa) in vs.items():
    sb, sa = stats(bb), stats(aa)
    if sb:
        print(f"  over {base:8s} (n={sb['n']}): best pod mean {sb['mean']:.3f} median {sb['median']:.3f} max {sb['max']:.3f} min {sb['min']:.3f}"
              f" | auto mean {sa['mean']:.3f} median {sa['median']:.3f} max {sa['max']:.3f} min {sa['min']:.3f}")
print(f"  auto within 10% of ideal: {within}/{len(pts)} = {within / len(pts):.1%}")
si = stats([p["serial"] / ideal_of(p) for p in pts.values()])
print(f"  ideal over serial: mean {si['mean']:.3f} median {si['median']:.3f} max {si['max']:.3f};"
      f" auto time / ideal: mean {statistics.mean(auto_of(p) / ideal_of(p) for p in pts.values()):.3f}")
bands = {}
for p in pts.values():
    bands.setdefault(min(int(share_of(p) * 10), 9), []).append(p)
print("  by measured prefill share (auto over serial / ideal over serial / auto time over ideal): " + "; ".join(
    f"{b / 10:.1f}: {statistics.mean(p['serial'] / auto_of(p) for p in ps):.3f} / "
    f"{statistics.mean(p['serial'] / ideal_of(p) for p in ps):.3f} / {statistics.mean(auto_of(p) / ideal_of(p) for p in ps):.3f} (n={len(ps)})"
    for b, ps in sorted(bands.items())))
paper = [p for p in pts.values() if min(p["prefill_alone"], p["decode_alone"]) >= 0.2 * (p["prefill_alone"] + p["decode_alone"])]
if paper:
    sp = stats([p["serial"] / auto_of(p) for p in paper])
    print(f"  paper's subset (both phases >= 20% of serial, n={sp['n']}): auto over serial mean {sp['mean']:.3f}"
          f" median {sp['median']:.3f} max {sp['max']:.3f} min {sp['min']:.3f}")
print(f"  worst auto/serial point: {worst[0]:.3f} at {worst[1]}: " + ", ".join(f"{m} {t:.3f}" for m, t in sorted(worst[2].items())))
wins = {}
for p in pts.values():
    pods = fixed_of(p)
    wins[min(pods, key=pods.get)] = wins.get(min(pods, key=pods.get), 0) + 1
print("  fastest policy counts:", wins)
autoSerial = sum(1 for p in pts.values() if "pod:auto:serial" in p)
autoStreams = sum(1 for p in pts.values() if "pod:auto:streams" in p)
print(f"  auto ran the standalone kernels (fusing not worth it) at {autoSerial + autoStreams}/{len(pts)} points"
      f" ({autoSerial} serial, {autoStreams} on two streams)")
# Split-rule variants (PS_POD_TUNINGS rows, policy "<policy>@<name>"), beside the default plan.
for v in sorted({m for p in pts.values() for m in p if "@" in m}):
    xs = [p["serial"] / p[v] for p in pts.values() if v in p]
    print(f"  variant {v}: over serial mean {statistics.mean(xs):.3f} median {statistics.median(xs):.3f} max {max(xs):.3f} min {min(xs):.3f}")
# The two co-residence shapes, per fixed policy and per prefill-share band (proportional).
shapes = sorted({m for p in pts.values() for m in fixed_of(p)})
print("  per fused policy/shape over serial: " + "; ".join(
    f"{m[4:]} {statistics.mean(p['serial'] / p[m] for p in pts.values() if m in p):.3f}" for m in shapes))
if any("pod:proportional/4" in p for p in pts.values()):
    print("  proportional, 2 vs 4 CTAs/SM over serial by measured prefill share: " + "; ".join(
        f"{b / 10:.1f}: {statistics.mean(p['serial'] / p['pod:proportional'] for p in ps):.3f} vs "
        f"{statistics.mean(p['serial'] / p['pod:proportional/4'] for p in ps):.3f} "
        f"(4 wins {sum(p['pod:proportional/4'] < p['pod:proportional'] for p in ps)}/{len(ps)})"
        for b, ps in sorted(bands.items())))
