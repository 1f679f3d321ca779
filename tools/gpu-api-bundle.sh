#!/usr/bin/env bash
# Builds bundle-api.txz: the HTTP API tests (api and fidelity packages: WebTestClient tests, the
# OpenAI Java SDK and LangChain4j clients, the streaming stress test, the fixtures over HTTP) with
# everything they load, for a GPU host that has no JDK, so the server can be tested in cuda mode
# there. The test class path is about 130 MB of jars, over what a device call carries; jars are
# already deflated one entry at a time, so they are rewritten uncompressed ("stored") and the whole
# bundle is compressed once with xz, which finds the redundancy across all of them (about 4x).
# usage: tools/gpu-api-bundle.sh            (writes bundle-api.txz in the repository root, git-ignored)
# Then, through the device tool: run(carry=["bundle-api.txz"],
#   command="tar xJf bundle-api.txz && bash bundle-api/run-api-tests.sh $OUT")
#
# tools/gpu-api-bundle.sh serve writes bundle-serve.txz instead: the server's run-time class path
# only (no tests), a Llama-3-8B-shaped model folder for dummy weights (tools/MakeDefaultModel.java
# --shape llama-3-8b) and bench/gpu-serve-run.sh as run-serve-bench.sh, for the serving benchmark:
#   command="tar xJf bundle-serve.txz && bash bundle-serve/run-serve-bench.sh $OUT offline"
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
serve=false
[[ "${1:-}" == serve ]] && serve=true
out="$root/bundle-api"
$serve && out="$root/bundle-serve"
scope=test
$serve && scope=runtime
mvn_flags=(-B -q -Dstyle.color=never)
mvn "${mvn_flags[@]}" -o test-compile > /dev/null 2>&1 || mvn "${mvn_flags[@]}" test-compile
make -C cuda-kernels --no-print-directory > /dev/null
cp_file="$(mktemp)"
mvn "${mvn_flags[@]}" -o dependency:build-classpath -Dmdep.includeScope=$scope -Dmdep.outputFile="$cp_file" > /dev/null
junit_version="$(mvn "${mvn_flags[@]}" -o help:evaluate -Dexpression=junit-jupiter.version -DforceStdout | sed "s/\x1b\[[0-9;]*m//g")"
console="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit_version/junit-platform-console-standalone-$junit_version.jar"
[[ -f "$console" ]] || mvn "${mvn_flags[@]}" dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version"

rm -rf "$out" "$out.txz"
mkdir -p "$out/lib" "$out/junit" "$out/kernels/cuda"
# Natives of other platforms are dead weight on a linux-x86_64 host.
# Mockito and its byte-code generators: no test here mocks anything. Testcontainers and its Docker
# client: the container tests are not among the packages this bundle runs.
tr ':' '\n' < "$cp_file" | grep -vE -- '-(linux-aarch_64|osx-[a-z_0-9]+|windows-[a-z_0-9]+)\.jar$' \
    | grep -vE '/(mockito-[a-z-]+|byte-buddy(-agent)?|objenesis)-[0-9][^/]*\.jar$' \
    | grep -vE '/(testcontainers[a-z-]*|docker-java[a-z-]*|duct-tape)-[0-9][^/]*\.jar$' \
    | while read -r jar; do cp "$jar" "$out/lib/"; done
rm -f "$cp_file"
$serve || cp "$console" "$out/junit/"
python3 - "$out/lib" "$out/junit" <<'PY'
import os, sys, zipfile
# DJL's tokenizers jar carries its native library for every platform; keep linux-x86_64's.
foreign = ("native/lib/osx", "native/lib/win", "native/lib/linux-aarch64")
# The CUDA presets' JNI glue of libraries podserve never calls (it uses the driver API and cuBLAS).
unused_cuda = tuple("org/bytedeco/cuda/linux-x86_64/libjni" + lib for lib in
                    ("npp", "cusolver", "cusparse", "cufft", "nvml", "cupti", "curand", "nvrtc"))
for d in sys.argv[1:]:
    for name in os.listdir(d):
        path = os.path.join(d, name)
        tmp = path + ".stored"
        try:
            with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as dst:
                for info in src.infolist():
                    if name.startswith("tokenizers-") and info.filename.startswith(foreign):
                        continue
                    if name.startswith("cuda-") and info.filename.startswith(unused_cuda):
                        continue
                    entry = zipfile.ZipInfo(info.filename, info.date_time)
                    entry.external_attr = info.external_attr
                    dst.writestr(entry, src.read(info.filename), zipfile.ZIP_STORED)
            os.replace(tmp, path)
        except zipfile.BadZipFile as e:
            # A jar Python cannot re-read (some carry stale CRCs the JVM ignores) goes as it is.
            print(f"kept {name} deflated: {e}")
            os.remove(tmp)
PY
cp -r target/classes "$out/classes"
rm -rf "$out/classes/cuda"
$serve || cp -r target/test-classes "$out/test-classes"
if $serve; then
    rmdir "$out/junit"
    java tools/MakeDefaultModel.java "$out/models/llama-3-8b" --shape llama-3-8b > /dev/null
    cp bench/gpu-serve-run.sh "$out/run-serve-bench.sh"
    cp bench/scoring-cost.py "$out/scoring-cost.py"
    cp bench/parallel-sampling.py "$out/parallel-sampling.py"
    cp bench/completions_client.py "$out/completions_client.py"
fi
# Hopper code only (H100/H200 hosts), as in tools/gpu-bundle.sh.
make -C cuda-kernels --no-print-directory BUILD=build/hopper GENCODE="-gencode arch=compute_90a,code=sm_90a" \
    build/hopper/podserve.fatbin > /dev/null
cp cuda-kernels/build/hopper/podserve.fatbin "$out/kernels/cuda/podserve.fatbin"
# Uncompressed runtime: xz compresses it better than jlink's own zip level does.
jdk=${JLINK_JDK:-$(dirname "$(dirname "$(readlink -f "$(command -v jlink || command -v javac)")")")}
"$jdk/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,jdk.incubator.vector,java.xml,java.naming,java.management,java.desktop,java.net.http,java.sql,jdk.crypto.ec,java.instrument,jdk.management,java.compiler,java.scripting,jdk.jfr,jdk.attach \
    --strip-debug --no-header-files --no-man-pages --output "$out/jre" 2>&1 | grep -v 'incubator modules' || true

$serve || cat > "$out/run-api-tests.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the API and fidelity test packages against the server in cuda mode (podserve.backend=cuda:
# a missing device fails rather than falls back). usage: bash run-api-tests.sh OUT_DIR
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
results="${1:?usage: run-api-tests.sh OUT_DIR}"
mkdir -p "$results"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
cp="$here/classes:$here/test-classes:$here/kernels"
for jar in "$here"/lib/*.jar; do cp="$cp:$jar"; done
"$here/jre/bin/java" --add-modules jdk.incubator.vector -Xmx16g -Dpodserve.backend=cuda \
    -jar "$here"/junit/junit-platform-console-standalone-*.jar execute \
    --class-path "$cp" --select-package dev.podserve.api --select-package dev.podserve.fidelity --exclude-tag gpu \
    --details=tree --disable-banner --reports-dir "$results" 2>&1 | tee "$results/api-tests.log"
RUN
chmod +x "$out"/run-*.sh
# -9: a 64 MB dictionary, so a class repeated in two jars far apart still compresses away.
XZ_OPT=-9 tar -C "$root" -cJf "$out.txz" "$(basename "$out")"
rm -rf "$out"
ls -la "$out.txz"
