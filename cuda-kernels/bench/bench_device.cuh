// Device buffers of the attention benchmarks (attention_bench.cu, pod_bench.cu): allocation and
// random bf16 contents.
#pragma once

#include <cuda_bf16.h>
#include <stddef.h>
#include <stdint.h>

#include <algorithm>

#include "podserve_common.cuh"

namespace bench {

// n elements of T (at least one, so an empty array still has an address to pass).
template <class T>
T* dalloc(size_t n) {
    T* p;
    PS_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)));
    return p;
}

// Uniform bf16 in [-1, 1) from a hash of the index: random, never zero-filled, cheap for gigabytes.
__global__ void fill_random(uint16_t* p, size_t n, uint64_t seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        const float f = (float)((z >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
        p[i] = __bfloat16_as_ushort(__float2bfloat16_rn(f));
    }
}

}  // namespace bench
