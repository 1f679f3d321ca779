#!/usr/bin/env bash
# Compiles podserve offline and runs one of its main classes on the project's classpath; what the
# bench/run-*.sh scripts share.
#
#   bench/run-main.sh [JVM options...] -- CLASS [arguments...]
#
# MVN_COMPILE_FLAGS go to `mvn compile` (run-serve-bench.sh skips the CUDA kernels: a client needs none).
set -euo pipefail
cd "$(dirname "$0")/.."

jvm=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    jvm+=("$1")
    shift
done
if [ $# -lt 2 ]; then
    echo "usage: bench/run-main.sh [JVM options...] -- CLASS [arguments...]" >&2
    exit 2
fi
shift

# shellcheck disable=SC2086  # the flags are words on purpose
mvn -B -q -o compile ${MVN_COMPILE_FLAGS:-}
mvn -B -q -o dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt
exec java "${jvm[@]}" -cp "target/classes:$(cat target/bench-classpath.txt)" "$@"
