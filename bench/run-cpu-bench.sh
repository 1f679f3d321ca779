#!/usr/bin/env bash
# Runs dev.podserve.bench.CpuBackendBenchmark: matmul GFLOP/s against the naive loop, then CPU
# backend step throughput on the tiny default model and a Llama-3.2-1B-shaped dummy model.
#
#   bench/run-cpu-bench.sh [out.json] [--threads N] [--skip-1b] [--note TEXT]
#
# The 1B-shaped model holds about 5 GB of fp32 weights, hence -Xmx12g. Maven runs offline (-o):
# the dependencies must already be in the local repository (any earlier build puts them there).
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-bench/results/cpu-$(date +%F)-$(nproc)core.json}"
[ $# -gt 0 ] && shift

exec bench/run-main.sh --add-modules jdk.incubator.vector -Xmx12g -XX:+UseParallelGC \
    -- dev.podserve.bench.CpuBackendBenchmark "$out" "$@"
