#!/usr/bin/env bash
# One GPU session for the attention kernels: native tests, benchmark, PyTorch's SDPA baseline on
# the same shapes, compute-sanitizer (memcheck, racecheck) on the reduced test set, and the SASS of
# the attention kernels. Run from cuda-kernels/ with prebuilt $BUILD (default build/attn: make
# BUILD=build/attn all test-bin bench); rebuilds there when the carried binaries do not run. Results go to $OUT (or
# ./gpu-out): test.log, bench.log, bench.json, pytorch.log, pytorch.json, sanitize.log, attention.sass,
# and bench_variant.json when build/attn/podserve_variant.fatbin exists (a tuning build, timed with
# --tag $VARIANT_TAG, prefill only unless VARIANT_ONLY says otherwise).
set -u
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
B=${BUILD:-build/attn}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$OUT/test.log"
if ! ./$B/podserve_tests --fatbin $B/podserve.fatbin no_such_test 2>&1 | grep -q passed; then
  echo "carried binaries do not run here: rebuilding"; make BUILD=$B all test-bin bench >/dev/null || exit 1
fi
t0=$(date +%s)
./$B/podserve_tests --fatbin $B/podserve.fatbin attention 2>&1 | tee -a "$OUT/test.log" | grep -E "FAIL|passed|error|launch" ; echo "tests: $(( $(date +%s) - t0 )) s"
t0=$(date +%s)
./$B/attention_bench --fatbin $B/podserve.fatbin --json "$OUT/bench.json" > "$OUT/bench.log" 2>&1; echo "bench rc=$? $(( $(date +%s) - t0 )) s"
sed -n '/planner choices only/,$p' "$OUT/bench.log"
if [ -f $B/podserve_variant.fatbin ]; then
  ./$B/attention_bench --fatbin $B/podserve_variant.fatbin --only ${VARIANT_ONLY:-prefill} --tag ${VARIANT_TAG:-variant} \
    --json "$OUT/bench_variant.json" >> "$OUT/bench.log" 2>&1; echo "variant bench rc=$?"
  tail -n 12 "$OUT/bench.log"
fi
t0=$(date +%s)
PYTHONUNBUFFERED=1 timeout ${PT_TIMEOUT:-150} python3 bench/pytorch_sdpa_baseline.py "$OUT/pytorch.json" \
  512:0:16:1024 1024:0:16:4096 2048:0:16:8192 512:4096:32:1024 1024:4096:32:4096 2048:4096:32:8192 \
  512:12288:64:1024 1024:12288:64:4096 2048:12288:64:8192 1024:4096:128:1024 2048:12288:128:4096 512:0:128:8192 \
  > "$OUT/pytorch.log" 2>&1; echo "pytorch rc=$? $(( $(date +%s) - t0 )) s"
cat "$OUT/pytorch.log" | cut -c1-150
t0=$(date +%s)
for tool in ${SANITIZERS:-memcheck racecheck}; do
  echo "== $tool" >> "$OUT/sanitize.log"
  timeout ${SAN_TIMEOUT:-90} compute-sanitizer --tool $tool --error-exitcode 3 ./$B/podserve_tests --fatbin $B/podserve.fatbin --sanitize ${SAN_FILTER:-attention} >> "$OUT/sanitize.log" 2>&1
  echo "$tool rc=$?" | tee -a "$OUT/sanitize.log"
done
echo "sanitize: $(( $(date +%s) - t0 )) s"; grep -E "passed|ERROR SUMMARY" "$OUT/sanitize.log"
cuobjdump -sass -arch sm_90a $B/podserve.fatbin 2>/dev/null | awk '/Function : ps_attention/{p=1} /Function : ps_[a-z]/{if($0 !~ /ps_attention/)p=0} p' > "$OUT/attention.sass"
ls -la "$OUT"
