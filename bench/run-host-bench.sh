#!/usr/bin/env bash
# Runs dev.podserve.bench.HostOverheadBenchmark (`bench host`): the engine's own time between
# steps (scheduling, sampling, stop checks, detokenizing, handing outputs to their subscribers)
# over a simulated device that parks for --step-ms a step and leaves the cores free, as a GPU does.
# No GPU needed. Every argument goes to the tool; --help lists them.
#
#   bench/run-host-bench.sh --decodes 22 --vocab 128256 --step-ms 20 --steps 300 --out bench/results/host-....json
#
# Maven runs offline (-o).
set -euo pipefail
cd "$(dirname "$0")/.."

exec bench/run-main.sh --add-modules jdk.incubator.vector -- dev.podserve.bench.HostOverheadBenchmark "$@"
