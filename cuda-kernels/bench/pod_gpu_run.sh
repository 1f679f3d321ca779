#!/usr/bin/env bash
# One GPU session for POD-Attention: pod tests, sanitizers (FILTER=pod), the sweep, PyTorch's serial
# baseline on every 4th chunk position, ncu on two points. Run from cuda-kernels/ after
# `make all test-bin bench`; results under $OUT.
set -u
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/test.log"
t0=$(date +%s)
timeout 240 ./build/podserve_tests --fatbin build/podserve.fatbin pod attention_hybrid >> "$OUT/test.log" 2>&1; echo "tests rc=$? $(( $(date +%s) - t0 )) s"
grep -E "FAIL|passed|error|launch|occupancy|CTAs/SM" "$OUT/test.log" | head -30
t0=$(date +%s)
for tool in ${SANITIZERS:-memcheck racecheck synccheck initcheck}; do
  echo "== $tool" >> "$OUT/sanitize.log"
  timeout ${SAN_TIMEOUT:-60} compute-sanitizer --tool $tool --error-exitcode 3 ./build/podserve_tests --fatbin build/podserve.fatbin --sanitize pod >> "$OUT/sanitize.log" 2>&1
  echo "$tool rc=$?" | tee -a "$OUT/sanitize.log"
done
echo "sanitize $(( $(date +%s) - t0 )) s"; grep -E "passed|ERROR SUMMARY" "$OUT/sanitize.log"
t0=$(date +%s)
timeout ${SWEEP_TIMEOUT:-200} ./build/pod_bench --fatbin build/podserve.fatbin --json "$OUT/sweep.json" --stride ${STRIDE:-1} --pytorch-list "$OUT/pt" > "$OUT/sweep.log" 2>&1; echo "sweep rc=$? $(( $(date +%s) - t0 )) s"
tail -3 "$OUT/sweep.log"
t0=$(date +%s)
# PT_REUSE=DIR: take pytorch-llama.json / pytorch-yi.json from an earlier run on the same card.
[ -n "${PT_REUSE:-}" ] && cp "$PT_REUSE"/pytorch-*.json "$OUT"/
[ -z "${PT_REUSE:-}" ] && for m in llama:8 yi:4; do
  PS_HKV=${m#*:} PS_CONFIG_FILE="$OUT/pt-${m%:*}.txt" PYTHONUNBUFFERED=1 timeout ${PT_TIMEOUT:-80} python3 bench/pytorch_sdpa_baseline.py "$OUT/pytorch-${m%:*}.json" > "$OUT/pytorch-${m%:*}.log" 2>&1; echo "pytorch ${m%:*} rc=$? $(( $(date +%s) - t0 )) s"
done
python3 bench/pod_results.py "$OUT/sweep.json" "$OUT/pod-sweep.json" "$OUT/pytorch-llama.json" "$OUT/pytorch-yi.json" | tee "$OUT/summary.txt"
t0=$(date +%s)
M=gpu__time_duration.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_elapsed,sm__warps_active.avg.per_cycle_active,launch__occupancy_limit_shared_mem
[ -z "${SKIP_NCU:-}" ] && for pt in llama-3-8b:512:8192:1.0:16384 llama-3-8b:2048:4096:1.0:8192; do
  timeout 60 ncu --clock-control none -k regex:"ps_(pod|attention_(prefill|decode))" --metrics $M --csv \
    ./build/pod_bench --fatbin build/podserve.fatbin --point $pt --modes serial,pod > "$OUT/ncu-$pt.csv" 2>&1; echo "ncu $pt rc=$?"
done
echo "ncu $(( $(date +%s) - t0 )) s"
