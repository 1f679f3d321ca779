// Skinny GEMM: y[T][n] = x[T][k] . w[n][k]^T for T <= 16 token rows, the shape of every projection
// in a decode step. At that T a projection is a stream of its weight (2 bytes per element, used
// T times each), so the kernel is built around keeping DRAM busy:
//
//  - CTA = 16 * TILES weight rows (with SILU_MUL: TILES tiles of gate rows and the matching up
//    rows), all of k; its 8 warps take k in interleaved 32-element chunks (warp w: chunks w, w + 8,
//    ...), so together they read 512 contiguous bytes of each row per round.
//  - Each warp streams its chunks through a ring of STAGES chunks in shared memory with cp.async:
//    lane (g, q) copies 16 bytes of rows g and g + 8 of every tile, and of token g of every 8, at
//    chunk offset 8q, and later reads back exactly those bytes, so no lane waits for another and
//    no barrier is needed. The ring, not registers, holds the bytes in flight: a first version
//    that prefetched into registers reached 60-88% of the H200's copy bandwidth, limited by how
//    much it could keep in flight (bench/results/skinny-gemm-h200-2026-11-28.txt).
//  - The 16 bytes go into mma.m16n8k16 A fragments as the logical k positions the layout wants
//    (attention_mma.cuh): the order of the 32 k positions inside a chunk is thereby permuted,
//    identically for x (the B fragment: token g, the same 16 bytes, copied into the same ring
//    slot), so each product is still sum_k x[t][k] w[n][k].
//  - The partial sums of the 8 warps meet once, in shared memory, and the epilogue writes y
//    (bf16 or fp32, optionally added to y's current value, or silu(gate) * up): no split-K
//    workspace and no second launch (cuBLAS's small-T kernels add a reduce launch after o_proj and
//    down, bench/results/decode-step-ncu-h200-2026-11-26.txt).
//  - Under programmatic dependent launch the first STAGES - 1 chunks of weight are requested
//    before the kernel waits for the one ahead of it: weights depend on no earlier kernel.
//
// Padding (tokens >= T, rows >= n, k positions >= k) is zero-filled, never read from memory.
#include "../include/params.h"
#include "../include/podserve_common.cuh"
#include "../attention/attention_mma.cuh"

namespace skinny_gemm {

constexpr int kWarps = PS_SKINNY_THREADS / 32;
constexpr int kRows = 16;   // weight rows of one m-tile
constexpr int kChunk = 32;  // k elements per warp per chunk: 4 lanes x 8
static_assert(kWarps == 8, "PS_SKINNY_SMEM_BYTES assumes 8 warps");

__device__ __forceinline__ float round_bf16(float v) { return ps::to_f32(ps::to_bf16(v)); }

// The same silu as ps_silu_mul, so the fused epilogue equals the two launches it replaces.
__device__ __forceinline__ float silu(float g) { return g / (1.0f + expf(-g)); }

// NT n-tiles of 8 tokens (T <= 8 * NT); MT m-tiles of weight rows per CTA (with SILU, the first
// MT / 2 are gate rows and the rest the matching up rows); S chunks in each warp's ring.
//   smem: ring uint4 [kWarps][S][MT * 2 weight rows + NT token rows][32 lanes], then red fp32
//   [kWarps][MT][kRows][8 NT + 1].
template <int NT, int MT, int S, bool SILU>
__device__ __forceinline__ void run(const PsSkinnyGemmParams& p, uint4* smem) {
    static_assert(S >= 2, "the ring needs a chunk landing while one is read");
    constexpr int kRedStride = 8 * NT + 1;  // odd: spreads the lanes' stores over the banks
    constexpr int kOutTiles = SILU ? MT / 2 : MT;
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int g = lane >> 2;
    const int q = lane & 3;
    const int n0 = blockIdx.x * kRows * kOutTiles;
    const ps::bf16* w = reinterpret_cast<const ps::bf16*>(p.w);
    const ps::bf16* x = reinterpret_cast<const ps::bf16*>(p.x);
    constexpr int kSlot = (MT * 2 + NT) * 32;                          // uint4 per chunk: weight rows, then x
    uint4* ring = smem + warp * S * kSlot;                             // this warp's [S][kSlot]
    float* red = reinterpret_cast<float*>(smem + kWarps * S * kSlot);  // [kWarps][MT][kRows][kRedStride]

    // Weight rows of this lane: m-tile m, rows g and g + 8 of its 16 (the up rows follow the n gate rows).
    const ps::bf16* wRow[MT][2];
    bool wOk[MT][2];
#pragma unroll
    for (int m = 0; m < MT; ++m) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int r = n0 + (m % kOutTiles) * kRows + g + 8 * h;
            wOk[m][h] = r < p.n;
            wRow[m][h] = w + (int64_t)(wOk[m][h] ? r + (m >= kOutTiles ? p.n : 0) : 0) * p.k;
        }
    }
    // Token rows of this lane: n-tile j, token 8j + g.
    const ps::bf16* xRow[NT];
    bool xOk[NT];
#pragma unroll
    for (int j = 0; j < NT; ++j) {
        const int t = 8 * j + g;
        xOk[j] = t < p.numTokens;
        xRow[j] = x + (int64_t)(xOk[j] ? t : 0) * p.xStride;
    }

    float acc[MT][NT][4];
#pragma unroll
    for (int m = 0; m < MT; ++m)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[m][j][e] = 0.0f;

    // This warp's i-th chunk is chunk warp + 8i; a lane's 8 positions of it are all inside k or
    // all outside (k % 8 == 0). x goes through the ring too, by cp.async.cg (L2): it is written by
    // the kernel before, still running at this grid's start under programmatic dependent launch.
    // __ldg's contract is data constant for the grid's whole life, so the compiler may move such a
    // load above the wait and the non-coherent cache may keep an old line; with __ldg here, 29 of
    // 99 GPU tests saw stale activations on the H200.
    const int myChunks = (p.k + kChunk - 1) / kChunk > warp ? ((p.k + kChunk - 1) / kChunk - warp + kWarps - 1) / kWarps : 0;
    auto copyWeights = [&](int i) {
        if (i >= myChunks) return;
        const int col = (warp + kWarps * i) * kChunk + 8 * q;
        uint4* slot = ring + (i % S) * kSlot;
#pragma unroll
        for (int m = 0; m < MT; ++m)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const bool ok = col < p.k && wOk[m][h];
                ps::attn::cp_async16(ps::attn::smem_addr(slot + (m * 2 + h) * 32 + lane), ok ? wRow[m][h] + col : wRow[m][h], ok);
            }
    };
    auto copyX = [&](int i) {
        if (i >= myChunks) return;
        const int col = (warp + kWarps * i) * kChunk + 8 * q;
        uint4* slot = ring + (i % S) * kSlot + MT * 2 * 32;
#pragma unroll
        for (int j = 0; j < NT; ++j) {
            const bool ok = col < p.k && xOk[j];
            ps::attn::cp_async16(ps::attn::smem_addr(slot + j * 32 + lane), ok ? xRow[j] + col : xRow[j], ok);
        }
    };

    // Commit groups, each committed whether or not it holds copies: weights of chunks 0 .. S-2
    // (groups 0 .. S-2), then, after the wait, x of those chunks (groups S-1 .. 2S-3), then one
    // group per iteration with both halves of chunk i + S - 1. Before iteration i, 2(S-1) + i
    // groups are committed and chunk i needs the first S + i of them (its weights are group i, its
    // x group S-1+i): "at most S - 2 pending" in every iteration.
    ps::pdl_launch_dependents();
#pragma unroll
    for (int i = 0; i < S - 1; ++i) {
        copyWeights(i);
        ps::attn::cp_async_commit();
    }
    // Everything above reads only the weight; x and y belong to the kernels before.
    ps::pdl_grid_dependency_wait();
#pragma unroll
    for (int i = 0; i < S - 1; ++i) {
        copyX(i);
        ps::attn::cp_async_commit();
    }
    for (int i = 0; i < myChunks; ++i) {
        ps::attn::cp_async_wait<S - 2>();
        const uint4* slot = ring + (i % S) * kSlot;
        uint4 wv[MT][2];
        uint4 xv[NT];
#pragma unroll
        for (int m = 0; m < MT; ++m)
#pragma unroll
            for (int h = 0; h < 2; ++h) wv[m][h] = slot[(m * 2 + h) * 32 + lane];
#pragma unroll
        for (int j = 0; j < NT; ++j) xv[j] = slot[(MT * 2 + j) * 32 + lane];
        // The slot refilled now was read in the previous iteration, by this lane only.
        copyWeights(i + S - 1);
        copyX(i + S - 1);
        ps::attn::cp_async_commit();
#pragma unroll
        for (int s = 0; s < 2; ++s) {  // the chunk's two k16 steps: words (x, y), then (z, w)
#pragma unroll
            for (int m = 0; m < MT; ++m) {
                const uint32_t a[4] = {s ? wv[m][0].z : wv[m][0].x, s ? wv[m][1].z : wv[m][1].x, s ? wv[m][0].w : wv[m][0].y,
                                       s ? wv[m][1].w : wv[m][1].y};
#pragma unroll
                for (int j = 0; j < NT; ++j) ps::attn::mma_bf16(acc[m][j], a, s ? xv[j].z : xv[j].x, s ? xv[j].w : xv[j].y);
            }
        }
    }
    ps::attn::cp_async_wait<0>();  // nothing may still be landing in the ring when the CTA ends

    // red: C fragment (c0, c1) = (row g, tokens 2q, 2q + 1), (c2, c3) = (row g + 8, the same tokens).
#pragma unroll
    for (int m = 0; m < MT; ++m) {
        float* base = red + ((warp * MT + m) * kRows) * kRedStride;
#pragma unroll
        for (int j = 0; j < NT; ++j) {
            const int t = 8 * j + 2 * q;
            base[g * kRedStride + t] = acc[m][j][0];
            base[g * kRedStride + t + 1] = acc[m][j][1];
            base[(g + 8) * kRedStride + t] = acc[m][j][2];
            base[(g + 8) * kRedStride + t + 1] = acc[m][j][3];
        }
    }
    __syncthreads();

    // One output per thread and pass, rows fastest: neighbouring threads write one token's
    // neighbouring outputs.
    constexpr int kOutRows = kRows * kOutTiles;
    for (int o = threadIdx.x; o < kOutRows * p.numTokens; o += blockDim.x) {
        const int row = o % kOutRows;
        const int t = o / kOutRows;
        const int n = n0 + row;
        if (n >= p.n) continue;
        float sum[2];
#pragma unroll
        for (int half = 0; half < (SILU ? 2 : 1); ++half) {
            const int m = row / kRows + half * kOutTiles;
            float v = 0.0f;
#pragma unroll
            for (int wi = 0; wi < kWarps; ++wi) v += red[((wi * MT + m) * kRows + row % kRows) * kRedStride + t];
            sum[half] = v;
        }
        if (SILU) {
            const float gate = round_bf16(sum[0]);
            const float up = round_bf16(sum[1]);
            reinterpret_cast<ps::bf16*>(p.y)[(int64_t)t * p.yStride + n] = ps::to_bf16(silu(gate) * up);
        } else if (p.flags & PS_SKINNY_FP32_OUT) {
            // y's bias was written by a kernel before: read through L2, as x is.
            float* y = reinterpret_cast<float*>(p.y) + (int64_t)t * p.yStride + n;
            *y = (p.flags & PS_SKINNY_ACCUMULATE) ? sum[0] + __ldcg(y) : sum[0];
        } else {
            ps::bf16* y = reinterpret_cast<ps::bf16*>(p.y) + (int64_t)t * p.yStride + n;
            *y = ps::to_bf16((p.flags & PS_SKINNY_ACCUMULATE) ? sum[0] + ps::to_f32(__ldcg(y)) : sum[0]);
        }
    }
}

}  // namespace skinny_gemm

// Four entry points, one per instance, so that each gets the registers it needs (one entry would
// give every instance the largest count, and fewer CTAs per SM): tokens up to 8 or up to 16, plain
// or with SILU_MUL (the flag must match the entry). Launched with programmatic stream serialization
// where the device has it (Kernel.launchDependent): see the PDL comment in podserve_common.cuh and
// the weight prefetch in run().
#define PS_SKINNY_ENTRY(NAME, NT, SILU, TILES, STAGES)                                             \
    extern "C" __global__ void __launch_bounds__(PS_SKINNY_THREADS) NAME(const PsSkinnyGemmParams p) { \
        extern __shared__ uint4 ps_skinny_smem[];                                                    \
        /* Each entry's token range only (its shared memory is sized for it); never launched otherwise. */ \
        if (p.numTokens <= 8 * ((NT) - 1) || p.numTokens > 8 * (NT)) return;                         \
        skinny_gemm::run<NT, (SILU) ? 2 * (TILES) : (TILES), STAGES, SILU>(p, ps_skinny_smem);       \
    }
PS_SKINNY_ENTRY(ps_skinny_gemm_t8, 1, false, PS_SKINNY_TILES, PS_SKINNY_STAGES)
PS_SKINNY_ENTRY(ps_skinny_gemm_t16, 2, false, PS_SKINNY_TILES, PS_SKINNY_STAGES)
PS_SKINNY_ENTRY(ps_skinny_gemm_silu_t8, 1, true, PS_SKINNY_SILU_TILES, PS_SKINNY_SILU_STAGES)
PS_SKINNY_ENTRY(ps_skinny_gemm_silu_t16, 2, true, PS_SKINNY_SILU_TILES, PS_SKINNY_SILU_STAGES)
#undef PS_SKINNY_ENTRY
