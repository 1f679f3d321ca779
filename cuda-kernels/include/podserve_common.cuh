// Helpers shared by every podserve kernel and by the native tests.
//
// All kernels are compiled as ONE translation unit (see ../Makefile), so everything here is
// `inline` or `static` inside namespace `ps`; a kernel file's own helpers go in a namespace named
// after the file for the same reason.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// Host-side check for runtime-API calls in test and tool code: a failed call is a broken test run,
// so it reports where and exits instead of trying to continue on a poisoned context.
#define PS_CUDA_CHECK(expr)                                                                    \
    do {                                                                                       \
        cudaError_t ps_err_ = (expr);                                                          \
        if (ps_err_ != cudaSuccess) {                                                          \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,               \
                    cudaGetErrorString(ps_err_));                                              \
            exit(2);                                                                           \
        }                                                                                      \
    } while (0)

namespace ps {

typedef __nv_bfloat16 bf16;

// Eight bf16 values in one 16-byte register group: the widest single load a thread can issue
// (LDG.128), which is what lets memory-bound kernels reach full bandwidth.
constexpr int kVec = 8;

struct alignas(16) Bf16x8 {
    __nv_bfloat162 h[4];
};

__device__ __forceinline__ float to_f32(bf16 v) { return __bfloat162float(v); }

// Round to nearest even, the rounding the CPU reference (and PyTorch's .to(bfloat16)) uses.
__device__ __forceinline__ bf16 to_bf16(float v) { return __float2bfloat16_rn(v); }

__device__ __forceinline__ bool aligned16(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

// Weights only: the non-coherent path, for data no kernel writes. It is outside the memory model,
// so it is not ordered by griddepcontrol.wait (the compiler may even move it above the wait) nor
// by a barrier after a write of the same launch: activations go through load8_rw.
__device__ __forceinline__ Bf16x8 load8(const bf16* p) {
    uint4 raw = __ldg(reinterpret_cast<const uint4*>(p));
    return *reinterpret_cast<Bf16x8*>(&raw);
}

// Activations: buffers this launch or an earlier kernel writes (the residual stream, q/k rotated in
// place, a GEMM's output). Read at L2, the point where every SM's writes meet, so a kernel started
// early by programmatic dependent launch sees its predecessor's output once its wait returns.
__device__ __forceinline__ Bf16x8 load8_rw(const bf16* p) {
    uint4 raw = __ldcg(reinterpret_cast<const uint4*>(p));
    return *reinterpret_cast<Bf16x8*>(&raw);
}

__device__ __forceinline__ void store8(bf16* p, const Bf16x8& v) {
    *reinterpret_cast<uint4*>(p) = *reinterpret_cast<const uint4*>(&v);
}

__device__ __forceinline__ void unpack8(const Bf16x8& v, float (&f)[8]) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        float2 p = __bfloat1622float2(v.h[i]);
        f[2 * i] = p.x;
        f[2 * i + 1] = p.y;
    }
}

__device__ __forceinline__ Bf16x8 pack8(const float (&f)[8]) {
    Bf16x8 v;
#pragma unroll
    for (int i = 0; i < 4; ++i) v.h[i] = __floats2bfloat162_rn(f[2 * i], f[2 * i + 1]);
    return v;
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ int warp_max(int v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the whole block, returned to every thread. blockDim.x must be a multiple of 32 (at most
// 1024). `scratch` is 32 floats of shared memory; it may be reused after this returns.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float total = lane < warps ? scratch[lane] : 0.0f;
    total = warp_sum(total);
    // Keeps a later reuse of `scratch` from overwriting a value another warp has not read yet.
    __syncthreads();
    return total;
}

// Programmatic dependent launch (sm_90+; no-ops below, and when the grid was launched without
// the programmatic-serialization attribute). A kernel that calls launch_dependents at its start lets
// the next kernel on the stream, if that one was launched with the attribute, start its CTAs while
// this one still runs; the next kernel must call grid_dependency_wait before it reads anything an
// earlier kernel of the step may still be writing, or writes anything an earlier kernel reads, and
// may only read data no running kernel writes before it. The wait returns once every earlier grid
// has completed and its writes are visible (to coherent loads: load8_rw, never load8 or __ldg).
//
// The chain of a decode step: every kernel of it that Kernel.launchDependent launches calls
// launch_dependents first and grid_dependency_wait before its first access to activations, so a
// kernel's launch and ramp overlap the tail of the one before it. Before the wait they read only
// weights (ps_skinny_gemm), the step's index arrays (uploaded before its first kernel) and, in the
// decode attention, K/V slots of earlier steps: that relies on the decode being launched right
// after RoPE-and-append, which writes only q and the slot at positions[t] = kvLen - 1 of each
// decode row (prefill rows of a hybrid step never write a page a decode row reads). Completion is
// transitive (a kernel completes only after its own wait returned), so a kernel started two
// launches early is still safe. Kernels launched the ordinary way (cuBLAS, the prefill and fused
// kernels) wait for everything before them, early triggers or not.
__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_grid_dependency_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

// The first statement of a kernel of the decode chain (above): the next launch may start, and
// nothing of this one touches memory before the previous launch has completed.
__device__ __forceinline__ void pdl_chain_start() {
    pdl_launch_dependents();
    pdl_grid_dependency_wait();
}

// A quiet NaN in bf16: kernels write it where their input is invalid (an id or position outside
// its table) so the fault shows up downstream instead of reading out of bounds or passing silently.
__device__ __forceinline__ bf16 bf16_nan() { return __ushort_as_bfloat16(0x7fc0); }

// The block copies one row of n bf16 values (16-byte accesses when both ends allow them).
__device__ __forceinline__ void copy_row(bf16* dst, const bf16* src, int n) {
    if (n % kVec == 0 && aligned16(dst) && aligned16(src)) {
        for (int v = threadIdx.x; v < n / kVec; v += blockDim.x) store8(dst + v * kVec, load8_rw(src + v * kVec));
    } else {
        for (int i = threadIdx.x; i < n; i += blockDim.x) dst[i] = src[i];
    }
}

__device__ __forceinline__ void fill_nan_row(bf16* dst, int n) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) dst[i] = bf16_nan();
}

}  // namespace ps
