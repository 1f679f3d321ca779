#!/usr/bin/env bash
# A trimmed Java runtime (jlink) for GPU hosts, which have no JDK. Same recipe as the one verified on
# H100/H200 hosts (shared/gpu/make-jre.sh), kept here because those hosts do not see shared/.
# usage: tools/make-jre.sh OUT_DIR [extra,modules]
set -euo pipefail
out=${1:?usage: make-jre.sh OUT_DIR [extra,modules]}
mods=java.base,java.logging,jdk.unsupported,jdk.incubator.vector${2:+,$2}
jdk=${JLINK_JDK:-$(dirname "$(dirname "$(readlink -f "$(command -v jlink || command -v javac)")")")}
rm -rf "$out"
# jlink warns about incubator modules on every run; the Vector API is one on purpose.
"$jdk/bin/jlink" --add-modules "$mods" --strip-debug --no-header-files --no-man-pages \
  --compress=2 --output "$out" 2>&1 | grep -v 'incubator modules' || true
du -sh "$out"
