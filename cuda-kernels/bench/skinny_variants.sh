#!/usr/bin/env bash
# Builds ps_skinny_gemm alone in several tilings (sm_90a, a few hundred KB each) and, given OUT,
# times them against each other with build/skinny_bench on the GPU of this machine.
#   bash bench/skinny_variants.sh build            (on the build machine; nvcc, no GPU needed)
#   bash bench/skinny_variants.sh run OUT_FILE     (on the GPU host, after build)
# A tiling is TILES:STAGES:SILU_TILES:SILU_STAGES (params.h, PS_SKINNY_*).
set -euo pipefail
cd "$(dirname "$0")/.."
VARIANTS=${VARIANTS:-"1:4:2:2 1:6:2:3 2:4:2:2 1:8:2:4 2:6:2:3"}
case "${1:-}" in
    build)
        mkdir -p build/skinny
        make --no-print-directory build/skinny_bench > /dev/null
        for v in $VARIANTS; do
            IFS=: read -r t u st su <<< "$v"
            nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90a,code=sm_90a -Xptxas -v \
                -DPS_SKINNY_TILES="$t" -DPS_SKINNY_STAGES="$u" -DPS_SKINNY_SILU_TILES="$st" -DPS_SKINNY_SILU_STAGES="$su" \
                layers/skinny_gemm.cu -o "build/skinny/$t-$u-$st-$su.fatbin" 2>&1 | grep -E "registers|spill" | sed "s/^/$v: /"
        done ;;
    run)
        args=()
        for v in $VARIANTS; do args+=("build/skinny/${v//:/-}.fatbin:$v"); done
        ./build/skinny_bench "${args[@]}" | tee "${2:?usage: skinny_variants.sh run OUT_FILE}" ;;
    *) echo "usage: skinny_variants.sh build | run OUT_FILE"; exit 2 ;;
esac
