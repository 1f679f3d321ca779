// Chunked-prefill attention: FlashAttention-2-style tiles on tensor cores over the paged KV cache,
// several requests per launch, causal with the chunk at the end of its context, GQA, split-KV.
//
// A CTA computes 128 "packed rows" (query row i, group head g -> row i * group + g) of one request
// against one kv head: the group's heads share every K/V tile load. Each of the 4 warps owns 32
// rows (two m16 tiles), so every K/V fragment it pulls from shared memory feeds two MMAs (the
// fused kernel's 4-CTAs-per-SM shape takes 64 rows, one m16 tile per warp, and 32-key tiles at
// head dim 128: Cfg's MT and KEYS). K/V tiles of 64 keys are double-buffered with cp.async (the next tile loads while this one is computed),
// and the keys are walked from the causal diagonal down to the split's start, so only the first
// tiles pay for masking. Q is re-read from shared memory per k-step for head dim 128 (keeping it
// in registers would spill the 128 fp32 accumulators) and held in registers for 64.
//
// On Hopper (the fatbin's sm_90a pass) the 128-row tile at head dims 64 and 128 computes both
// products on warpgroup MMAs instead (wgmma.cuh, prefill_tile.cuh's tile_wgmma): the 4 warps are one warpgroup,
// Q/K/V sit in 128-byte-swizzled tiles read by descriptor, and the two 64-row halves are pipelined
// so one half's softmax overlaps the other half's products. Everything around the products (paged
// loads, masking, softmax, epilogue) is the same code. Given tensor maps (PsAttentionParams.
// kvTensorMaps) that tile takes its K/V by TMA instead of cp.async (tma.cuh; opt-in, measured no
// faster, see README.md).
//
// Work items (request, first packed row) come from the host planner (attention_plan.h), largest
// causal extent first so the long tiles start early; grid.y is the kv split. A split that ends
// before a row's position still sees that row's earlier keys; a row whose position precedes the
// split's start is left to the other splits and never written here. A sliding window moves the
// split's first key up to the first row's window start and masks keys before each row's own.
// Included by pod.cu as well as by the kernel list (pod.cu sorts first), hence once only.
#pragma once

#include "../include/online_softmax.cuh"
#include "../include/paged_kv.cuh"
#include "../include/podserve_common.cuh"
#include "attention_mma.cuh"
#include "attention_params.h"
#include "prefill_tile.cuh"
#include "tma.cuh"
#include "wgmma.cuh"

// Keys per K/V tile: 64 (FlashAttention-2's choice for head dim 128 on sm80/sm90). A build-time
// knob (32 or 64) only for benchmarking the trade of S registers against per-tile overhead.
#ifndef PS_ATTN_PREFILL_KEYS
#define PS_ATTN_PREFILL_KEYS 64
#endif

namespace ps {
namespace attn_prefill {

using attn::cp_async16;
using attn::smem_addr;
using attn::swz;

// MT: m16 tiles per warp (2: 128 rows per CTA, the standalone kernel and the fused kernel at 2
// CTAs per SM; 1: 64 rows, the fused kernel at 4 CTAs per SM, where 128 registers per thread
// cannot hold two tiles' accumulators). KEYS: keys per K/V tile (32 at 4 CTAs per SM keeps the
// CTA's shared memory under a quarter of the SM's).
template <int D, int MT = 2, int KEYS = PS_ATTN_PREFILL_KEYS>
struct Cfg {
    static constexpr int kMt = MT;
    static constexpr int kWarpRows = 16 * MT;
    static constexpr int kRows = (PS_ATTN_THREADS / 32) * kWarpRows;  // packed rows per CTA
    static constexpr int kKeys = KEYS;                  // keys per K/V tile
    static constexpr int kNb = kKeys / 8;               // 8-key blocks of S per m16 tile
    static constexpr int kChunks = D / 8;               // 16-byte chunks per row
    static constexpr int kQElems = kRows * D;
    static constexpr int kTile = kKeys * D;             // one K (or V) tile
    // Hopper: both products on warpgroup MMAs (wgmma.cuh) for the 128-row, 64-key tile at head
    // dims 64 and 128, in the sm_90a pass; otherwise, and for the 4-CTA shape, mma.sync. The
    // shape's shared memory (host-visible, so not tied to the pass) holds the TMA barriers too.
    static constexpr bool kHopperShape = MT == 2 && KEYS == 64 && (D == 64 || D == 128);
    static constexpr bool kWgmma = PS_WGMMA && kHopperShape;
    // Q, 2 stages of K and V, the cache rows (or pages, under TMA) of the next two tiles' keys
    // (int32 [2][kKeys]), and for the Hopper shape one TMA mbarrier per stage (uint64 [2]).
    static constexpr int kSmemBytes = (kQElems + 4 * kTile) * 2 + 2 * kKeys * 4 + (kHopperShape ? 16 : 0);
    static constexpr bool kQInRegs = D <= 64 && !kWgmma;
    static constexpr int kLoadRowStep = PS_ATTN_THREADS / kChunks;   // rows between a thread's chunks
    static constexpr int kKvPerThread = kKeys / kLoadRowStep;
    static constexpr int kQPerThread = kRows / kLoadRowStep;
    static_assert(kKeys % 16 == 0 && kKeys >= kLoadRowStep && kKeys <= PS_ATTN_THREADS, "K/V tile loads");

    // Element offset of (row, 16-byte chunk) in a shared tile of R rows: the wgmma layout or the
    // mma.sync one (attention_mma.cuh swz).
    template <int R>
    static __device__ __forceinline__ int off(int row, int chunk) {
        if constexpr (kWgmma) {
            return ps::wg::tile_off<R>(row, chunk);
        } else {
            return swz<D>(row, chunk);
        }
    }
    // Tile row of a warp's m16 tile mt, row r16 (0..15): mma.sync warps own 32 consecutive rows;
    // under wgmma, warp w owns rows 16w.. of each 64-row half (the warpgroup's fragment layout).
    static __device__ __forceinline__ int row_of(int warp, int mt, int r16) {
        if constexpr (kWgmma) {
            return mt * 64 + warp * 16 + r16;
        } else {
            return warp * kWarpRows + mt * 16 + r16;
        }
    }
};
static_assert(Cfg<128>::kRows == PS_ATTN_PREFILL_ROWS, "work items of the planner");

// The launcher reserves PS_ATTN_PREFILL_SMEM_*; a narrower tuning tile needs less.
static_assert(Cfg<64>::kSmemBytes <= PS_ATTN_PREFILL_SMEM_HD64, "prefill hd64 smem");
static_assert(Cfg<128>::kSmemBytes <= PS_ATTN_PREFILL_SMEM_HD128, "prefill hd128 smem");
static_assert(Cfg<16>::kSmemBytes <= PS_ATTN_PREFILL_SMEM_HD16, "prefill hd16 smem");
static_assert(Cfg<32>::kSmemBytes <= PS_ATTN_PREFILL_SMEM_HD32, "prefill hd32 smem");

// Per-CTA constants, computed once.
struct Tile {
    int r, m0, kvHead, split;
    int qoStart, qlen, kvLen, group;
    int rowEnd;   // packed rows m0 .. rowEnd-1 exist
    int posBase;  // kv position of query row 0 = kvLen - qlen
    int minPos;   // position of the CTA's first row
    int kBegin, kEnd;  // keys of this split that some row of the tile may see
};

// kWindow: p.window > 0, a separate entry point (ps_attention_prefill_window_hd*) so the window's
// registers and compares cost the unwindowed loop nothing: hd128 runs at the 255-register cap and
// one kernel holding both paths spilled three times as much.
template <int D, bool kWindow, int MT = 2, int KEYS = PS_ATTN_PREFILL_KEYS, bool kTma = false>
__device__ __forceinline__ void run(const PsAttentionParams& p, char* smem, unsigned bx, unsigned by) {
    using C = Cfg<D, MT, KEYS>;
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;

    Tile tl;
    const int item = bx / p.numKvHeads;
    tl.kvHead = bx % p.numKvHeads;
    tl.split = by;
    tl.r = p.workItems[2 * item];
    tl.m0 = p.workItems[2 * item + 1];
    tl.group = p.numQoHeads / p.numKvHeads;
    tl.qoStart = p.qoIndptr[tl.r];
    tl.qlen = p.qoIndptr[tl.r + 1] - tl.qoStart;
    tl.kvLen = kv_length(p.kvIndptr, p.kvLastPageLen, tl.r, p.pageSize);
    tl.rowEnd = min(tl.m0 + C::kRows, tl.qlen * tl.group);
    tl.posBase = tl.kvLen - tl.qlen;
    tl.minPos = tl.posBase + tl.m0 / tl.group;
    const int maxPos = tl.posBase + (tl.rowEnd - 1) / tl.group;
    // The first row's window starts earliest; keys before it are read by no row of the tile.
    const int windowStart = kWindow ? max(0, tl.minPos - p.window + 1) : 0;
    tl.kBegin = max(tl.split * p.kvChunkSize, windowStart);
    tl.kEnd = min(tl.split * p.kvChunkSize + p.kvChunkSize, maxPos + 1);
    if (tl.kBegin >= tl.kEnd) return;  // every row of the tile precedes this split or its window ends before it
    const bool isSplit = tl.kvLen > p.kvChunkSize;

    bf16* sQ = reinterpret_cast<bf16*>(smem);  // [kRows][D] swizzled; later the bf16 output staging
    bf16* sKV = sQ + C::kQElems;               // [2 stages][K,V][kKeys][D] swizzled
    const bf16* kCache = reinterpret_cast<const bf16*>(p.kCache);  // [pages][kvHeads][pageSize][D]
    const bf16* vCache = reinterpret_cast<const bf16*>(p.vCache);
    attn::PagedRows rows;
    rows.init(p.kvPageIndices + p.kvIndptr[tl.r], p.pageSize, tl.kvHead, p.numKvHeads);

    const int chunk = threadIdx.x % C::kChunks;
    const int row0 = threadIdx.x / C::kChunks;
    const int numTiles = (tl.kEnd - tl.kBegin + C::kKeys - 1) / C::kKeys;
    // Tile `it` of the walk starts at key kBegin + (numTiles - 1 - it) * kKeys (diagonal first).
    auto tileStart = [&](int it) { return tl.kBegin + (numTiles - 1 - it) * C::kKeys; };

    // Page lookups cost a dependent global load. Threads 0..63 each resolve one key of a tile two
    // steps ahead: the load starts at the top of an iteration (prefetch), its result lands in the
    // shared table after the tile's math (publish), and the copies are issued from the table, so
    // no warp waits on a page index between the two barriers.
    int32_t* sRows = reinterpret_cast<int32_t*>(sKV + 4 * C::kTile);  // [2][kKeys] cache row per key, -1 past kEnd
    // TMA loads (tma.cuh; the entry points choose kTma by use_tma): sRows then holds page ids
    // instead of cache rows, and sBars [2] are the stages' barriers.
    constexpr bool tma = kTma && C::kWgmma && !kWindow;
    const uint32_t sBars = smem_addr(sRows + 2 * C::kKeys);  // uint64 [2], 8-byte aligned
    const char* maps = static_cast<const char*>(p.kvTensorMaps);  // CUtensorMap [2] (128 bytes each): K, V
    if (tma && threadIdx.x == 0) {
        ps::tma::bar_init(sBars);
        ps::tma::bar_init(sBars + 8);
        ps::tma::bar_init_fence();
    }
    int pfPage = -1, pfSlot = 0;
    auto prefetch = [&](int it) {
        pfPage = -1;
        if (threadIdx.x < C::kKeys && it < numTiles) {
            const int pos = tileStart(it) + threadIdx.x;
            if (pos < tl.kEnd) {
                int pageIdx;
                rows.locate(pos, pageIdx, pfSlot);
                pfPage = __ldg(rows.pages + pageIdx);
            }
        }
    };
    auto publish = [&](int it) {
        if (threadIdx.x < C::kKeys)
            sRows[(it & 1) * C::kKeys + threadIdx.x] = pfPage < 0 ? -1 : tma ? pfPage : (int)rows.row_of(pfPage, pfSlot);
    };
    auto issue = [&](int it) {
        if constexpr (tma) {
            // Thread 0 arms the stage's barrier; thread b issues box b of (page, 64-column block, K|V)
            // for the pages holding keys below kEnd (at most 8 pages x 2 blocks x 2 = 32 boxes).
            // Predicates, not branches (tma.cuh says why).
            constexpr int kBlocks = D / 64;
            static_assert((C::kKeys / 8) * kBlocks * 2 <= 32, "boxes of the smallest page fit threads 0..31");
            const int pageSz = p.pageSize;
            const bool live = it < numTiles;
            const int pagesUsed = live ? (min(C::kKeys, tl.kEnd - tileStart(it)) + pageSz - 1) / pageSz : 0;
            const int boxes = pagesUsed * kBlocks * 2;
            const uint32_t bar = sBars + 8 * (it & 1);
            ps::tma::bar_expect(bar, (uint32_t)(boxes * pageSz * 128), live && threadIdx.x == 0);
            const int b = min((int)threadIdx.x, 31);
            const int kv = b & 1, block = (b >> 1) % kBlocks, pi = (b >> 1) / kBlocks;
            const uint32_t dst = smem_addr(sKV + (it & 1) * 2 * C::kTile + kv * C::kTile) + block * C::kKeys * 128 +
                                 pi * pageSz * 128;
            const int page = sRows[(it & 1) * C::kKeys + min(pi * pageSz, C::kKeys - 1)];
            ps::tma::load_box(dst, maps + kv * 128, block * 64, 0, tl.kvHead, page, bar, (int)threadIdx.x < boxes);
            attn::cp_async_commit();  // keeps the group count of the cp.async path (Q rides in group 0)
            return;
        }
        if (it < numTiles) {
            bf16* sK = sKV + (it & 1) * 2 * C::kTile;
            bf16* sV = sK + C::kTile;
            const int32_t* tRows = sRows + (it & 1) * C::kKeys;
#pragma unroll
            for (int i = 0; i < C::kKvPerThread; ++i) {
                const int key = row0 + i * C::kLoadRowStep;
                const int cacheRow = tRows[key];
                const bool valid = cacheRow >= 0;
                const size_t off = (size_t)(uint32_t)(valid ? cacheRow : 0) * D + chunk * 8;
                cp_async16(smem_addr(sK + C::template off<C::kKeys>(key, chunk)), kCache + off, valid);
                cp_async16(smem_addr(sV + C::template off<C::kKeys>(key, chunk)), vCache + off, valid);
            }
        }
        attn::cp_async_commit();
    };

    // Q rows past the request's rows are zero-filled; their results are never stored.
    {
        const bf16* q = reinterpret_cast<const bf16*>(p.q);
#pragma unroll 4
        for (int i = 0; i < C::kQPerThread; ++i) {
            const int row = row0 + i * C::kLoadRowStep;
            const int packed = tl.m0 + row;
            const bool valid = packed < tl.rowEnd;
            const int qi = packed / tl.group;
            const int head = tl.kvHead * tl.group + (packed - qi * tl.group);
            const bf16* src = q + (valid ? (int64_t)(tl.qoStart + qi) * p.qStride + (int64_t)head * D + chunk * 8 : 0);
            cp_async16(smem_addr(sQ + C::template off<C::kRows>(row, chunk)), src, valid);
        }
    }
    prefetch(0);
    publish(0);
    prefetch(1);
    publish(1);
    __syncthreads();
    issue(0);
    issue(1);

    const int warpRow0 = warp * C::kWarpRows;
    const int g = lane >> 2;
    // Last key each of this lane's rows (warpRow0 + mt*16 + h*8 + g) may see: its causal position,
    // capped by the split's end; and the first, where its window starts (0 without a window).
    // Padding rows borrow the last real row's position.
    int rowLimit[MT][2], rowFirst[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int packed = min(tl.m0 + C::row_of(warp, mt, h * 8 + g), tl.rowEnd - 1);
            const int pos = tl.posBase + packed / tl.group;
            rowLimit[mt][h] = min(pos, tl.kEnd - 1);
            rowFirst[mt][h] = kWindow ? pos - p.window + 1 : 0;
        }
    }
    // Tiles whose last key every row may see need no mask; the walk meets them after the diagonal.
    // Under a window, tiles starting before the last row's window start are masked too (the walk
    // ends on them).
    const int firstUnmasked = min(tl.minPos, tl.kEnd - 1) + 1 - (C::kKeys - 1);
    const int maskedBelow = kWindow ? maxPos - p.window + 1 : 0;

    float o[MT][D / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int db = 0; db < D / 8; ++db) o[mt][db][0] = o[mt][db][1] = o[mt][db][2] = o[mt][db][3] = 0.0f;
    float m[MT][2];  // raw-score row maxima
    float l[MT][2];  // lane's share of the row sums
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) m[mt][0] = m[mt][1] = -INFINITY, l[mt][0] = l[mt][1] = 0.0f;
    const float scaleLog2 = p.smScale * kLog2e;
    uint32_t qReg[MT][C::kQInRegs ? D / 16 : 1][4];

    for (int it = 0; it < numTiles; ++it) {
        attn::cp_async_wait<1>();
        if constexpr (tma) {
            ps::tma::bar_wait(sBars + 8 * (it & 1), (it >> 1) & 1);
            // The diagonal tile (walked first) may run past kEnd: its pages' later slots hold whatever
            // the cache held, and pages past the last were not loaded at all. P is 0 there, but 0 x NaN
            // is not, so those K and V lines are zeroed before the products read them.
            const int valid = tl.kEnd - tileStart(it);
            if (it == 0 && valid < C::kKeys) {
                bf16* sK = sKV;  // stage 0
                for (int i = threadIdx.x; i < (C::kKeys - valid) * C::kChunks * 2; i += PS_ATTN_THREADS) {
                    const int kv = i & 1, key = valid + (i >> 1) / C::kChunks, c = (i >> 1) % C::kChunks;
                    *reinterpret_cast<uint4*>(sK + kv * C::kTile + C::template off<C::kKeys>(key, c)) = make_uint4(0, 0, 0, 0);
                }
            }
        }
        if constexpr (C::kWgmma) ps::wg::fence_to_async();  // this thread's copies, visible to wgmma
        __syncthreads();
        if constexpr (C::kQInRegs) {
            if (it == 0) {
#pragma unroll
                for (int mt = 0; mt < MT; ++mt)
#pragma unroll
                    for (int ks = 0; ks < D / 16; ++ks)
                        attn::ldmatrix_x4(qReg[mt][ks], smem_addr(sQ + swz<D>(warpRow0 + mt * 16 + attn::ldm_row_a(lane),
                                                                              ks * 2 + attn::ldm_chunk_a(lane))));
            }
        }
        prefetch(it + 2);
        const bf16* sK = sKV + (it & 1) * 2 * C::kTile;
        const bf16* sV = sK + C::kTile;
        const int start = tileStart(it);
        float s[MT][C::kNb][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
            for (int nb = 0; nb < C::kNb; ++nb) s[mt][nb][0] = s[mt][nb][1] = s[mt][nb][2] = s[mt][nb][3] = 0.0f;
        const bool masked = start >= firstUnmasked || (kWindow && start < maskedBelow);
        if constexpr (C::kWgmma) {
            if (masked) {
                tile_wgmma<C, true, kWindow>(s, o, m, l, rowLimit, rowFirst, start, scaleLog2, sQ, sK, sV, lane);
            } else {
                tile_wgmma<C, false, kWindow>(s, o, m, l, rowLimit, rowFirst, start, scaleLog2, sQ, sK, sV, lane);
            }
        } else {
            qk<C>(s, sQ, sK, warpRow0, lane, qReg);
            if (masked) {
                softmax_pv<C, true, kWindow>(s, o, m, l, rowLimit, rowFirst, start, scaleLog2, sV, lane);
            } else {
                softmax_pv<C, false, kWindow>(s, o, m, l, rowLimit, rowFirst, start, scaleLog2, sV, lane);
            }
        }
        publish(it + 2);  // its table slot was last read by issue(it), two barriers ago
        __syncthreads();  // the stage and the table slot are complete for the tile after next
        issue(it + 2);
    }
    attn::cp_async_wait<0>();

#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            l[mt][h] += __shfl_xor_sync(0xffffffffu, l[mt][h], 1);
            l[mt][h] += __shfl_xor_sync(0xffffffffu, l[mt][h], 2);
        }
    }

    if (!isSplit) {
        // Stage bf16 rows in this warp's own Q rows (no other warp reads them), then store 16-byte
        // chunks: the group's heads of one query row are adjacent in out.
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const float inv = l[mt][h] > 0.0f ? 1.0f / l[mt][h] : 0.0f;
                const int row = C::row_of(warp, mt, h * 8 + g);
#pragma unroll
                for (int db = 0; db < D / 8; ++db) {
                    *reinterpret_cast<uint32_t*>(sQ + swz<D>(row, db) + 2 * (lane & 3)) =
                        attn::pack_bf16x2(o[mt][db][2 * h] * inv, o[mt][db][2 * h + 1] * inv);
                }
            }
        }
        __syncwarp();
        bf16* out = reinterpret_cast<bf16*>(p.out);
#pragma unroll 4
        for (int i = lane; i < C::kWarpRows * C::kChunks; i += 32) {
            const int local = i / C::kChunks;  // the warp's rows, m16 tile by m16 tile
            const int row = C::row_of(warp, local / 16, local % 16);
            const int c = i % C::kChunks;
            const int packed = tl.m0 + row;
            if (packed >= tl.rowEnd) continue;
            const int qi = packed / tl.group;
            const int head = tl.kvHead * tl.group + (packed - qi * tl.group);
            *reinterpret_cast<uint4*>(out + (int64_t)(tl.qoStart + qi) * p.outStride + (int64_t)head * D + c * 8) =
                *reinterpret_cast<const uint4*>(sQ + swz<D>(row, c));
        }
    } else {
        const int rowBase = tl.qoStart - p.qoIndptr[p.requestBegin];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int packed = tl.m0 + C::row_of(warp, mt, h * 8 + g);
                // No key of this split inside the row's causal window: the merge reads nothing here.
                if (packed >= tl.rowEnd || rowLimit[mt][h] < (kWindow ? max(tl.kBegin, rowFirst[mt][h]) : tl.kBegin)) continue;
                const int qi = packed / tl.group;
                const int head = tl.kvHead * tl.group + (packed - qi * tl.group);
                const int64_t base = ((int64_t)(rowBase + qi) * p.maxSplits + tl.split) * p.numQoHeads + head;
                const float inv = 1.0f / l[mt][h];
                float* dst = p.partialO + base * D + 2 * (lane & 3);
#pragma unroll
                for (int db = 0; db < D / 8; ++db) {
                    *reinterpret_cast<float2*>(dst + db * 8) =
                        make_float2(o[mt][db][2 * h] * inv, o[mt][db][2 * h + 1] * inv);
                }
                if ((lane & 3) == 0) p.partialLse[base] = m[mt][h] * scaleLog2 + log2f(l[mt][h]);
            }
        }
    }
}

// Whether split `by` of the 128-row Hopper tile loads K/V with TMA: the host gave tensor maps, the
// pages tile the 64-key tiles, and the split's first key (tiles start 64 keys apart from it) sits
// on a page boundary. A separate instantiation per answer (one loop holding both load paths costs
// registers), and separate entry points (ps_attention_prefill_tma_hd*, ps_pod_attention_tma_hd*):
// a kernel holding both instantiations spills more on its cp.async path too, and the default
// kernels must not pay for an opt-in path.
template <int D>
__device__ __forceinline__ bool use_tma(const PsAttentionParams& p, unsigned by) {
    if constexpr (Cfg<D>::kWgmma) {
        const int ps = p.pageSize;
        return p.kvTensorMaps != nullptr && ps >= 8 && ps <= Cfg<D>::kKeys && (ps & (ps - 1)) == 0 &&
               ((int)by * p.kvChunkSize) % ps == 0;
    } else {
        return false;
    }
}

// The unwindowed 128-row tile, on either load path (the _tma entry points).
template <int D>
__device__ __forceinline__ void run_tile(const PsAttentionParams& p, char* smem, unsigned bx, unsigned by) {
    if (use_tma<D>(p, by)) {
        run<D, false, 2, PS_ATTN_PREFILL_KEYS, true>(p, smem, bx, by);
    } else {
        run<D, false>(p, smem, bx, by);
    }
}

}  // namespace attn_prefill
}  // namespace ps

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_hd16(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run<16, false>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_window_hd16(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run<16, true>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_hd32(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run<32, false>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_window_hd32(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run<32, true>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_hd64(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run<64, false>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_window_hd64(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run<64, true>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_hd128(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run<128, false>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_window_hd128(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run<128, true>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

// The opt-in TMA-capable prefill (head dims 64 and 128, where the wgmma tile exists; the host picks
// it only when it passes kvTensorMaps).
extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_tma_hd64(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run_tile<64>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, 2) ps_attention_prefill_tma_hd128(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_prefill_smem[];
    ps::attn_prefill::run_tile<128>(p, ps_attn_prefill_smem, blockIdx.x, blockIdx.y);
}
