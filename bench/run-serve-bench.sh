#!/usr/bin/env bash
# Runs dev.podserve.bench.serve.ServeBenchmark (`bench serve`): a streaming load client of any
# OpenAI-compatible server, podserve or another one. Every argument goes to the benchmark; --help lists them.
#
#   bench/run-serve-bench.sh --url http://localhost:8080 --workload random --rate 4 --out result.json
#
# Only the client runs here: start the server under test first. Maven runs offline (-o).
set -euo pipefail
cd "$(dirname "$0")/.."

MVN_COMPILE_FLAGS=-Dpodserve.cuda.skip=true exec bench/run-main.sh -- dev.podserve.bench.serve.ServeBenchmark "$@"
