#!/usr/bin/env bash
# Runs dev.podserve.bench.BudgetCalibration (`bench calibrate`): times full hybrid steps at several
# token budgets on this machine's backend and model and prints the largest
# podserve.scheduler.max-num-batched-tokens whose step time stays under a target time between
# tokens. Every argument goes to the tool; --help lists them.
#
#   bench/run-calibrate.sh --model /models/Meta-Llama-3-8B --target-tbt-ms 50 --decodes 32 --context 4096
#
# Maven runs offline (-o). On a GPU host without a JDK, use the serving bundle instead
# (tools/gpu-api-bundle.sh serve; bundle-serve/run-serve-bench.sh OUT calibrate).
set -euo pipefail
cd "$(dirname "$0")/.."

exec bench/run-main.sh --add-modules jdk.incubator.vector -- dev.podserve.bench.BudgetCalibration "$@"
