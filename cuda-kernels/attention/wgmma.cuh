// Hopper warpgroup MMA (wgmma, sm_90a) building blocks for the prefill's tensor-core products.
//
// A warpgroup (the 4 warps of a 128-thread CTA) issues one m64nNk16 product: 64 rows of A times an
// N-column slice of B, accumulating in fp32 registers spread over the 128 threads exactly as four
// stacked mma.m16n8k16 C fragments (warp w holds rows 16w .. 16w + 15; register 4j + e of a thread is
// element e of n-block j), so the softmax code of the mma.sync path reads them unchanged. B always
// comes from shared memory through a 64-bit descriptor; A from shared memory (S = Q K^T) or from
// registers in the mma.sync A-fragment layout (O += P V, P straight from the softmax).
//
// Shared tiles for wgmma use the 128-byte swizzle: a tile of R rows and D columns (bf16) is stored
// as D/64 column blocks of [R][64]; row r of a block is one 128-byte line whose 16-byte chunk c sits
// at chunk c ^ (r & 7). Each tile starts on a 1024-byte boundary (the swizzle repeats every 8 lines).
//   - K-major operand (Q, K: the reduction dim is contiguous): 8-row groups 1024 bytes apart (SBO);
//     the k16 step s of a column block starts 32 s bytes into its lines.
//   - MN-major operand (V for P V: d is contiguous, keys are the reduction dim): 8-key groups 1024
//     bytes apart (SBO), 64-column blocks R x 128 bytes apart (LBO); k16 step s starts 2048 s bytes in.
// The copies that fill these tiles are cp.async (the generic proxy), so a thread fences them to the
// async proxy (fence_to_async) after they land and before the barrier that precedes the products.
#pragma once

#include <stdint.h>

// 1 where wgmma exists: the sm_90a device pass (the fatbin's sm_80 and portable compute_90 passes
// keep the mma.sync path). PS_PREFILL_NO_WGMMA forces the mma.sync path everywhere (benchmarks).
#if defined(__CUDA_ARCH_FEAT_SM90_ALL) && !defined(PS_PREFILL_NO_WGMMA)
#define PS_WGMMA 1
#else
#define PS_WGMMA 0
#endif

namespace ps {
namespace wg {

// Element offset of (row, 16-byte chunk) in an R-row tile of the layout above.
template <int R>
__device__ __forceinline__ int tile_off(int row, int chunk) {
    return (chunk >> 3) * R * 64 + row * 64 + (((chunk & 7) ^ (row & 7)) << 3);
}

// Descriptor of a 128-byte-swizzled operand at shared address addr (1024-aligned tile base plus a
// k-step offset); lbo and sbo in bytes.
__device__ __forceinline__ uint64_t desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)((lbo & 0x3FFFF) >> 4) << 16) |
           ((uint64_t)((sbo & 0x3FFFF) >> 4) << 32) | (1ull << 62);
}

#if PS_WGMMA
__device__ __forceinline__ void fence_to_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
// Orders the registers' ordinary writes (zeroing, rescaling) before the next products read them.
__device__ __forceinline__ void fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
// Until at most N of the committed groups are still running (groups complete in commit order).
template <int N>
__device__ __forceinline__ void wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }
#else
__device__ __forceinline__ void fence_to_async() {}
__device__ __forceinline__ void fence() {}
__device__ __forceinline__ void commit() {}
template <int N>
__device__ __forceinline__ void wait() {}
#endif
// Keeps the compiler from moving a register's uses across the asynchronous product that writes it.
__device__ __forceinline__ void pin(float& r) { asm volatile("" : "+f"(r)::"memory"); }
__device__ __forceinline__ void pin_u32(uint32_t& r) { asm volatile("" : "+r"(r)::"memory"); }

// d[64 x 64] += A[64 x 16] (K-major descriptor) . B[16 x 64] (K-major descriptor).
__device__ __forceinline__ void mma_ss_n64(float (&d)[32], uint64_t descA, uint64_t descB) {
#if PS_WGMMA
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, %32, %33, p, 1, 1, 0, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "l"(descA), "l"(descB), "r"(1));
#else
    __trap();  // never instantiated off sm_90a (Cfg::kWgmma)
#endif
}

// d[64 x 64] += A[64 x 16] (registers) . B[16 x 64] (MN-major descriptor).
__device__ __forceinline__ void mma_rs_n64(float (&d)[32], const uint32_t (&a)[4], uint64_t descB) {
#if PS_WGMMA
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "r"(1));
#else
    __trap();  // never instantiated off sm_90a (Cfg::kWgmma)
#endif
}

// d[64 x 128] += A[64 x 16] (registers) . B[16 x 128] (MN-major descriptor).
__device__ __forceinline__ void mma_rs_n128(float (&d)[64], const uint32_t (&a)[4], uint64_t descB) {
#if PS_WGMMA
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "r"(1));
#else
    __trap();  // never instantiated off sm_90a (Cfg::kWgmma)
#endif
}

}  // namespace wg
}  // namespace ps
