#!/usr/bin/env bash
# Runs dev.podserve.bench.StructuredOutputBenchmark (`bench structured`): the host's time per step to
# work out which tokens a structured output allows, on a synthetic 128K byte-level vocabulary, for
# the recognizer states a JSON answer passes through. No GPU needed. --help lists the arguments.
#
#   bench/run-structured-bench.sh --vocab 128000 --reps 60 --out bench/results/structured-....json
#
# Maven runs offline (-o).
set -euo pipefail
cd "$(dirname "$0")/.."

exec bench/run-main.sh -- dev.podserve.bench.StructuredOutputBenchmark "$@"
