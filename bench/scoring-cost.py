#!/usr/bin/env python3
"""What scoring a prompt costs on a running podserve: for each prompt length, the same random
token-id prompt sent one request at a time as (a) a plain completion of one token, whose time is
the prompt's prefill, and (b) echo + logprobs + max_tokens 0, which scores every prompt token.
Prints and writes medians per length; checks that (b) returned a score for every prompt token.

usage: scoring-cost.py --url http://localhost:8080 --model NAME --out FILE.json
                       [--lengths 2048,8192,16384] [--repeats 5] [--top 1] [--seed 7]
Standard library only (the GPU hosts have no extra packages).
"""
import argparse
import json
import random
import statistics

from completions_client import post


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lengths", default="2048,8192,16384")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--top", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    rows = []
    for length in [int(x) for x in a.lengths.split(",")]:
        plain, scored = [], []
        for r in range(a.repeats + 1):
            # A fresh prompt each time: nothing may be served from an earlier request.
            ids = [rnd.randrange(1000, 30000) for _ in range(length)]
            t_plain, _ = post(a.url, {"model": a.model, "prompt": ids, "max_tokens": 1, "temperature": 0})
            t_scored, out = post(a.url, {"model": a.model, "prompt": ids, "max_tokens": 0, "echo": True,
                                         "logprobs": a.top})
            lp = out["choices"][0]["logprobs"]
            assert len(lp["token_logprobs"]) == length and lp["token_logprobs"][0] is None, "scores missing"
            assert all(v is not None for v in lp["token_logprobs"][1:]), "a prompt token was not scored"
            if r > 0:  # the first round warms up
                plain.append(t_plain)
                scored.append(t_scored)
        row = {"prompt_tokens": length, "top": a.top, "repeats": a.repeats,
               "prefill_ms_median": statistics.median(plain), "scoring_ms_median": statistics.median(scored),
               "scoring_over_prefill": statistics.median(scored) / statistics.median(plain),
               "scored_tokens_per_s": length / (statistics.median(scored) / 1000.0),
               "prefill_ms": plain, "scoring_ms": scored}
        rows.append(row)
        print(f"{length:6d} tokens: prefill {row['prefill_ms_median']:8.1f} ms, scoring {row['scoring_ms_median']:8.1f} ms "
              f"({row['scoring_over_prefill']:.2f}x, {row['scored_tokens_per_s']:.0f} tokens/s)", flush=True)
    with open(a.out, "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
