#!/usr/bin/env bash
# Maven's hook (exec-maven-plugin, generate-resources): builds the kernels when nvcc is on the PATH
# and copies the fatbin into the class output as cuda/podserve.fatbin, which the jar then carries.
#
# Without nvcc the Maven build goes on: a fatbin built earlier (e.g. copied in by a Docker stage
# that has nvcc) is packaged if present, else the jar holds no kernels and the CUDA backend says so
# when asked for. With nvcc, a kernel that fails to compile fails the build.
#
# usage: build.sh CLASSES_DIR        (Maven passes ${project.build.outputDirectory})
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:?usage: build.sh CLASSES_DIR}"
fatbin="$here/build/podserve.fatbin"

if command -v nvcc > /dev/null 2>&1; then
    # make is incremental: with nothing changed it compiles nothing.
    make -C "$here" --no-print-directory
elif [[ -f "$fatbin" ]]; then
    echo "[cuda-kernels] nvcc not on PATH: packaging the prebuilt $fatbin"
else
    echo "[cuda-kernels] nvcc not on PATH: skipping the CUDA kernels (the jar will hold no fatbin)"
    exit 0
fi

mkdir -p "$dest/cuda"
# Copied only when it changed, so an unchanged build leaves the class output untouched.
if ! cmp -s "$fatbin" "$dest/cuda/podserve.fatbin"; then
    cp "$fatbin" "$dest/cuda/podserve.fatbin"
    echo "[cuda-kernels] packaged cuda/podserve.fatbin ($(wc -c < "$fatbin") bytes)"
fi
