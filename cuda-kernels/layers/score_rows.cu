// Prompt scoring on the GPU (see params.h, ps_score_rows): per row the target token's
// log-probability and rank and the likeliest tokens, with the host sampler's rules, so scoring a
// prompt copies PS_SCORE_WORDS words a row back instead of the row's vocab-wide fp32 logits.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace score {

// A (value, id) candidate ordered as the host's RankKeys: higher value first, then lower id.
// id -1 is "none yet".
struct Pick {
    float v;
    int i;
};

__device__ __forceinline__ bool ahead(const Pick& a, const Pick& b) {
    if (a.i < 0) return false;
    if (b.i < 0) return true;
    return a.v > b.v || (a.v == b.v && a.i < b.i);
}

__device__ __forceinline__ Pick warp_pick(Pick p) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        Pick other;
        other.v = __shfl_xor_sync(0xffffffffu, p.v, o);
        other.i = __shfl_xor_sync(0xffffffffu, p.i, o);
        if (ahead(other, p)) p = other;
    }
    return p;
}

// The CTA's best pick, broadcast to every thread. scratchV/scratchI: [32] shared.
__device__ Pick block_pick(Pick p, float* scratchV, int* scratchI) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    p = warp_pick(p);
    __syncthreads();  // the scratch may still be read from the last reduction
    if (lane == 0) {
        scratchV[warp] = p.v;
        scratchI[warp] = p.i;
    }
    __syncthreads();
    Pick w;
    w.v = lane < (int)(blockDim.x >> 5) ? scratchV[lane] : -INFINITY;
    w.i = lane < (int)(blockDim.x >> 5) ? scratchI[lane] : -1;
    w = warp_pick(w);
    return w;
}

__device__ double block_sum(double x, double* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    __syncthreads();
    if (lane == 0) scratch[warp] = x;
    __syncthreads();
    double w = lane < (int)(blockDim.x >> 5) ? scratch[lane] : 0.0;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) w += __shfl_xor_sync(0xffffffffu, w, o);
    return w;
}

// The top-th largest of the threads' values (value first, then lower thread), -inf when fewer
// threads than top, or when it is -inf. Uniform across the CTA.
__device__ float kth_of_thread_maxima(float mine, int top, float* scratchV, int* scratchI) {
    if (top > (int)blockDim.x) return -INFINITY;
    Pick last;
    last.v = INFINITY;
    last.i = -1;
    for (int k = 0; k < top; ++k) {
        Pick c;
        c.v = mine;
        c.i = (int)threadIdx.x;
        const bool after = k == 0 || c.v < last.v || (c.v == last.v && c.i > last.i);
        if (!after) c.i = -1;
        c = block_pick(c, scratchV, scratchI);
        if (c.i < 0) return -INFINITY;
        last = c;
    }
    return last.v;
}

// The top likeliest of n entries at(0..n-1), best first (higher value, then lower id), written to
// out as ids and log-probabilities (value - lse): pass k takes the best of what ranks after the
// (k-1)-th. Stops early when fewer than top entries exist.
template <typename At>
__device__ void select_top(int n, int top, double lse, int32_t* out, float* scratchV, int* scratchI, At at) {
    Pick last;
    last.v = INFINITY;
    last.i = -1;
    for (int k = 0; k < top; ++k) {
        Pick best;
        best.v = -INFINITY;
        best.i = -1;
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            const Pick c = at(j);
            const bool after = k == 0 || c.v < last.v || (c.v == last.v && c.i > last.i);
            if (after && ahead(c, best)) best = c;
        }
        best = block_pick(best, scratchV, scratchI);
        if (best.i < 0) break;  // fewer ids than asked for
        if (threadIdx.x == 0) {
            out[2 + k] = best.i;
            out[2 + PS_SCORE_MAX_TOP + k] = __float_as_int((float)((double)best.v - lse));
        }
        last = best;
    }
}

}  // namespace score

extern "C" __global__ void __launch_bounds__(1024) ps_score_rows(const PsScoreRowsParams p) {
    __shared__ float pickV[32];
    __shared__ int pickI[32];
    __shared__ double sums[32];
    // [PS_SCORE_CANDIDATES]: the row's entries at or above the bound, in no order; candN of them.
    __shared__ float candV[PS_SCORE_CANDIDATES];
    __shared__ int candI[PS_SCORE_CANDIDATES];
    __shared__ int candN;
    for (int s = blockIdx.x; s < p.numRows; s += gridDim.x) {
        const float* row = p.logits + (int64_t)s * p.logitsStride;  // [vocab]
        int32_t* out = p.out + (int64_t)s * PS_SCORE_WORDS;           // [PS_SCORE_WORDS]
        const int t = p.targets[s];
        const float own = __ldg(row + t);
        // Pass 1: the maximum, whether the row has a distribution at all, and the target's rank.
        float max = -INFINITY;
        int bad = 0;
        int atLeast = 0;
        for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) {
            const float x = __ldg(row + i);
            if (x != x || x == INFINITY) bad = 1;
            max = fmaxf(max, x);
            atLeast += x >= own;
        }
        const double badRows = score::block_sum((double)bad, sums);
        // The maximum through the pick reduction (ids only mark "seen a number" here).
        score::Pick m;
        m.v = max;
        m.i = max == -INFINITY ? -1 : (int)threadIdx.x;
        m = score::block_pick(m, pickV, pickI);
        const double rank = score::block_sum((double)atLeast, sums);
        if (badRows > 0 || m.i < 0) {
            if (threadIdx.x == 0) out[1] = -1;
            __syncthreads();
            continue;
        }
        const float top = m.v;
        // Pass 2: the log of the partition function.
        double sum = 0.0;
        for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) sum += exp((double)__ldg(row + i) - top);
        sum = score::block_sum(sum, sums);
        const double lse = (double)top + log(sum);
        if (threadIdx.x == 0) {
            out[0] = __float_as_int((float)((double)own - lse));
            out[1] = (int)rank;
        }
        if (p.top > 0) {
            // Pass 3 keeps only what can be among the top: the top-th largest of the threads' own
            // maxima is a lower bound of the row's top-th largest (those maxima are that many
            // distinct entries). The candidates at or above it usually number about top.
            const float bound = score::kth_of_thread_maxima(max, p.top, pickV, pickI);
            if (threadIdx.x == 0) candN = 0;
            __syncthreads();
            for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) {
                const float x = __ldg(row + i);
                if (x >= bound) {
                    const int at = atomicAdd(&candN, 1);
                    if (at < PS_SCORE_CANDIDATES) {
                        candV[at] = x;
                        candI[at] = i;
                    }
                }
            }
            __syncthreads();
            const int n = candN;
            if (n <= PS_SCORE_CANDIDATES) {
                score::select_top(n, p.top, lse, out, pickV, pickI,
                                  [&](int j) { return score::Pick{candV[j], candI[j]}; });
            } else {
                // Too many ties at the bound (a row of few distinct values): the whole row, top times.
                score::select_top(p.vocab, p.top, lse, out, pickV, pickI,
                                  [&](int j) { return score::Pick{__ldg(row + j), j}; });
            }
        }
        __syncthreads();
    }
}
