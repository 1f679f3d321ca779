// Temperature sampling on the GPU: the host sampler's inverse-CDF draw in id order (params.h,
// ps_draw), so a sampled step copies one int per row back instead of a 0.5 MB logits row, and the
// host does not spend a millisecond per row on exponentials.
//
// One CTA per draw. Three passes over the row (it stays in L2 between them):
//   1. the max over the unbanned logits, and whether any logit is NaN or +inf;
//   2. each warp sums the weights of its own contiguous stretch of ids;
//   3. the warp whose stretch holds uniform * total walks it in id order, 32 ids at a time, with a
//      warp prefix sum, and finds the first id whose running sum exceeds that target.
// Contiguous stretches keep the id order of the running sum; inside a stretch the lanes still read
// adjacent ids, so every load is coalesced.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace draw {

struct Spec {
    double inverseTemperature;
    double minP;
    int numBanned;
    int banned[PS_DRAW_MAX_BANNED];
};

__device__ __forceinline__ bool is_banned(const Spec& s, int i) {
    bool hit = false;
#pragma unroll
    for (int b = 0; b < PS_DRAW_MAX_BANNED; ++b) hit |= b < s.numBanned && s.banned[b] == i;
    return hit;
}

// The host's weight of id i (TruncatedDistribution: temper, then dropBelow), 0 for banned ids.
__device__ __forceinline__ double weight(const Spec& s, const float* row, int i, float max) {
    const float v = __ldg(row + i);
    if (v == -INFINITY || is_banned(s, i)) return 0.0;
    const double w = exp(((double)v - (double)max) * s.inverseTemperature);
    return w < s.minP ? 0.0 : w;
}

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ int warp_max_int(int v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Inclusive prefix sum across the warp's lanes, lane order.
__device__ __forceinline__ double warp_inclusive_scan(double v, int lane) {
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const double up = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += up;
    }
    return v;
}

}  // namespace draw

extern "C" __global__ void __launch_bounds__(1024) ps_draw(const PsDrawParams p) {
    __shared__ float warpMax[32];
    __shared__ int warpBad[32];
    __shared__ double warpMass[32];
    __shared__ int warpLast[32];
    // Set by warp 0 after pass 2: the owning warp (-1: none, rounding put the target past the
    // total), the mass before its stretch, the target, and the last id of positive weight.
    __shared__ int ownerWarp;
    __shared__ double ownerBase;
    __shared__ double target;
    __shared__ int lastPositive;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int numWarps = blockDim.x >> 5;
    for (int d = blockIdx.x; d < p.numDraws; d += gridDim.x) {
        const PsDrawRow* r = p.draws + d;
        draw::Spec s;
        s.inverseTemperature = r->inverseTemperature;
        s.minP = r->minP;
        s.numBanned = min(max(r->numBanned, 0), PS_DRAW_MAX_BANNED);
#pragma unroll
        for (int b = 0; b < PS_DRAW_MAX_BANNED; ++b) s.banned[b] = r->banned[b];
        const double uniform = r->uniform;
        const float* row = p.logits + (int64_t)r->row * p.logitsStride;  // [vocab]

        // Pass 1: max over the unbanned logits; NaN and +inf are checked on the raw row, as the
        // host does before it applies any mask.
        float m = -INFINITY;
        int bad = 0;
        for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) {
            const float v = __ldg(row + i);
            if (v != v || v == INFINITY) bad = 1;
            else if (v > m && !draw::is_banned(s, i)) m = v;
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
            bad |= __shfl_xor_sync(0xffffffffu, bad, o);
        }
        if (lane == 0) {
            warpMax[warp] = m;
            warpBad[warp] = bad;
        }
        __syncthreads();
        m = -INFINITY;
        bad = 0;
        for (int w = 0; w < numWarps; ++w) {
            m = fmaxf(m, warpMax[w]);
            bad |= warpBad[w];
        }
        if (bad || m == -INFINITY) {
            if (threadIdx.x == 0) p.out[d] = -1;
            __syncthreads();  // warpMax is rewritten by the next draw
            continue;
        }

        // Pass 2: warp w sums ids [begin, end), a stretch whose length is a multiple of 32.
        const int stretch = ((p.vocab + numWarps - 1) / numWarps + 31) / 32 * 32;
        const int begin = min(warp * stretch, p.vocab);
        const int end = min(begin + stretch, p.vocab);
        double mass = 0.0;
        int last = -1;
        for (int i = begin + lane; i < end; i += 32) {
            const double w = draw::weight(s, row, i, m);
            mass += w;
            if (w > 0.0) last = i;
        }
        mass = draw::warp_sum(mass);
        last = draw::warp_max_int(last);
        if (lane == 0) {
            warpMass[warp] = mass;
            warpLast[warp] = last;
        }
        __syncthreads();
        if (warp == 0) {
            const double own = lane < numWarps ? warpMass[lane] : 0.0;
            const double upTo = draw::warp_inclusive_scan(own, lane);
            const double total = __shfl_sync(0xffffffffu, upTo, 31);
            const double t = uniform * total;
            const unsigned past = __ballot_sync(0xffffffffu, lane < numWarps && own > 0.0 && t < upTo);
            const int lastAll = draw::warp_max_int(lane < numWarps ? warpLast[lane] : -1);
            if (lane == 0) {
                ownerWarp = past ? __ffs(past) - 1 : -1;
                target = t;
                lastPositive = lastAll;
            }
            if (past && lane == __ffs(past) - 1) ownerBase = upTo - own;
        }
        __syncthreads();

        // Pass 3: the owning warp walks its stretch in id order.
        const int owner = ownerWarp;
        if (owner < 0) {
            if (threadIdx.x == 0) p.out[d] = lastPositive;
        } else if (warp == owner) {
            double before = ownerBase;
            const double t = target;
            int token = -1;
            for (int base = begin; base < end && token < 0; base += 32) {
                const int i = base + lane;
                const double w = i < end ? draw::weight(s, row, i, m) : 0.0;
                const double upTo = before + draw::warp_inclusive_scan(w, lane);
                const unsigned hit = __ballot_sync(0xffffffffu, w > 0.0 && t < upTo);
                if (hit) token = base + __ffs(hit) - 1;
                before = __shfl_sync(0xffffffffu, upTo, 31);
            }
            // Summed in another order, the walk can end a hair short of the target: the stretch's
            // last positive id is then the host's answer too (it would be the next one's first
            // only if the target sat on that boundary to within rounding).
            if (lane == 0) p.out[d] = token >= 0 ? token : warpLast[owner];
        }
        __syncthreads();  // the shared slots are rewritten by the next draw
    }
}
