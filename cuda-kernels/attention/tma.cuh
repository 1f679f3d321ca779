// Hopper tensor-memory-accelerator (TMA) loads of paged K/V tiles for the wgmma prefill (sm_90a).
//
// Why: with cp.async every thread computes addresses and issues 32 16-byte copies per 64-key tile,
// in the same warps that run the softmax; a prefill CTA alone on its SM (the fused kernel's usual
// lot, beside a decode CTA) then spends about a fifth of its time loading (pod_bench --modes half
// with the copies removed). A TMA copy moves a whole page-row box in one instruction, issued by one
// lane, and lands it already in the 128-byte swizzle wgmma reads (wgmma.cuh's tile layout).
//
// The tensor map (built on the host, kv_tensor_maps.h) views one layer's cache
// [numPages][numKvHeads][pageSize][headDim] bf16 as a 4-D tensor, innermost first:
// (headDim, pageSize, numKvHeads, numPages); one box is 64 columns x pageSize slots of one page
// and one kv head, i.e. pageSize lines of 128 bytes, written with the 128-byte swizzle. A 64-key
// tile is 64 / pageSize boxes per 64-column block, each landing pageSize lines further on; the
// swizzle phase follows the shared address, so boxes must start on 8-line (1024-byte) boundaries:
// pageSize 8 .. 64, and the dynamic shared memory must start 1024-aligned (it does: the kernels
// declare no static shared memory, static_smem_check.awk, which wgmma's descriptors rely on too).
//
// Completion: one mbarrier per K/V stage. Thread 0 arms it with the stage's byte count
// (arrive.expect_tx, issued before the copies: same warp, program order), threads 0 .. boxes-1
// issue one box each, the copies count the bytes down, and every thread waits on the phase parity
// of the stage's use (the n-th tile in a stage waits for parity n & 1).
#pragma once

#include <stdint.h>

#include "wgmma.cuh"

namespace ps {
namespace tma {

#if PS_WGMMA
__device__ __forceinline__ void bar_init(uint32_t bar) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;\n" ::"r"(bar) : "memory");
}
// Makes the initialised barriers visible to the copy engine before any copy names them.
__device__ __forceinline__ void bar_init_fence() { asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory"); }
// The one arrival of a stage's phase, announcing the bytes its copies will deliver; by the threads
// with `on` set. Every thread of the warpgroup runs it (the predicate is inside the asm): a C++
// branch around asm that touches memory is a divergent path to ptxas, which then serialises every
// wgmma of the kernel (C7520). The same holds for load_box.
__device__ __forceinline__ void bar_expect(uint32_t bar, uint32_t bytes, bool on) {
    asm volatile(
        "{\n.reg .pred on;\nsetp.ne.b32 on, %2, 0;\n@on mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n}\n" ::"r"(bar),
        "r"(bytes), "r"((int)on)
        : "memory");
}
// The spin stays inside the asm: a C++ loop around try_wait is a divergent path to the compiler,
// which then serialises every wgmma of the kernel (ptxas C7520).
__device__ __forceinline__ void bar_wait(uint32_t bar, uint32_t parity) {
    asm volatile(
        "{\n.reg .pred ready;\nTRY:\nmbarrier.try_wait.parity.shared::cta.b64 ready, [%0], %1;\n@!ready bra TRY;\n}\n" ::"r"(bar),
        "r"(parity)
        : "memory");
}
// One box of the 4-D map at coordinates (c0 innermost .. c3) into shared memory at dst, by the
// threads with `on` set (see bar_expect).
__device__ __forceinline__ void load_box(uint32_t dst, const void* map, int c0, int c1, int c2, int c3, uint32_t bar,
                                         bool on) {
    asm volatile(
        "{\n.reg .pred on;\nsetp.ne.b32 on, %7, 0;\n"
        "@on cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];\n}\n" ::"r"(dst),
        "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar), "r"((int)on)
        : "memory");
}
#else
// Off sm_90a the prefill never takes the TMA path (Cfg::kWgmma is false there).
__device__ __forceinline__ void bar_init(uint32_t) {}
__device__ __forceinline__ void bar_init_fence() {}
__device__ __forceinline__ void bar_expect(uint32_t, uint32_t, bool) {}
__device__ __forceinline__ void bar_wait(uint32_t, uint32_t) {}
__device__ __forceinline__ void load_box(uint32_t, const void*, int, int, int, int, uint32_t, bool) { __trap(); }
#endif

}  // namespace tma
}  // namespace ps
