// Greedy sampling on the GPU: the argmax of each fp32 logits row, so a greedy step copies S ints
// back instead of S x vocab floats. Ties go to the lowest id and NaN never wins, like the Java
// sampler (Sampler.argmax).
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace argmax {

struct Best {
    float v;
    int i;  // -1 while nothing (non-NaN) has been seen
};

// Each thread visits its columns in ascending order, so a later equal value never replaces an
// earlier one; NaN fails both tests.
__device__ __forceinline__ void consider(Best& b, float v, int i) {
    if (v > b.v || (b.i < 0 && v == v)) {
        b.v = v;
        b.i = i;
    }
}

// Across threads the order is no longer ascending, so ties compare ids explicitly.
__device__ __forceinline__ Best better(const Best& a, const Best& b) {
    if (b.i < 0) return a;
    if (a.i < 0) return b;
    if (b.v > a.v || (b.v == a.v && b.i < a.i)) return b;
    return a;
}

__device__ __forceinline__ Best warp_best(Best b) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        Best other;
        other.v = __shfl_xor_sync(0xffffffffu, b.v, o);
        other.i = __shfl_xor_sync(0xffffffffu, b.i, o);
        b = better(b, other);
    }
    return b;
}

__device__ __forceinline__ void consider4(Best& b, const float4& v, int i) {
    consider(b, v.x, i);
    consider(b, v.y, i + 1);
    consider(b, v.z, i + 2);
    consider(b, v.w, i + 3);
}

// Four independent 16-byte loads per thread in flight before the first compare: one CTA has to
// stream a whole row, so latency hiding inside the thread is what sets its speed.
__device__ __forceinline__ void scan_vectors(Best& b, const float* row, int n4) {
    const float4* r4 = reinterpret_cast<const float4*>(row);
    const int stride = blockDim.x;
    int j = threadIdx.x;
    for (; j + 3 * stride < n4; j += 4 * stride) {
        const float4 a = __ldg(r4 + j);
        const float4 c = __ldg(r4 + j + stride);
        const float4 d = __ldg(r4 + j + 2 * stride);
        const float4 e = __ldg(r4 + j + 3 * stride);
        consider4(b, a, 4 * j);
        consider4(b, c, 4 * (j + stride));
        consider4(b, d, 4 * (j + 2 * stride));
        consider4(b, e, 4 * (j + 3 * stride));
    }
    for (; j < n4; j += stride) consider4(b, __ldg(r4 + j), 4 * j);
}

}  // namespace argmax

extern "C" __global__ void __launch_bounds__(1024) ps_argmax(const PsArgmaxParams p) {
    __shared__ float bestV[32];
    __shared__ int bestI[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    for (int s = blockIdx.x; s < p.numRows; s += gridDim.x) {
        const float* row = p.logits + (int64_t)s * p.logitsStride;  // [vocab]
        argmax::Best b;
        b.v = -INFINITY;
        b.i = -1;
        int scalarFrom = 0;
        if (ps::aligned16(row)) {
            argmax::scan_vectors(b, row, p.vocab / 4);
            scalarFrom = p.vocab / 4 * 4;
        }
        for (int i = scalarFrom + threadIdx.x; i < p.vocab; i += blockDim.x) argmax::consider(b, __ldg(row + i), i);
        b = argmax::warp_best(b);
        if (lane == 0) {
            bestV[warp] = b.v;
            bestI[warp] = b.i;
        }
        __syncthreads();
        if (warp == 0) {
            argmax::Best w;
            w.v = lane < (int)(blockDim.x >> 5) ? bestV[lane] : -INFINITY;
            w.i = lane < (int)(blockDim.x >> 5) ? bestI[lane] : -1;
            w = argmax::warp_best(w);
            if (lane == 0) p.out[s] = w.i;
        }
        // The next row reuses bestV/bestI.
        __syncthreads();
    }
}
