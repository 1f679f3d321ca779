#!/usr/bin/env python3
"""What n choices of one prompt cost on a running OpenAI-compatible server: requests of n choices,
each a fresh random token-id prompt (so no request finds another's pages), sent one at a time, and
the same prompts with n = 1 for comparison. Prints and writes the median latency of each, and the
server's prefix-cache counters before and after when it has podserve's /metrics.

usage: parallel-sampling.py --url http://localhost:8080 --model NAME --out FILE.json
                            [--n 8] [--prompt-len 8192] [--max-tokens 128] [--repeats 5] [--seed 7]
Standard library only (the GPU hosts have no extra packages).
"""
import argparse
import json
import random
import statistics
import urllib.request

from completions_client import post


def cache_counters(url):
    """podserve's (vLLM-named) prefix-cache counters, or None from a server without them."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=30) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    found = {}
    for line in text.splitlines():
        for name in ("vllm:prefix_cache_hits_total", "vllm:prefix_cache_queries_total"):
            if line.startswith(name):
                found[name] = float(line.rsplit(" ", 1)[1])
    return found or None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--prompt-len", type=int, default=8192)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    before = cache_counters(a.url)
    rows = []
    for i in range(a.repeats):
        for n in (1, a.n):
            prompt = [rnd.randrange(256) for _ in range(a.prompt_len)]
            ms, out = post(a.url, {"model": a.model, "prompt": prompt, "n": n, "max_tokens": a.max_tokens,
                                   "temperature": 1.0, "ignore_eos": True, "seed": i})
            got = len(out["choices"])
            tokens = out["usage"]["completion_tokens"]
            if got != n or tokens != n * a.max_tokens:
                raise SystemExit(f"asked for {n} choices of {a.max_tokens} tokens, got {got} choices, {tokens} tokens")
            rows.append({"n": n, "ms": ms})
            print(f"repeat {i} n={n}: {ms:.0f} ms", flush=True)
    after = cache_counters(a.url)
    summary = {str(n): statistics.median(r["ms"] for r in rows if r["n"] == n) for n in (1, a.n)}
    print(f"median ms: n=1 {summary['1']:.0f}, n={a.n} {summary[str(a.n)]:.0f}")
    if before and after:
        print("prefix cache: " + ", ".join(f"{k} +{after[k] - before.get(k, 0):.0f}" for k in after))
    with open(a.out, "w") as f:
        json.dump({"config": vars(a), "median_ms": summary, "cache_before": before, "cache_after": after,
                   "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
