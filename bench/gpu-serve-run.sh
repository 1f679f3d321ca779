#!/usr/bin/env bash
# The serving benchmark (issue 7) on a GPU host without a JDK, from the bundle that
# `tools/gpu-api-bundle.sh serve` builds (this file is its run-serve-bench.sh): podserve in cuda
# mode on a Llama-3-8B-shaped model with dummy bf16 weights, once per attention mode, each time
# driven by `bench serve` with the same seeded requests. Every mode's server log, `bench serve`
# JSON and /metrics scrape land in OUT.
#
# usage: bash run-serve-bench.sh OUT offline   # long-prompt workload, all requests at once, per mode
#        bash run-serve-bench.sh OUT online    # mixed workload, Poisson arrivals at RATES, per mode
#        bash run-serve-bench.sh OUT calibrate # `bench calibrate` per mode (no server; RUNS, WARMUP): step time
#                                              # against the token budget, largest whose BY (p90) step
#                                              # is under TBT_MS (50)
#        bash run-serve-bench.sh OUT scoring   # what scoring a prompt (echo + logprobs, max_tokens 0) costs
#                                              # against its prefill, one request at a time (scoring-cost.py;
#                                              # LENGTHS, REPEATS, TOP)
#        bash run-serve-bench.sh OUT parallel  # what n choices of one prompt cost against one (parallel-sampling.py;
#                                              # N (8), PROMPT_LEN (8192), MAX_TOKENS (128), REPEATS (5))
#        bash run-serve-bench.sh OUT structured # what a structured output costs per token: the same random
#                                              # workload (STRUCT_REQUESTS at STRUCT_CONCURRENCY) free and under
#                                              # a JSON schema of STRUCT_ITEMS strings, greedy and at T = 0.8
#        bash run-serve-bench.sh OUT capacity  # mixed workload: highest Poisson rate whose P99 ITL and
#                                              # median TTFT meet SLO_ITL_MS (80) and SLO_TTFT_MS (500);
#                                              # SEARCH_RATES="r1,r2,..." probes that ladder instead of
#                                              # doubling from START_RATE and bisecting STEPS times
# PROFILE=1 turns on podserve.attention.profile (per-step attention GPU time in /metrics).
# STEP_TRACE=1 writes one CSV line per engine step to OUT/steps-PHASE-MODE.csv (podserve.scheduler.step-trace).
# JAVA_OPTS go to the server's JVM (e.g. a JFR recording: -XX:StartFlightRecording=filename=...).
# TEMPERATURE=T makes every measured request sampled at T instead of greedy; TOP_P=P adds nucleus sampling.
# BUDGET_<mode> (e.g. BUDGET_pod=1024) gives one mode its own budget, as `bench calibrate` would
# choose per mode for a time-between-tokens target; the others keep BUDGET.
# Knobs (environment): MODES (serial pod streams), BUDGET (max-num-batched-tokens, 2048), SEQS
# (max-num-seqs, 64), KV (KV-cache memory, 48GB), SCALE (long-prompt divisor, 2: 8K in, 512 out),
# REQUESTS (24), RATES (online request rates, "0.5 1"), ONLINE_REQUESTS (40), POLICY (auto),
# WORKLOAD (the online and capacity phases' workload, mixed; long-prompt gives the paper's online case),
# ADMISSION (podserve.scheduler.kv-admission: headroom or greedy), PREFIX_CACHING
# (podserve.kv-cache.prefix-caching, true), PREFIX_LEN (online and capacity phases: every prompt starts
# with the same PREFIX_LEN tokens, bench serve --prefix-len; INPUT_LEN and OUTPUT_LEN set the random
# workload's own lengths), THRESHOLD (podserve.scheduler.long-prefill-token-threshold, the budget),
# WAIT_SHARED (podserve.scheduler.wait-for-shared-prefix, true).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: run-serve-bench.sh OUT offline|online}"
phase="${2:?usage: run-serve-bench.sh OUT offline|online}"
mkdir -p "$out"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
java=("$here/jre/bin/java" --add-modules jdk.incubator.vector)
cp="$here/classes:$here/kernels:$here/lib/*"
budget=${BUDGET:-2048}
port=8080

start_server() {  # mode
    local own="BUDGET_$1"
    local budget=${!own:-$budget}
    echo "$1: max-num-batched-tokens $budget"
    "${java[@]}" ${JAVA_OPTS:-} -Xmx24g -cp "$cp" dev.podserve.PodserveApplication --server.port=$port \
        --podserve.backend=cuda --podserve.model.path="$here/models/llama-3-8b" --podserve.model.load-format=dummy \
        --podserve.model.served-name=llama-3-8b-dummy --podserve.attention.mode="$1" \
        --podserve.attention.sm-policy="${POLICY:-auto}" --podserve.scheduler.max-num-batched-tokens="$budget" \
        --podserve.scheduler.long-prefill-token-threshold="${THRESHOLD:-$budget}" --podserve.scheduler.max-num-seqs="${SEQS:-64}" \
        --podserve.scheduler.wait-for-shared-prefix="${WAIT_SHARED:-true}" \
        --podserve.scheduler.max-model-len=20480 --podserve.kv-cache.memory="${KV:-48GB}" \
        --podserve.scheduler.kv-admission="${ADMISSION:-headroom}" \
        --podserve.kv-cache.prefix-caching="${PREFIX_CACHING:-true}" \
        --podserve.resilience.max-concurrent-requests=256 --podserve.resilience.max-queue-time=0 \
        --podserve.attention.profile="$([ -n "${PROFILE:-}" ] && echo true || echo false)" \
        ${STEP_TRACE:+--podserve.scheduler.step-trace="$out/steps-$phase-$1.csv"} \
        > "$out/server-$phase-$1.log" 2>&1 &
    server=$!
    for _ in $(seq 240); do
        curl -sf "http://localhost:$port/health" > /dev/null && return 0
        kill -0 $server 2> /dev/null || { echo "server ($1) died"; tail -20 "$out/server-$phase-$1.log"; return 1; }
        sleep 0.5
    done
    echo "server ($1) not healthy in 120 s"; return 1
}

stop_server() {
    curl -s "http://localhost:$port/metrics" > "$out/metrics-$phase-$1.txt"
    kill $server; wait $server 2> /dev/null
}

bench() {  # name, bench serve arguments...
    local name=$1; shift
    "${java[@]}" -cp "$cp" dev.podserve.bench.serve.ServeBenchmark --url "http://localhost:$port" \
        --model llama-3-8b-dummy --token-ids 0:256 --seed 7 --timeout 600 --out "$out/$name.json" \
        ${TEMPERATURE:+--temperature "$TEMPERATURE"} ${TOP_P:+--top-p "$TOP_P"} "$@" \
        > "$out/$name.txt" 2>&1
    echo "$name rc=$?"; grep -iE "throughput|TTFT|ITL|TPOT" "$out/$name.txt" | head -8
}

nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/card-$phase.txt"
if [ "$phase" = calibrate ]; then
    for mode in ${MODES:-serial pod}; do
        "${java[@]}" -Xmx24g -cp "$cp" dev.podserve.bench.BudgetCalibration --model "$here/models/llama-3-8b" \
            --load-format dummy --backend cuda --attention-mode "$mode" --target-tbt-ms "${TBT_MS:-50}" --by "${BY:-p90}" \
            --decodes "${DECODES:-32}" --context "${CONTEXT:-4096}" --prefix "${PREFIX:-4096}" \
            --budgets "${BUDGETS:-256,512,1024,1536,2048,3072,4096,6144,8192}" --runs "${RUNS:-10}" --warmup "${WARMUP:-3}" --out "$out/calibrate-$mode.json" \
            2>&1 | grep -v WARN | tee "$out/calibrate-$mode.txt"
    done
    exit 0
fi
for mode in ${MODES:-serial pod streams}; do
    t0=$(date +%s)
    start_server "$mode" || continue
    # A short warm-up: the first steps capture the decode graphs and load the cuBLAS kernels.
    bench "warmup-$phase-$mode" --workload random --input-len 512:2048 --output-len 16:32 --num-requests 8 --rate inf > /dev/null
    if [ "$phase" = scoring ]; then
        python3 "$here/scoring-cost.py" --url "http://localhost:$port" --model llama-3-8b-dummy \
            --lengths "${LENGTHS:-2048,8192,16384}" --repeats "${REPEATS:-5}" --top "${TOP:-1}" \
            --out "$out/scoring-$mode.json" 2>&1 | tee "$out/scoring-$mode.txt"
    elif [ "$phase" = parallel ]; then
        python3 "$here/parallel-sampling.py" --url "http://localhost:$port" --model llama-3-8b-dummy --n "${N:-8}" \
            --prompt-len "${PROMPT_LEN:-8192}" --max-tokens "${MAX_TOKENS:-128}" --repeats "${REPEATS:-5}" \
            --out "$out/parallel-$mode.json" 2>&1 | tee "$out/parallel-$mode.txt"
    elif [ "$phase" = structured ]; then
        items=${STRUCT_ITEMS:-100}
        schema='{"type":"object","properties":{"items":{"type":"array","items":{"type":"string","maxLength":12},"minItems":'$items',"maxItems":'$items'}},"required":["items"],"additionalProperties":false}'
        for t in 0 0.8; do
            common=(--workload random --input-len 512 --num-requests "${STRUCT_REQUESTS:-128}" --rate inf
                --max-concurrency "${STRUCT_CONCURRENCY:-32}" --temperature "$t")
            bench "structured-free-t$t-$mode" "${common[@]}" --output-len "${STRUCT_FREE_LEN:-256}"
            bench "structured-schema-t$t-$mode" "${common[@]}" --output-len 4096 --check-json \
                --extra-body '{"ignore_eos": false, "response_format": {"type": "json_schema", "json_schema": {"name": "items", "schema": '"$schema"'}}}'
            grep -h "JSON value" "$out/structured-schema-t$t-$mode.txt"
        done
    elif [ "$phase" = offline ]; then
        bench "offline-$mode" --workload long-prompt --scale "${SCALE:-2}" --num-requests "${REQUESTS:-24}" --rate inf
    elif [ "$phase" = capacity ]; then
        bench "capacity-$mode" --workload "${WORKLOAD:-mixed}" --scale "${SCALE:-2}" --num-requests "${ONLINE_REQUESTS:-80}" \
            --capacity-search --slo-p99-itl-ms "${SLO_ITL_MS:-80}" --slo-median-ttft-ms "${SLO_TTFT_MS:-500}" \
            --search-start-rate "${START_RATE:-2}" --search-max-rate "${MAX_RATE:-32}" --search-steps "${STEPS:-3}" \
            ${SEARCH_RATES:+--search-rates "$SEARCH_RATES"} --prefix-len "${PREFIX_LEN:-0}" \
            ${INPUT_LEN:+--input-len "$INPUT_LEN"} ${OUTPUT_LEN:+--output-len "$OUTPUT_LEN"}
    else
        for rate in ${RATES:-0.5 1}; do
            bench "online-$mode-rate$rate" --workload "${WORKLOAD:-mixed}" --scale "${SCALE:-2}" --num-requests "${ONLINE_REQUESTS:-40}" --rate "$rate" \
                --prefix-len "${PREFIX_LEN:-0}" ${INPUT_LEN:+--input-len "$INPUT_LEN"} ${OUTPUT_LEN:+--output-len "$OUTPUT_LEN"}
        done
    fi
    stop_server "$mode"
    echo "$mode done in $(( $(date +%s) - t0 )) s"
done
