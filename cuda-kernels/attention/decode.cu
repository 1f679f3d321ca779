// Decode attention: one query row per request against its paged KV, split-KV, GQA-packed,
// on tensor cores.
//
// A CTA serves (request, kv head, chunk of up to 16 query heads of that kv head's group, kv split),
// so each K/V byte is read from memory once per group (GQA packing) and the scores of all its heads
// come out of the same MMAs. Groups of up to 8 heads take the keys as the MMA rows and the heads as
// 8 columns (key_rows_loop); larger ones put the heads on the 16 rows of an m16 tile. The MMAs are
// not free in a bandwidth-bound kernel: beside a prefill CTA in the fused kernel the decode warps
// wait on their MMA chains and the tensor pipe the two share, so the loop that spends half the MMAs
// on a small group is the faster one there (../../bench/results/pod-trace-h200-2026-11-29.*).
//
// The 4 warps stream disjoint 16-key tiles of the split (tile j goes to warp j % 4, so the CTA's
// reads stay close together in memory) with their own cp.async pipeline of kStages tiles and their
// own online-softmax state; nothing in the main loop waits on another warp. At the end the warps'
// states are merged through shared memory. A request that fits in one split writes bf16 output;
// otherwise the split writes its normalised fp32 output and base-2 log-sum-exp, which
// ps_attention_merge (merge.cu) combines, or, given mergeCounters, the CTA that finishes the
// row's last split (merge_if_last).
// Included by pod.cu as well as by the kernel list (pod.cu sorts first), hence once only.
#pragma once

#include "../include/online_softmax.cuh"
#include "../include/paged_kv.cuh"
#include "../include/podserve_common.cuh"
#include "attention_mma.cuh"
#include "attention_params.h"
#include "merge_head.cuh"

namespace ps {
namespace attn_decode {

using attn::cp_async16;
using attn::smem_addr;
using attn::swz;

// S: K/V tiles in flight per warp (3 standalone; the fused kernel runs S = 2, see pod.cu).
template <int D, int S = 3>
struct Cfg {
    static constexpr int kD = D;
    static constexpr int kWarps = PS_ATTN_THREADS / 32;
    static constexpr int kRows = PS_ATTN_DECODE_HEADS;   // query heads per CTA (the heads-as-rows loop's MMA rows)
    static constexpr int kKeys = 16;                     // keys per warp step: one P.V k-step
    static constexpr int kStages = S;                    // tiles in flight per warp
    static constexpr int kChunks = D / 8;                // 16-byte chunks per row
    static constexpr int kTile = kKeys * D;              // elements of one K (or V) tile
    static constexpr int kWarpElems = kStages * 2 * kTile;
    static constexpr int kQElems = kRows * D;
    static constexpr int kSmemBytes = (kQElems + kWarps * kWarpElems) * 2;
    static constexpr int kRowStep = 32 / kChunks;        // rows between one lane's chunks in a tile
    static constexpr int kRowsPerLane = kKeys / kRowStep;
    static constexpr int kMergeStride = D + 4;           // fp32 row stride of the merge scratch (bank spread)
    static constexpr int kMinBlocks = D <= 64 ? 4 : 2;
    // Independent accumulator chains of a tile's QK^T (its D/16 k-steps dealt round-robin, summed
    // after). Beside a prefill CTA a decode warp waits mostly on its own MMA chains and the tensor
    // pipe the prefill shares (ncu stall samples on the H200), not on its loads: two tiles ahead per
    // warp streamed no faster than one. Two chains instead of one made the fused kernel 0.7-1.0%
    // faster (four runs, 25-112 points), the standalone decode within noise; four, no better
    // (../../bench/results/pod-trace-h200-2026-11-29.summary.txt). PS_DECODE_QK_CHAINS overrides it.
#ifdef PS_DECODE_QK_CHAINS
    static_assert(PS_DECODE_QK_CHAINS >= 1, "at least one chain");
    static constexpr int kQkChains = PS_DECODE_QK_CHAINS < D / 16 ? PS_DECODE_QK_CHAINS : D / 16;
#else
    static constexpr int kQkChains = D / 16 >= 2 ? 2 : 1;
#endif
};

static_assert(Cfg<16>::kSmemBytes == PS_ATTN_DECODE_SMEM_HD16, "decode hd16 smem");
static_assert(Cfg<32>::kSmemBytes == PS_ATTN_DECODE_SMEM_HD32, "decode hd32 smem");

static_assert(Cfg<64>::kSmemBytes == PS_ATTN_DECODE_SMEM_HD64, "decode hd64 smem");
static_assert(Cfg<128>::kSmemBytes == PS_ATTN_DECODE_SMEM_HD128, "decode hd128 smem");

// The split-KV merge without a launch of its own: every split CTA of (request, kv head, head
// chunk) bx takes a ticket after writing its partials, and the one that takes the last ticket of
// the row's splits firstSplit .. lastSplit (exactly the CTAs that wrote some) merges the chunk's
// heads, then puts the counter back to zero for the next launch. A merge launch per layer cost a
// small decode step several microseconds of launch and drain for a few kilobytes; this costs the
// last CTA one more round of L2 reads. `scratch` is shared memory free for one int.
template <typename C>
__device__ __forceinline__ void merge_if_last(const PsAttentionParams& p, unsigned bx, int rowIdx, int t, int maxSplits,
                                              int firstSplit, int lastSplit, int headBase, int numHeads, float* scratch) {
    int* sLast = reinterpret_cast<int*>(scratch);
    __threadfence();  // this thread's partials are visible device-wide before the CTA's ticket
    __syncthreads();  // every thread has written and fenced; the scratch is no longer read
    if (threadIdx.x == 0) {
        int* counter = p.mergeCounters + bx;
        const bool last = atomicAdd(counter, 1) == lastSplit - firstSplit;
        if (last) *counter = 0;  // no other CTA of this launch touches it again
        *sLast = last;
    }
    __syncthreads();
    if (!*sLast) return;
    __threadfence();  // the other splits' partials, published before their tickets, are read after ours
    bf16* outRow = reinterpret_cast<bf16*>(p.out) + (int64_t)t * p.outStride;  // [numQoHeads][D]
    for (int i = threadIdx.x; i < numHeads * C::kChunks; i += PS_ATTN_THREADS) {
        attn_merge::head_chunk(p, rowIdx, maxSplits, headBase + i / C::kChunks, i % C::kChunks, firstSplit, lastSplit,
                               outRow);
    }
}

// The main loop for a CTA of at most 8 query heads (GQA groups up to 8) with the keys as the MMA
// rows: S^T = K Q^T is m16 (16 keys) x n8 (8 heads) and O^T += V^T P^T is m16 (16 dims) x n8, so a
// 16-key tile costs D/8 MMAs, where the heads-as-rows loop below spends D/4 on a 16-row tile that a
// group of 4 fills a quarter of. Beside a prefill CTA the decode warps wait mostly on their MMAs
// and the tensor pipe the prefill shares (ncu stall samples, H200), so halving them matters there.
// Lane (g, c) = (lane / 4, lane % 4) holds keys g and g + 8 of heads 2c and 2c + 1 in S^T, and
// dims 16i + g and 16i + g + 8 of those heads in O^T; P^T reaches the B operand through movmatrix
// (an 8 x 8 transpose in registers). Leaves the warp's state in the merge scratch exactly as the
// other loop does (heads 8-15 unwritten: the CTA has none).
template <typename C, typename Issue>
__device__ __forceinline__ void key_rows_loop(const bf16* sQ, const bf16* sWarp, Issue& issue, int myTiles, int kBegin,
                                              int kEnd, int warp, int lane, float scaleLog2, float* sO, float* sM,
                                              float* sL) {
    constexpr int D = C::kD;
    static_assert(D % 32 == 0, "Q^T fragments are loaded two k-steps at a time");
    const int g = lane >> 2;
    const int c = lane & 3;
    uint32_t qb[D / 16][2];  // B fragments of Q^T, [k-step][first / second 8 dims]: heads 0-7
#pragma unroll
    for (int ks = 0; ks < D / 16; ks += 2) {
        uint32_t r[4];
        attn::ldmatrix_x4(r, smem_addr(sQ + swz<D>(lane & 7, 2 * ks + (lane >> 3))));
        qb[ks][0] = r[0];
        qb[ks][1] = r[1];
        qb[ks + 1][0] = r[2];
        qb[ks + 1][1] = r[3];
    }
    // O^T, block i: (dim 16i + g, head 2c), (16i + g, 2c + 1), (16i + g + 8, 2c), (16i + g + 8, 2c + 1).
    float o[D / 16][4];
#pragma unroll
    for (int i = 0; i < D / 16; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY};  // raw score max of heads 2c and 2c + 1
    float l[2] = {0.0f, 0.0f};            // this lane's share of their 2^(s - m) sums

    for (int step = 0; step < myTiles; ++step) {
        issue(step + C::kStages - 1);
        attn::cp_async_wait<C::kStages - 1>();
        __syncwarp();
        const bf16* sK = sWarp + (step % C::kStages) * 2 * C::kTile;
        const bf16* sV = sK + C::kTile;
        const int tileStart = kBegin + (warp + step * C::kWarps) * C::kKeys;

        // S^T, k-step ks into chain ks % kQkChains, the chains summed after.
        float chain[C::kQkChains][4] = {};
#pragma unroll
        for (int ks = 0; ks < D / 16; ++ks) {
            uint32_t a[4];  // K rows (keys) 0-15 x dims 16ks .. 16ks + 15
            attn::ldmatrix_x4(a, smem_addr(sK + swz<D>(attn::ldm_row_a(lane), ks * 2 + attn::ldm_chunk_a(lane))));
            attn::mma_bf16(chain[ks % C::kQkChains], a, qb[ks][0], qb[ks][1]);
        }
        float s[4] = {chain[0][0], chain[0][1], chain[0][2], chain[0][3]};
#pragma unroll
        for (int k = 1; k < C::kQkChains; ++k)
#pragma unroll
            for (int e = 0; e < 4; ++e) s[e] += chain[k][e];
        if (tileStart + C::kKeys > kEnd) {
            if (tileStart + g >= kEnd) s[0] = s[1] = -INFINITY;
            if (tileStart + g + 8 >= kEnd) s[2] = s[3] = -INFINITY;
        }
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            float mx = fmaxf(s[h], s[2 + h]);  // a head's 16 keys: this lane's two, then the other g
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 8));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 16));
            const float mNew = fmaxf(m[h], mx);
            const float mScaled = mNew == -INFINITY ? 0.0f : mNew * scaleLog2;  // as in the loop below
            const float factor = fast_exp2(m[h] * scaleLog2 - mScaled);
            m[h] = mNew;
            s[h] = fast_exp2(fmaf(s[h], scaleLog2, -mScaled));
            s[2 + h] = fast_exp2(fmaf(s[2 + h], scaleLog2, -mScaled));
            l[h] = l[h] * factor + (s[h] + s[2 + h]);
#pragma unroll
            for (int i = 0; i < D / 16; ++i) {
                o[i][h] *= factor;
                o[i][2 + h] *= factor;
            }
        }
        // P^T as the B operand: keys 2c, 2c + 1 (and + 8) of head g.
        const uint32_t pb0 = attn::movmatrix_trans(attn::pack_bf16x2(s[0], s[1]));
        const uint32_t pb1 = attn::movmatrix_trans(attn::pack_bf16x2(s[2], s[3]));
#pragma unroll
        for (int i = 0; i < D / 16; ++i) {
            uint32_t a[4];  // V^T rows 16i .. 16i + 15 (dims) x the tile's 16 keys
            attn::ldmatrix_x4_trans(a,
                                    smem_addr(sV + swz<D>(attn::ldm_row_b(lane), i * 2 + attn::ldm_chunk_b(lane))));
            attn::mma_bf16(o[i], a, pb0, pb1);
        }
        __syncwarp();  // every lane is done with this stage before a later issue() refills it
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 4);
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 8);
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 16);
    }
    attn::cp_async_wait<0>();
    __syncthreads();
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float* row = sO + (warp * C::kRows + 2 * c + h) * C::kMergeStride;
        if (g == 0) {
            sM[warp * C::kRows + 2 * c + h] = m[h];
            sL[warp * C::kRows + 2 * c + h] = l[h];
        }
#pragma unroll
        for (int i = 0; i < D / 16; ++i) {
            row[16 * i + g] = o[i][h];
            row[16 * i + g + 8] = o[i][2 + h];
        }
    }
}

// kStandalone: the decode entry points' instance. It merges split rows itself when p.mergeCounters
// is set, and it waits for the kernel ahead of it (programmatic dependent launch) inside, after
// requesting the K/V tiles that kernel cannot be writing. The fused kernel's instance leaves both
// out (the merge code cost its 4-CTA shape registers; it is launched the ordinary way).
template <int D, int S = 3, bool kStandalone = false, bool kKeyRows = false>
__device__ __forceinline__ void run(const PsAttentionParams& p, char* smem, unsigned bx, unsigned by) {
    using C = Cfg<D, S>;
    // The merge below reuses the whole buffer (Q is in registers by then) as fp32 scratch
    // [warp][16][kMergeStride] followed by the warps' row maxima and sums (2 x warps x 16 fp32);
    // checked for every instance (the fused kernel's one-stage instance has little room to spare).
    static_assert(C::kWarps * C::kRows * (C::kMergeStride + 2) * 4 <= C::kSmemBytes, "merge scratch fits");
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int group = p.numQoHeads / p.numKvHeads;
    const int headChunks = (group + C::kRows - 1) / C::kRows;
    int x = bx;
    const int headChunk = x % headChunks;
    x /= headChunks;
    const int kvHead = x % p.numKvHeads;
    const int r = p.requestBegin + x / p.numKvHeads;
    const int split = by;
    const int kvChunk = split_chunk(p);
    const int maxSplits = split_count(p);
    if (split >= maxSplits) return;  // a graph's grid is sized for the most splits any step may take

    const int kvLen = kv_length(p.kvIndptr, p.kvLastPageLen, r, p.pageSize);
    // The one query row sits at kvLen - 1, so every key from the window's start on is visible and
    // the loop needs no window mask: the window only moves where the split's keys begin.
    const int windowStart = p.window > 0 ? max(0, kvLen - p.window) : 0;
    const int kBegin = max(split * kvChunk, windowStart);
    const int kEnd = min(split * kvChunk + kvChunk, kvLen);
    if (kBegin >= kEnd) return;  // no visible key in this split; the merge reads none from here
    const bool isSplit = kvLen > kvChunk;
    const int t = p.qoIndptr[r + 1] - 1;  // the request's single query row
    const int headBase = kvHead * group + headChunk * C::kRows;
    const int numHeads = min(C::kRows, group - headChunk * C::kRows);

    bf16* sQ = reinterpret_cast<bf16*>(smem);                     // [16][D] swizzled
    bf16* sWarp = sQ + C::kQElems + warp * C::kWarpElems;         // [kStages][K,V][16][D] swizzled
    const bf16* kCache = reinterpret_cast<const bf16*>(p.kCache); // [pages][kvHeads][pageSize][D]
    const bf16* vCache = reinterpret_cast<const bf16*>(p.vCache);

    attn::PagedRows rows;
    rows.init(p.kvPageIndices + p.kvIndptr[r], p.pageSize, kvHead, p.numKvHeads);

    const int numTiles = (kEnd - kBegin + C::kKeys - 1) / C::kKeys;
    const int myTiles = numTiles > warp ? (numTiles - warp + C::kWarps - 1) / C::kWarps : 0;
    const int chunk = lane % C::kChunks;
    const int row0 = lane / C::kChunks;

    // Step s of this warp is tile warp + 4s. Always commits a group (empty past the end) so the
    // wait counts below hold on every iteration.
    auto issue = [&](int step) {
        if (step < myTiles) {
            const int tileStart = kBegin + (warp + step * C::kWarps) * C::kKeys;
            // Lanes 0..15 each resolve one key's cache row; the others get it by shuffle.
            const int myPos = tileStart + (lane & 15);
            const uint32_t myRow = myPos < kEnd ? rows.row(myPos) : 0u;
            bf16* sK = sWarp + (step % C::kStages) * 2 * C::kTile;
            bf16* sV = sK + C::kTile;
#pragma unroll
            for (int i = 0; i < C::kRowsPerLane; ++i) {
                const int key = row0 + i * C::kRowStep;
                const uint32_t cacheRow = __shfl_sync(0xffffffffu, myRow, key);
                const bool valid = tileStart + key < kEnd;
                const size_t off = (size_t)cacheRow * D + chunk * 8;
                cp_async16(smem_addr(sK + swz<D>(key, chunk)), kCache + off, valid);
                cp_async16(smem_addr(sV + swz<D>(key, chunk)), vCache + off, valid);
            }
        }
        attn::cp_async_commit();
    };

    // Q rows beyond the group's heads are zero-filled: their scores are 0 and the merge never reads
    // their rows.
    const bf16* qRow = reinterpret_cast<const bf16*>(p.q) + (int64_t)t * p.qStride + (int64_t)headBase * D;
    auto copy_q = [&]() {
        for (int i = threadIdx.x; i < C::kRows * C::kChunks; i += PS_ATTN_THREADS) {
            const int qr = i / C::kChunks;
            const int qc = i % C::kChunks;
            const bool valid = qr < numHeads;
            cp_async16(smem_addr(sQ + swz<D>(qr, qc)), qRow + (valid ? qr * D + qc * 8 : 0), valid);
        }
    };
    // Everything read so far is the step's index arrays, uploaded before its first kernel. Under
    // programmatic dependent launch this CTA may be running beside RoPE-and-append, which writes q
    // and each request's newest key (position kvLen - 1); every older key is from earlier steps.
    // So a warp whose first tiles all end before the newest key requests them first, then waits,
    // and its K/V reads overlap the kernel ahead; the others wait first, as the fused kernel's
    // instance does (its launch is ordinary, so it never runs beside its predecessor).
    const int firstStagesEnd = kBegin + ((C::kStages - 2) * C::kWarps + warp + 1) * C::kKeys;  // end of the last one
    const bool prefetch = kStandalone && C::kStages >= 2 && (myTiles < C::kStages - 1 ? kEnd < kvLen : firstStagesEnd < kvLen);
    if (prefetch) {
#pragma unroll
        for (int s = 0; s < C::kStages - 1; ++s) issue(s);
        pdl_grid_dependency_wait();
        copy_q();
        attn::cp_async_commit();  // Q's own group, after the tiles': wait for everything once
        attn::cp_async_wait<0>();
    } else {
        if constexpr (kStandalone) pdl_grid_dependency_wait();
        copy_q();
#pragma unroll
        for (int s = 0; s < C::kStages - 1; ++s) issue(s);
        if constexpr (C::kStages >= 2) {
            attn::cp_async_wait<C::kStages - 2>();  // Q (first group) has landed; the tiles may still fly
        } else {
            attn::cp_async_commit();  // one stage: nothing issued yet, Q is a group of its own
            attn::cp_async_wait<0>();
        }
    }
    __syncthreads();

    const float scaleLog2 = p.smScale * kLog2e;
    // Each warp's state ends in the merge scratch, which overlays the whole buffer (every load has
    // landed by then): fp32 [warp][16 heads][kMergeStride], then the heads' maxima [warp][16] and
    // sums [warp][16].
    float* sO = reinterpret_cast<float*>(smem);
    float* sM = sO + C::kWarps * C::kRows * C::kMergeStride;
    float* sL = sM + C::kWarps * C::kRows;
    const int g = lane >> 2;
    if constexpr (kKeyRows) {
        key_rows_loop<C>(sQ, sWarp, issue, myTiles, kBegin, kEnd, warp, lane, scaleLog2, sO, sM, sL);
    } else {
        uint32_t qa[D / 16][4];  // A fragments of the 16 x D query tile
#pragma unroll
        for (int ks = 0; ks < D / 16; ++ks) {
            attn::ldmatrix_x4(qa[ks],
                              smem_addr(sQ + swz<D>(attn::ldm_row_a(lane), ks * 2 + attn::ldm_chunk_a(lane))));
        }

        float o[D / 8][4];  // 16 x D output accumulator, n-block nb holds dims nb*8 ..
#pragma unroll
        for (int nb = 0; nb < D / 8; ++nb) o[nb][0] = o[nb][1] = o[nb][2] = o[nb][3] = 0.0f;
        float m[2] = {-INFINITY, -INFINITY};  // raw score max of rows lane/4 and lane/4 + 8
        float l[2] = {0.0f, 0.0f};            // this lane's share of the rows' 2^(s - m) sums

        for (int step = 0; step < myTiles; ++step) {
            issue(step + C::kStages - 1);
            attn::cp_async_wait<C::kStages - 1>();
            __syncwarp();
            const bf16* sK = sWarp + (step % C::kStages) * 2 * C::kTile;
            const bf16* sV = sK + C::kTile;
            const int tileStart = kBegin + (warp + step * C::kWarps) * C::kKeys;

            // 16 rows x 16 keys, k-step ks accumulated into chain ks % kQkChains, the chains summed
            // after: a decode warp's tile is a latency chain (see kQkChains).
            float s[2][4] = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
            float sc[C::kQkChains > 1 ? C::kQkChains - 1 : 1][2][4] = {};  // chains 1 ..
#pragma unroll
            for (int ks = 0; ks < D / 16; ++ks) {
                uint32_t b[4];
                attn::ldmatrix_x4(b,
                                  smem_addr(sK + swz<D>(attn::ldm_row_b(lane), ks * 2 + attn::ldm_chunk_b(lane))));
                float(*acc)[4] = ks % C::kQkChains == 0 ? s : sc[ks % C::kQkChains - 1];
                attn::mma_bf16(acc[0], qa[ks], b[0], b[1]);
                attn::mma_bf16(acc[1], qa[ks], b[2], b[3]);
            }
#pragma unroll
            for (int c = 0; c < C::kQkChains - 1; ++c)
#pragma unroll
                for (int nb = 0; nb < 2; ++nb)
#pragma unroll
                    for (int e = 0; e < 4; ++e) s[nb][e] += sc[c][nb][e];
            if (tileStart + C::kKeys > kEnd) {
#pragma unroll
                for (int nb = 0; nb < 2; ++nb) {
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        if (tileStart + nb * 8 + 2 * (lane & 3) + (e & 1) >= kEnd) s[nb][e] = -INFINITY;
                    }
                }
            }
#pragma unroll
            for (int h = 0; h < 2; ++h) {
                float mx = fmaxf(fmaxf(s[0][2 * h], s[0][2 * h + 1]), fmaxf(s[1][2 * h], s[1][2 * h + 1]));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                const float mNew = fmaxf(m[h], mx);
                // A row with no finite score yet keeps everything at 0 instead of computing inf - inf.
                const float mScaled = mNew == -INFINITY ? 0.0f : mNew * scaleLog2;
                const float factor = fast_exp2(m[h] * scaleLog2 - mScaled);
                m[h] = mNew;
                float sum = 0.0f;
#pragma unroll
                for (int nb = 0; nb < 2; ++nb) {
#pragma unroll
                    for (int e = 2 * h; e < 2 * h + 2; ++e) {
                        s[nb][e] = fast_exp2(fmaf(s[nb][e], scaleLog2, -mScaled));
                        sum += s[nb][e];
                    }
                }
                l[h] = l[h] * factor + sum;
#pragma unroll
                for (int nb = 0; nb < D / 8; ++nb) {
                    o[nb][2 * h] *= factor;
                    o[nb][2 * h + 1] *= factor;
                }
            }
            uint32_t pa[4] = {attn::pack_bf16x2(s[0][0], s[0][1]), attn::pack_bf16x2(s[0][2], s[0][3]),
                              attn::pack_bf16x2(s[1][0], s[1][1]), attn::pack_bf16x2(s[1][2], s[1][3])};
#pragma unroll
            for (int dp = 0; dp < D / 16; ++dp) {
                uint32_t b[4];
                attn::ldmatrix_x4_trans(
                    b, smem_addr(sV + swz<D>(attn::ldm_row_a(lane), dp * 2 + attn::ldm_chunk_a(lane))));
                attn::mma_bf16(o[2 * dp], pa, b[0], b[1]);
                attn::mma_bf16(o[2 * dp + 1], pa, b[2], b[3]);
            }
            __syncwarp();  // every lane is done with this stage before a later issue() refills it
        }
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
            l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
        }

        attn::cp_async_wait<0>();
        __syncthreads();
        if ((lane & 3) == 0) {
            sM[warp * C::kRows + g] = m[0];
            sM[warp * C::kRows + g + 8] = m[1];
            sL[warp * C::kRows + g] = l[0];
            sL[warp * C::kRows + g + 8] = l[1];
        }
#pragma unroll
        for (int nb = 0; nb < D / 8; ++nb) {
            const int col = nb * 8 + 2 * (lane & 3);
            *reinterpret_cast<float2*>(sO + (warp * C::kRows + g) * C::kMergeStride + col) =
                make_float2(o[nb][0], o[nb][1]);
            *reinterpret_cast<float2*>(sO + (warp * C::kRows + g + 8) * C::kMergeStride + col) =
                make_float2(o[nb][2], o[nb][3]);
        }
    }
    __syncthreads();

    const int rowIdx = t - p.qoIndptr[p.requestBegin];
    for (int i = threadIdx.x; i < C::kRows * C::kChunks; i += PS_ATTN_THREADS) {
        const int row = i / C::kChunks;
        const int c = i % C::kChunks;
        if (row >= numHeads) continue;
        // Warp 0 always saw at least one key, so the maximum is finite.
        float mMax = -INFINITY;
#pragma unroll
        for (int w = 0; w < C::kWarps; ++w) mMax = fmaxf(mMax, sM[w * C::kRows + row]);
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        float sum = 0.0f;
#pragma unroll
        for (int w = 0; w < C::kWarps; ++w) {
            const float wt = fast_exp2((sM[w * C::kRows + row] - mMax) * scaleLog2);  // 0 for an idle warp
            sum += sL[w * C::kRows + row] * wt;
            const float* src = sO + (w * C::kRows + row) * C::kMergeStride + c * 8;
            const float4 lo = *reinterpret_cast<const float4*>(src);
            const float4 hi = *reinterpret_cast<const float4*>(src + 4);
            acc[0] += wt * lo.x; acc[1] += wt * lo.y; acc[2] += wt * lo.z; acc[3] += wt * lo.w;
            acc[4] += wt * hi.x; acc[5] += wt * hi.y; acc[6] += wt * hi.z; acc[7] += wt * hi.w;
        }
        const float inv = 1.0f / sum;
#pragma unroll
        for (int k = 0; k < 8; ++k) acc[k] *= inv;
        const int h = headBase + row;
        if (!isSplit) {
            bf16* dst = reinterpret_cast<bf16*>(p.out) + (int64_t)t * p.outStride + (int64_t)h * D + c * 8;
            store8(dst, pack8(acc));
        } else {
            const int64_t base = ((int64_t)rowIdx * maxSplits + split) * p.numQoHeads + h;
            float* dst = p.partialO + base * D + c * 8;
            *reinterpret_cast<float4*>(dst) = make_float4(acc[0], acc[1], acc[2], acc[3]);
            *reinterpret_cast<float4*>(dst + 4) = make_float4(acc[4], acc[5], acc[6], acc[7]);
            if (c == 0) p.partialLse[base] = mMax * scaleLog2 + log2f(sum);
        }
    }
    if constexpr (kStandalone) {
        if (isSplit && p.mergeCounters != nullptr) {
            merge_if_last<C>(p, bx, rowIdx, t, maxSplits, windowStart / kvChunk, (kvLen - 1) / kvChunk, headBase, numHeads, sM);
        }
    }
}

// The decode of one CTA, by its group size: at most 8 query heads per kv head (and D >= 32) take
// the keys-as-rows loop, larger groups the heads-as-rows one.
template <int D, int S = 3, bool kStandalone = false>
__device__ __forceinline__ void run_any(const PsAttentionParams& p, char* smem, unsigned bx, unsigned by) {
    if constexpr (D >= 32) {
        if (p.numQoHeads <= 8 * p.numKvHeads) {
            run<D, S, kStandalone, true>(p, smem, bx, by);
            return;
        }
    }
    run<D, S, kStandalone, false>(p, smem, bx, by);
}

}  // namespace attn_decode
}  // namespace ps

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, ps::attn_decode::Cfg<16>::kMinBlocks)
    ps_attention_decode_hd16(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_decode_smem[];
    ps::pdl_launch_dependents();  // o_proj's weight stream (ps_skinny_gemm) may start; run() waits
    ps::attn_decode::run_any<16, 3, true>(p, ps_attn_decode_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, ps::attn_decode::Cfg<32>::kMinBlocks)
    ps_attention_decode_hd32(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_decode_smem[];
    ps::pdl_launch_dependents();  // o_proj's weight stream (ps_skinny_gemm) may start; run() waits
    ps::attn_decode::run_any<32, 3, true>(p, ps_attn_decode_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, ps::attn_decode::Cfg<64>::kMinBlocks)
    ps_attention_decode_hd64(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_decode_smem[];
    ps::pdl_launch_dependents();  // o_proj's weight stream (ps_skinny_gemm) may start; run() waits
    ps::attn_decode::run_any<64, 3, true>(p, ps_attn_decode_smem, blockIdx.x, blockIdx.y);
}

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS, ps::attn_decode::Cfg<128>::kMinBlocks)
    ps_attention_decode_hd128(const PsAttentionParams p) {
    extern __shared__ __align__(16) char ps_attn_decode_smem[];
    ps::pdl_launch_dependents();  // o_proj's weight stream (ps_skinny_gemm) may start; run() waits
    ps::attn_decode::run_any<128, 3, true>(p, ps_attn_decode_smem, blockIdx.x, blockIdx.y);
}
