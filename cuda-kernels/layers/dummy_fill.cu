// Dummy weights generated where they are used: a Llama-3-8B-shaped model is 8 billion bf16 values,
// minutes to make, convert and copy from the host, and a few milliseconds to draw on the device.
// The draw is DummyWeights' counter-based hash, so the values equal the CPU backend's rounded to
// bf16 and tests can compare the two backends on the same random model.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace dummy_fill {

// The SplitMix64 finaliser, on unsigned 64-bit values as Java's long arithmetic wraps.
__device__ __forceinline__ uint64_t split_mix(uint64_t x) {
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace dummy_fill

extern "C" __global__ void ps_dummy_fill(const PsDummyFillParams p) {
    ps::bf16* out = reinterpret_cast<ps::bf16*>(p.out);
    const uint64_t key = (uint64_t)p.key;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < p.count; i += stride) {
        const uint64_t z = dummy_fill::split_mix(key + (uint64_t)i * 0x9E3779B97F4A7C15ull);
        const int bits = (int)(z >> 40);
        // Exact: |bits - 2^23| < 2^24 converts without rounding, and the scale is a power of two.
        const float u = (float)(bits - (1 << 23)) * (1.0f / (1 << 23));
        // _rn intrinsics: the compiler must not contract these into an FMA, which rounds once.
        out[i] = ps::to_bf16(__fadd_rn(p.center, __fmul_rn(p.halfWidth, u)));
    }
}
