#!/usr/bin/env bash
# Runs dev.podserve.bench.CheckpointLoadBenchmark: writes a Llama-3.2-1B-shaped bf16 checkpoint
# (about 2.5 GB) to a temporary folder, times loading it into fp32 weights (file evicted from the page
# cache first, then cached, then on one thread), and deletes it again.
#
#   bench/run-load-bench.sh [out.json] [--threads N] [--warm-runs K] [--note TEXT]
#
# The fp32 weights are about 5 GB and the generated source weights another 5 GB, never alive together,
# hence -Xmx10g. Needs 2.5 GB free under java.io.tmpdir. Maven runs offline (-o).
# G1 is what a server JVM picks by default; it places multi-megabyte arrays straight in the old
# generation, where ParallelGC copies gigabytes of freshly loaded weights out of the young one.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-bench/results/load-$(date +%F)-$(nproc)core.json}"
[ $# -gt 0 ] && shift

exec bench/run-main.sh --add-modules jdk.incubator.vector -Xmx10g -XX:+UseG1GC \
    -- dev.podserve.bench.CheckpointLoadBenchmark "$out" "$@"
