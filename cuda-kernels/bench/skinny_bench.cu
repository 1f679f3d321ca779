// Tuning bench of ps_skinny_gemm: times the kernel of one or more fatbins (built with different
// PS_SKINNY_* tilings, see params.h) on Llama-3-8B's projections at a few token counts, as weight
// bytes per second. cuBLAS is timed on the same shapes by the Java ProjectionBenchmark in the same
// session; this program only compares tilings of podserve's own kernel.
//
//   skinny_bench FATBIN:TILES:STAGES:SILU_TILES:SILU_STAGES [...]
//
// Each argument names a fatbin and the macros it was built with (the grid and shared memory depend
// on them). Weights rotate over copies larger than the L2 together; each (shape, T) is the median of
// 9 event-timed runs of 32 back-to-back launches, the fatbins interleaved per (shape, T).
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace {

struct Variant {
    std::string path;
    int tiles, stages, siluTiles, siluStages;
    cudaLibrary_t lib;
    cudaKernel_t kernel[4];  // [silu][T > 8]
};

struct Shape {
    const char* name;
    int n, k;
    bool silu, fp32;
};

size_t weight_bytes(const Shape& s) { return 2ull * (s.silu ? 2 : 1) * s.n * s.k; }

}  // namespace

int main(int argc, char** argv) {
    std::vector<Variant> vs;
    for (int i = 1; i < argc; ++i) {
        Variant v{};
        char path[512];
        if (sscanf(argv[i], "%511[^:]:%d:%d:%d:%d", path, &v.tiles, &v.stages, &v.siluTiles, &v.siluStages) != 5) {
            fprintf(stderr, "bad variant %s (FATBIN:TILES:STAGES:SILU_TILES:SILU_STAGES)\n", argv[i]);
            return 2;
        }
        v.path = path;
        PS_CUDA_CHECK(cudaLibraryLoadFromFile(&v.lib, path, nullptr, nullptr, 0, nullptr, nullptr, 0));
        const char* names[4] = {"ps_skinny_gemm_t8", "ps_skinny_gemm_t16", "ps_skinny_gemm_silu_t8", "ps_skinny_gemm_silu_t16"};
        for (int e = 0; e < 4; ++e) {
            PS_CUDA_CHECK(cudaLibraryGetKernel(&v.kernel[e], v.lib, names[e]));
            PS_CUDA_CHECK(cudaKernelSetAttributeForDevice(v.kernel[e], cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024, 0));
        }
        vs.push_back(v);
    }
    if (vs.empty()) {
        fprintf(stderr, "usage: skinny_bench FATBIN:TILES:STAGES:SILU_TILES:SILU_STAGES [...]\n");
        return 2;
    }
    const Shape shapes[] = {{"qkv", 6144, 4096, false, false},
                            {"o_proj", 4096, 4096, false, false},
                            {"gate_up+silu", 14336, 4096, true, false},
                            {"down", 4096, 14336, false, false},
                            {"lm_head", 128256, 4096, false, true}};
    const size_t pool = 1100ull << 20;  // bf16 weight copies
    void *w, *x, *y;
    PS_CUDA_CHECK(cudaMalloc(&w, pool));
    PS_CUDA_CHECK(cudaMalloc(&x, 16ull * 16384 * 2));    // bf16 [16][<= 16384]
    PS_CUDA_CHECK(cudaMalloc(&y, 16ull * 128256 * 4));   // fp32 or bf16 [16][<= 128256]
    PS_CUDA_CHECK(cudaMemset(w, 0x3c, pool));            // 0x3c3c: a small finite bf16
    PS_CUDA_CHECK(cudaMemset(x, 0x3c, 16ull * 16384 * 2));
    cudaEvent_t e0, e1;
    PS_CUDA_CHECK(cudaEventCreate(&e0));
    PS_CUDA_CHECK(cudaEventCreate(&e1));
    printf("%-13s %3s", "projection", "T");
    for (const Variant& v : vs) printf("  %d/%d/%d/%d us  TB/s", v.tiles, v.stages, v.siluTiles, v.siluStages);
    printf("\n");
    for (const Shape& s : shapes) {
        const size_t wb = weight_bytes(s);
        const int copies = (int)std::max<size_t>(1, std::min<size_t>(pool / wb, (256ull << 20) / wb + 1));
        for (int T : {1, 4, 8, 16}) {
            printf("%-13s %3d", s.name, T);
            for (Variant& v : vs) {
                const int rows = 16 * (s.silu ? v.siluTiles : v.tiles);
                const int wt = s.silu ? 2 * v.siluTiles : v.tiles;  // PS_SKINNY_SMEM_BYTES with this variant's macros
                const size_t smem = 8ull * (s.silu ? v.siluStages : v.stages) * (2 * wt + (T + 7) / 8) * 32 * 16 +
                                    8ull * wt * 16 * (8 * ((T + 7) / 8) + 1) * 4;
                PsSkinnyGemmParams p = {};
                p.x = (const ps_bf16_t*)x;
                p.y = y;
                p.xStride = s.k;
                p.yStride = s.n;
                p.numTokens = T;
                p.n = s.n;
                p.k = s.k;
                p.flags = (s.silu ? PS_SKINNY_SILU_MUL : 0) | (s.fp32 ? PS_SKINNY_FP32_OUT : 0);
                void* args[] = {&p};
                std::vector<float> ms;
                for (int rep = 0; rep < 10; ++rep) {
                    PS_CUDA_CHECK(cudaEventRecord(e0));
                    for (int i = 0; i < 32; ++i) {
                        p.w = (const ps_bf16_t*)((char*)w + (i % copies) * wb);
                        PS_CUDA_CHECK(cudaLaunchKernel((const void*)v.kernel[2 * s.silu + (T > 8)], dim3((s.n + rows - 1) / rows),
                                                       dim3(PS_SKINNY_THREADS), args, smem, nullptr));
                    }
                    PS_CUDA_CHECK(cudaEventRecord(e1));
                    PS_CUDA_CHECK(cudaEventSynchronize(e1));
                    float t;
                    PS_CUDA_CHECK(cudaEventElapsedTime(&t, e0, e1));
                    if (rep > 0) ms.push_back(t / 32);  // the first is a warm-up
                }
                std::sort(ms.begin(), ms.end());
                const double us = ms[ms.size() / 2] * 1e3;
                printf("  %12.2f %5.2f", us, wb / (us * 1e-6) / 1e12);
            }
            printf("\n");
            fflush(stdout);
        }
    }
    for (Variant& v : vs) PS_CUDA_CHECK(cudaLibraryUnload(v.lib));
    return 0;
}
