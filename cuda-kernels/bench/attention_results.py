# Merges one GPU run's attention results into the repository's record and prints the comparison.
#   python3 attention_results.py OUT_DIR RESULT.json
# Reads OUT_DIR/bench.json (podserve kernels, attention_bench), optional OUT_DIR/bench_variant.json
# (a tuning build), OUT_DIR/pytorch.json (pytorch_sdpa_baseline.py, same run, same card) and writes
# one list of rows {config, kernel, ms, tbps|tflops, card, ...} to RESULT.json: podserve's rows as
# they are, PyTorch's best backend per half as kernel "pytorch:<BACKEND>", and the run's measured
# ceilings as config "ceiling". Every podserve row also gets "pytorch_ms": PyTorch's best time on
# the same configuration in the same run. Prints podserve (planner choice) vs PyTorch per configuration.
#   python3 attention_results.py --annotate RESULT.json   adds pytorch_ms to an older record in place
import json, os, sys


def annotate(rows):
    """pytorch_ms on every podserve row from the PyTorch row of the same configuration."""
    theirs = {r["config"]: r for r in rows if r["kernel"].startswith("pytorch:")}
    for r in rows:
        t = theirs.get(r["config"])
        if t is not None and not r["kernel"].startswith("pytorch:"):
            r["pytorch_ms"] = t["ms"]
    return rows


if sys.argv[1] == "--annotate":
    rows = annotate(json.load(open(sys.argv[2])))
    json.dump(rows, open(sys.argv[2], "w"), indent=1)
    sys.exit(0)

out_dir, result = sys.argv[1], sys.argv[2]
rows = json.load(open(os.path.join(out_dir, "bench.json")))
variant = os.path.join(out_dir, "bench_variant.json")
if os.path.exists(variant):
    rows += json.load(open(variant))
card = rows[0]["card"]
torch_rows = json.load(open(os.path.join(out_dir, "pytorch.json")))
HQ, HK, D = 32, 8, 128
seen = set()
for r in torch_rows:
    C, P, B, L = r["C"], r["P"], r["B"], r["L"]
    key = f"prefill C={C} P={P}"
    if key not in seen:
        seen.add(key)
        rows.append({"config": key, "kernel": "pytorch:" + r["prefill_kernel"], "ms": r["prefill_ms"],
                     "tflops": r["prefill_tflops"], "card": card, "note": "contiguous KV, same run"})
    key = f"decode B={B} L={L}"
    if key not in seen:
        seen.add(key)
        rows.append({"config": key, "kernel": "pytorch:" + r["decode_kernel"], "ms": r["decode_ms"],
                     "tbps": r["decode_tbps"], "card": card, "note": "contiguous KV, same run"})
log = os.path.join(out_dir, "pytorch.log")
if os.path.exists(log):
    for line in open(log):
        if line.startswith("ceilings:"):
            f = line.split()
            rows.append({"config": "ceiling", "kernel": "torch copy_ (read+write)", "tbps": float(f[2]), "card": card})
            rows.append({"config": "ceiling", "kernel": "torch bf16 matmul 8192^3", "tflops": float(f[6]), "card": card})
json.dump(annotate(rows), open(result, "w"), indent=1)

ours = {r["config"]: r for r in rows if r.get("planner") and "[" not in r["kernel"]}  # variants are tagged "[...]"
theirs = {r["config"]: r for r in rows if r["kernel"].startswith("pytorch:")}
print(f"card: {card}")
print(f"{'config':24s} {'podserve ms':>12s} {'rate':>8s} {'pytorch ms':>11s} {'rate':>8s}  {'pytorch/podserve':>16s}")
for cfg, r in ours.items():
    t = theirs.get(cfg)
    unit = "tbps" if "tbps" in r else "tflops"
    line = f"{cfg:24s} {r['ms']:12.4f} {r[unit]:8.2f}"
    if t:
        line += f" {t['ms']:11.4f} {t[unit]:8.2f}  {t['ms'] / r['ms']:16.2f}  ({t['kernel'][8:]})"
    print(line)
