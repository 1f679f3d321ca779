// POD-Attention: the prefill and decode phases of a hybrid batch in ONE launch, co-scheduled on
// every SM so the tensor-bound prefill tiles and the bandwidth-bound decode tiles overlap instead
// of each leaving the other's resource idle (Kamath et al., ASPLOS 2025, section 4).
//
// The grid is 1-D, one physical CTA per logical CTA of either phase. A physical CTA does not know
// what it runs until it starts: thread 0 reads the SM it landed on (%smid), takes that SM's next
// ticket, maps the ticket to an operation by the policy (pod_params.h), and takes the next logical
// id of that operation from a global counter, falling back to the other operation when the first
// is used up; the pair is broadcast through shared memory. Every logical CTA therefore runs exactly
// once and no CTA idles, whatever order the hardware starts them in. The work itself is the
// standalone kernels' device functions (decode.cu, prefill.cu) called with the logical (x, y), so
// each logical CTA computes exactly what it computes in the serial launch.
//
// Co-residence, two shapes (the planner's ctasPerSm, attention_plan.h):
//  - 2 CTAs per SM (ps_pod_attention_hd*): dynamic shared memory is the larger of the two phases'
//    (102,400 B at head dim 128) and __launch_bounds__(128, 2) caps registers at 255, so two CTAs
//    fit on one SM (2 x 101 KB of the 228 KB, 2 x 128 x 255 of the 64K registers).
//  - 4 CTAs per SM (ps_pod4_attention_hd*): prefill tiles of 64 rows (one m16 tile per warp) and
//    32 keys, decode warps with one K/V tile in flight (head dim 128), 49,408 B and at most 128
//    registers per thread, so four CTAs fit (4 x 49.4 KB, 4 x 128 x 128). Twice the CTAs per SM let
//    two prefill CTAs (8 warps of MMAs) sit beside two decode CTAs, where the 2-CTA shape leaves one
//    prefill CTA alone with one decode CTA; the price is twice the K/V traffic per prefill FLOP.
// Either way the CTAs on an SM are a prefill beside decodes, or all of one kind, as the tickets
// fall. The per-SM ticket is what keeps the mix: a CTA arriving on an SM takes the next ticket of
// that SM, not the kind of the CTA that just left.
#include "../include/podserve_common.cuh"
#include "attention_params.h"
#include "decode.cu"   // ps::attn_decode::run (#pragma once: the kernel list includes it again)
#include "prefill.cu"  // ps::attn_prefill::run
#include "pod_params.h"

namespace ps {
namespace attn_pod {

constexpr int kPrefill = 0;
constexpr int kDecode = 1;

// K/V tiles in flight per decode warp: 2 here against 3 in the standalone decode. Alone on an SM a
// decode CTA with one tile ahead per warp (32 KB at head dim 128) still streams at full rate; beside
// a prefill CTA, fewer outstanding loads presumably queue less in front of the prefill's tile loads,
// which sit on its critical path (double-buffered). Measured, not profiled: H100, 144 points,
// 1.240x serial against 1.234x with 3, +1-3.5% at 35-50% prefill shares, no band worse by more than
// 0.5% (../../bench/results/pod-alignment-h100-2026-11-26.*). On the H200, 3 (the shared memory is
// already reserved: PS_POD_SMEM_HD128 is the 3-stage decode's) was 0.5% slower on 112 sweep points
// and 20 serving-sized ones, and the CTA timelines show why it cannot help: a decode CTA took as
// long with two tiles ahead per warp as with one (../../bench/results/pod-trace-h200-2026-11-29.*).
// -DPS_POD_DECODE_STAGES=N (KERNEL_DEFINES) builds another depth for such comparisons.
#ifndef PS_POD_DECODE_STAGES
#define PS_POD_DECODE_STAGES 2
#endif
constexpr int kDecodeStages = PS_POD_DECODE_STAGES;
static_assert(ps::attn_decode::Cfg<16, kDecodeStages>::kSmemBytes <= PS_POD_SMEM_HD16 &&
                  ps::attn_decode::Cfg<32, kDecodeStages>::kSmemBytes <= PS_POD_SMEM_HD32 &&
                  ps::attn_decode::Cfg<64, kDecodeStages>::kSmemBytes <= PS_POD_SMEM_HD64 &&
                  ps::attn_decode::Cfg<128, kDecodeStages>::kSmemBytes <= PS_POD_SMEM_HD128,
              "the fused decode's stages fit the shared memory the fused kernel is launched with");

// The 4-CTAs-per-SM shape (see the top of the file). Head dim 128 needs the short key tiles and the
// single decode stage to fit a quarter of the SM; smaller heads keep 64 keys and 2 stages.
template <int D>
struct Pod4 {
    static constexpr int kPrefillKeys = D >= 128 ? 32 : 64;
    static constexpr int kDecodeStages = D >= 128 ? 1 : 2;
    static constexpr int kSmemBytes = ps::attn_prefill::Cfg<D, 1, kPrefillKeys>::kSmemBytes >
                                              ps::attn_decode::Cfg<D, kDecodeStages>::kSmemBytes
                                          ? ps::attn_prefill::Cfg<D, 1, kPrefillKeys>::kSmemBytes
                                          : ps::attn_decode::Cfg<D, kDecodeStages>::kSmemBytes;
};
static_assert(Pod4<16>::kSmemBytes == PS_POD4_SMEM_HD16 && Pod4<32>::kSmemBytes == PS_POD4_SMEM_HD32 &&
                  Pod4<64>::kSmemBytes == PS_POD4_SMEM_HD64 && Pod4<128>::kSmemBytes == PS_POD4_SMEM_HD128,
              "pod_params.h's 4-CTA shared memory");
static_assert(ps::attn_prefill::Cfg<128, 1, 32>::kRows == PS_POD4_PREFILL_ROWS, "the planner's 4-CTA work items");
static_assert(4 * (PS_POD4_SMEM_HD128 + 1024) <= 228 * 1024, "four CTAs fit one SM");

__device__ __forceinline__ int sm_id() {
    int id;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
    return id;
}

// The operation a ticket asks for (before the fall-back).
__device__ __forceinline__ int op_of_ticket(const PsPodParams& p, int ticket, int sm) {
    const int P = p.prefillCtas, D = p.decodeCtas;
    if (P == 0) return kDecode;
    if (D == 0) return kPrefill;
    switch (p.policy) {
        case PS_POD_POLICY_FIFTY_FIFTY:
            return (ticket & 1) ? kDecode : kPrefill;
        case PS_POD_POLICY_STATIC:
            return sm < p.staticPrefillSms ? kPrefill : kDecode;
        default: {  // proportional: cycles of one prefill and floor(D/P) decodes, or the reverse
            if (P <= D) {
                const int cycle = 1 + D / P;
                return ticket % cycle == 0 ? kPrefill : kDecode;
            }
            const int cycle = P / D + 1;
            return ticket % cycle == cycle - 1 ? kDecode : kPrefill;
        }
    }
}

// Thread 0 only. Returns (op << 30) | logical id. Termination argument: a CTA that finds its first
// choice used up (counter >= count) tries the other; it cannot find both used up, because the
// first `count` increments of each counter went to distinct CTAs that kept them, which with this
// one would make prefillCtas + decodeCtas + 1 CTAs in a grid of prefillCtas + decodeCtas.
__device__ __forceinline__ int take_work(const PsPodParams& p) {
    // %smid may in principle exceed numSms - 1 (ids need not be dense); folding keeps it in range
    // and only mixes two SMs' tickets.
    const int sm = sm_id() % p.numSms;
    const int ticket = atomicAdd(p.counters + sm, 1);
    int op = op_of_ticket(p, ticket, sm);
    int id = atomicAdd(p.counters + p.numSms + op, 1);
    if (id >= (op == kPrefill ? p.prefillCtas : p.decodeCtas)) {
        op ^= 1;
        id = atomicAdd(p.counters + p.numSms + op, 1);
    }
    // Unreachable with counters that started at zero; a corrupted buffer makes the CTA idle
    // instead of running a tile that does not exist.
    if (id >= (op == kPrefill ? p.prefillCtas : p.decodeCtas)) return -1;
    return (op << 30) | id;
}

// Thread 0 only, after the CTA has taken its work. The CTA that completes the count is the last
// one of the launch: every other CTA has already taken its tickets (each did so before counting
// itself done, ordered by the fence), so it can zero all counters for the next launch. The next
// launch on the stream starts after this kernel ends, which makes the plain stores visible to it.
__device__ __forceinline__ void finish(const PsPodParams& p) {
    __threadfence();
    const int done = atomicAdd(p.counters + p.numSms + 2, 1);
    if (done == (int)gridDim.x - 1) {
        for (int i = 0; i < p.numSms + 3; ++i) p.counters[i] = 0;
        __threadfence();
    }
}

#ifdef PS_POD_TRACE
// Diagnostic builds only (-DPS_POD_TRACE; bench/pod_trace.py reads what pod_bench --trace dumps).
// CTA b of a launch, b < kTraceCtas, writes words [4b, 4b + 4): %globaltimer (ns) when it starts,
// the latest of its warps' finishing times, its SM, and (op << 30) | logical id. Not zeroed between
// launches: the reader clears it before the launch it traces.
constexpr int kTraceCtas = 1 << 16;
extern "C" {
__device__ unsigned long long ps_pod_trace[4 * kTraceCtas];  // [kTraceCtas][start, end, sm, work]
}

__device__ __forceinline__ unsigned long long global_ns() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}
#endif

// CPS: CTAs per SM, 2 or 4 (the entry point's shape).
template <int D, int CPS, bool TMA = false>
__device__ __forceinline__ void run(const PsPodParams& p, char* smem) {
    // The (op << 30) | id word from thread 0 travels in the dynamic buffer's first word, read by
    // every thread before the second barrier lets the tile's loads overwrite it. NOT a static
    // __shared__ variable: static shared memory is laid out first and moves the dynamic buffer off
    // offset 0, and with it there the same cp.async instructions of both phases moved twice the
    // bytes from L2 (H100, ncu l1tex__m_xbar2l1tex_read_bytes: 7.14 GB against 3.57 GB at C=1024
    // P=11264 B=30 L=16384) and the fused kernel was 10% slower on the sweep's mean
    // (../../bench/results/pod-alignment-h100-2026-11-26.*). The Makefile rejects static shared
    // memory in any attention entry point.
    int* sWork = reinterpret_cast<int*>(smem);
#ifdef PS_POD_TRACE
    const unsigned long long traceStart = global_ns();
#endif
    if (threadIdx.x == 0) *sWork = take_work(p);
    __syncthreads();
    const int work = *sWork;
    __syncthreads();
    const int op = work >> 30;
    const int id = work & ((1 << 30) - 1);
    if (work < 0) {
        if (threadIdx.x == 0) finish(p);
        return;
    }
    if (threadIdx.x == 0) {
        if (p.ctaLog) atomicAdd(p.ctaLog + (op == kPrefill ? id : p.prefillCtas + id), 1);
        // Counting done here, before the work, is safe (the ticket is taken) and lets the reset
        // overlap the work instead of trailing the last tile.
        finish(p);
    }
    const unsigned px = (unsigned)(id % p.prefillGridX), py = (unsigned)(id / p.prefillGridX);
    const unsigned dx = (unsigned)(id % p.decodeGridX), dy = (unsigned)(id / p.decodeGridX);
    if constexpr (CPS == 4) {
        if (op == kPrefill) {
            ps::attn_prefill::run<D, false, 1, Pod4<D>::kPrefillKeys>(p.prefill, smem, px, py);
        } else {
            ps::attn_decode::run_any<D, Pod4<D>::kDecodeStages>(p.decode, smem, dx, dy);
        }
    } else {
        if (op == kPrefill) {
            if constexpr (TMA) {
                ps::attn_prefill::run_tile<D>(p.prefill, smem, px, py);
            } else {
                ps::attn_prefill::run<D, false>(p.prefill, smem, px, py);
            }
        } else {
            ps::attn_decode::run_any<D, kDecodeStages>(p.decode, smem, dx, dy);
        }
    }
#ifdef PS_POD_TRACE
    // No barrier here (a warp may have left its tile early): each warp's lane 0 raises the end.
    if (blockIdx.x < kTraceCtas && (threadIdx.x & 31) == 0) {
        unsigned long long* t = ps_pod_trace + 4 * blockIdx.x;
        atomicMax(t + 1, global_ns());
        if (threadIdx.x == 0) {
            t[0] = traceStart;
            t[2] = (unsigned long long)sm_id();
            t[3] = (unsigned long long)work;
        }
    }
#endif
}

}  // namespace attn_pod
}  // namespace ps

// Both shapes at every head dim. 2 CTAs per SM: the 128-row prefill path needs the 255-register
// cap at head dim 128 (the standalone prefill uses the same bound). 4 CTAs per SM: 128 registers.
// TMA: the opt-in TMA-capable prefill, 2-CTA shape at head dims 64 and 128 (prefill.cu's _tma entry
// points say why these are separate kernels).
#define PS_POD_ENTRY(NAME, CPS, TMA, D)                                                                \
    extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, CPS) NAME##D(const PsPodParams p) {   \
        extern __shared__ __align__(16) char ps_attn_pod_smem[];                                      \
        ps::attn_pod::run<D, CPS, TMA>(p, ps_attn_pod_smem);                                           \
    }

PS_POD_ENTRY(ps_pod_attention_hd, 2, false, 16)
PS_POD_ENTRY(ps_pod_attention_hd, 2, false, 32)
PS_POD_ENTRY(ps_pod_attention_hd, 2, false, 64)
PS_POD_ENTRY(ps_pod_attention_hd, 2, false, 128)
PS_POD_ENTRY(ps_pod4_attention_hd, 4, false, 16)
PS_POD_ENTRY(ps_pod4_attention_hd, 4, false, 32)
PS_POD_ENTRY(ps_pod4_attention_hd, 4, false, 64)
PS_POD_ENTRY(ps_pod4_attention_hd, 4, false, 128)
PS_POD_ENTRY(ps_pod_attention_tma_hd, 2, true, 64)
PS_POD_ENTRY(ps_pod_attention_tma_hd, 2, true, 128)
