#!/usr/bin/env bash
# Builds bundle/: everything the gpu-tagged tests need on a GPU host that has no JDK, no Maven and no
# network -- a jlink runtime, the few jars those tests load (linux-x86_64 natives only), main and
# test classes, the JUnit console launcher, the kernels' fatbin, the native kernel tests
# (podserve_tests) and run-gpu-tests.sh -- and bundle-tests.txz beside it, the same folder compressed
# (about 31 MB: the folder itself, with the working tree, is over what a device call carries).
# usage: tools/gpu-bundle.sh [OUT_DIR]        (default: bundle/ in the repository root, git-ignored)
# Then, through the device tool: run(carry=["bundle-tests.txz"],
#   command="tar xJf bundle-tests.txz && bash bundle/run-gpu-tests.sh $OUT")
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/bundle}"
cd "$root"

# Offline when the local repository already holds everything (the usual case after one online build).
mvn_flags=(-B -q -Dstyle.color=never)
mvn "${mvn_flags[@]}" -o test-compile > /dev/null 2>&1 || mvn "${mvn_flags[@]}" test-compile
make -C cuda-kernels --no-print-directory > /dev/null
cp_file="$(mktemp)"
mvn "${mvn_flags[@]}" -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" > /dev/null
junit_version="$(mvn "${mvn_flags[@]}" -o help:evaluate -Dexpression=junit-jupiter.version -DforceStdout | sed "s/\x1b\[[0-9;]*m//g")"
console="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit_version/junit-platform-console-standalone-$junit_version.jar"
[[ -f "$console" ]] || mvn "${mvn_flags[@]}" dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version"

rm -rf "$out"
mkdir -p "$out/lib" "$out/junit" "$out/kernels/cuda"
# Only what backend.cuda's tests reach: JavaCPP + CUDA presets, logging, and Jackson (ModelConfig).
tr ':' '\n' < "$cp_file" | grep -E '/(javacpp|cuda)-[0-9][^/]*\.jar$|/slf4j-api-|/logback-(classic|core)-|/tools/jackson/core/|/jackson-annotations-' \
    | while read -r jar; do cp "$jar" "$out/lib/"; done
rm -f "$cp_file"
# The presets' linux jar carries every CUDA library's JNI glue; the tests use the driver API and cuBLAS only.
for jar in "$out"/lib/cuda-*-linux-x86_64.jar; do
    zip -q -d "$jar" 'org/bytedeco/cuda/linux-x86_64/libjninpp*' 'org/bytedeco/cuda/linux-x86_64/libjnicusolver*' \
        'org/bytedeco/cuda/linux-x86_64/libjnicusparse*' 'org/bytedeco/cuda/linux-x86_64/libjnicufft*' \
        'org/bytedeco/cuda/linux-x86_64/libjninvml*' 'org/bytedeco/cuda/linux-x86_64/libjnicupti*' \
        'org/bytedeco/cuda/linux-x86_64/libjnicurand*' 'org/bytedeco/cuda/linux-x86_64/libjninvrtc*' > /dev/null || true
done
cp "$console" "$out/junit/junit-platform-console-standalone.jar"
cp -r target/classes "$out/classes"
# The fatbin comes once, from kernels/ (freshly built above), not a second time inside classes/.
rm -rf "$out/classes/cuda"
# Test classes of backend.cuda only (the rest are not run there), and the transformers fixtures
# that CudaCheckpointGpuTest loads from the class path (about 2 MB).
mkdir -p "$out/test-classes/dev/podserve/backend"
cp -r target/test-classes/dev/podserve/backend/cuda "$out/test-classes/dev/podserve/backend/"
cp -r target/test-classes/fixtures "$out/test-classes/fixtures"
# The GPU hosts are Hopper (H100/H200): the bundle carries only the sm_90a code, which keeps it
# under the device tool's 64 MiB (the jar's fatbin also holds sm_80 and compute_90 PTX).
make -C cuda-kernels --no-print-directory BUILD=build/hopper GENCODE="-gencode arch=compute_90a,code=sm_90a" \
    build/hopper/podserve.fatbin > /dev/null
cp cuda-kernels/build/hopper/podserve.fatbin "$out/kernels/cuda/podserve.fatbin"
bash tools/make-jre.sh "$out/jre" java.xml > /dev/null

cat > "$out/run-gpu-tests.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the gpu-tagged tests with the bundled runtime; JUnit's XML report and the log go to OUT_DIR.
# usage: bash run-gpu-tests.sh OUT_DIR
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
results="${1:?usage: run-gpu-tests.sh OUT_DIR}"
mkdir -p "$results"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$results/gpu.txt" 2>&1 || true
cp="$here/classes:$here/test-classes:$here/kernels"
for jar in "$here"/lib/*.jar; do cp="$cp:$jar"; done
"$here/jre/bin/java" --add-modules jdk.incubator.vector -Xmx16g -XX:+UseParallelGC \
    -jar "$here/junit/junit-platform-console-standalone.jar" execute \
    --class-path "$cp" --include-tag gpu --select-package dev.podserve.backend.cuda \
    --details=tree --disable-banner --reports-dir "$results" 2>&1 | tee "$results/gpu-tests.log"
RUN
chmod +x "$out/run-gpu-tests.sh"
# The native kernel tests, to run beside the Java ones:
#   bundle/podserve_tests --fatbin bundle/kernels/cuda/podserve.fatbin [FILTER...]
make -C cuda-kernels --no-print-directory test-bin > /dev/null
cp cuda-kernels/build/podserve_tests "$out/podserve_tests"
du -sh "$out"

cat > "$out/run-gpu-bench.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the projection benchmark (ProjectionBenchmark: cuBLAS against the skinny GEMM kernel per
# projection) and the model decode-step benchmark (CudaDecodeBenchmark) with the bundled runtime;
# their JSON and logs go to OUT_DIR. usage: [BENCH="projections decode"] [JAVA_OPTS=-D...] bash run-gpu-bench.sh OUT_DIR
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
results="${1:?usage: run-gpu-bench.sh OUT_DIR}"
mkdir -p "$results"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
cp="$here/classes:$here/kernels"
for jar in "$here"/lib/*.jar; do cp="$cp:$jar"; done
for what in ${BENCH:-projections decode}; do
    case "$what" in
        projections) main=dev.podserve.bench.ProjectionBenchmark; name=projections ;;
        decode) main=dev.podserve.bench.CudaDecodeBenchmark; name=cuda-decode ;;
        *) echo "unknown benchmark $what"; exit 2 ;;
    esac
    # shellcheck disable=SC2086
    "$here/jre/bin/java" --add-modules jdk.incubator.vector -Xmx16g ${JAVA_OPTS:-} -cp "$cp" "$main" \
        "$results/$name.json" 2>&1 | tee "$results/$name.log"
done
RUN
chmod +x "$out/run-gpu-bench.sh"

# One compressed file for the device tool (tar's xz: the runtime and jars shrink about 2x).
rm -f "$root/bundle-tests.txz"
tar -C "$(dirname "$out")" -cJf "$root/bundle-tests.txz" "$(basename "$out")"
ls -la "$root/bundle-tests.txz"
