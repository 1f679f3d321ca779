/*
 * Parameters of the standalone attention kernels (decode, prefill, split-KV merge).
 *
 * One plain-C struct, PsAttentionParams, passed BY VALUE as the only argument of every attention
 * entry point (cuLaunchKernel's kernelParams = { &params }). Same layout rules as
 * ../include/params.h: pointers first, then int64, then 4-byte fields; the size is asserted below
 * and a Java mirror must match it. One struct for all three kernels so the host fills it once per
 * phase and launches the attention kernel and then the merge with the same bytes.
 *
 * Buffers (bf16 = ps_bf16_t, raw bits; HND paged layout and CSR arrays as in ../include/paged_kv.cuh):
 *   q        [T][qStride]   row t holds numQoHeads x headDim; head h, dim d at h * headDim + d
 *   out      [T][outStride] same layout as q; rows of the launch's requests are written
 *   kCache   [numPages][numKvHeads][pageSize][headDim] of this layer
 *   vCache   same as kCache
 *   qoIndptr [R+1], kvIndptr [R+1], kvPageIndices [nnz], kvLastPageLen [R]: the whole step's arrays
 *   workItems   prefill only: [numWorkItems][2] int32 = (request, first packed row); see below
 *   partialO    [rows][maxSplits][numQoHeads][headDim] fp32, rows = query rows of the launch
 *               (row index = t - qoIndptr[requestBegin]); each split's output already divided by
 *               its own softmax sum
 *   partialLse  [rows][maxSplits][numQoHeads] fp32, log2-sum-exp2 of the split's scaled scores
 *               (base 2, as in ../include/online_softmax.cuh)
 *   partialO / partialLse may be NULL when no request of the launch is split (kvChunkSize >= every
 *   kv length of the launch).
 *   splitPlan   decode and merge only: int32 [2] {kvChunkSize, maxSplits} read from the device
 *               instead of the struct's fields, or NULL. A CUDA graph captures the struct's bytes
 *               once, yet the split rule changes with the contexts every step; so a captured decode
 *               is launched with grid.y = PS_ATTN_MAX_SPLITS, its CTAs at split >= maxSplits exit at
 *               once, the merge is always launched (it skips unsplit rows) unless mergeCounters
 *               is set, and the host rewrites the two ints with the step's other inputs.
 *   mergeCounters  decode only: NULL, or int32 [grid.x] zeroed once at allocation. With it the
 *               decode kernel merges split rows itself (the CTA that finishes a row's last split
 *               does it, decode.cu merge_if_last) and ps_attention_merge is not launched; each launch
 *               leaves the counters zero, so a CUDA graph can replay it. One launch at a time per array.
 *   kvTensorMaps  prefill only: NULL (cp.async loads), or the device address of two CUtensorMap,
 *               K then V, describing kCache / vCache as kv_tensor_maps.h builds them. The Hopper
 *               (sm_90a) prefill's _tma entry points (ps_attention_prefill_tma_hd64/128,
 *               ps_pod_attention_tma_hd64/128) then load K/V tiles with TMA whenever the pages tile
 *               their 64-key tiles (pageSize 8 .. 64); otherwise, on other GPUs, and in every other
 *               entry point, the maps are ignored. The maps must match the launch's caches,
 *               pageSize and headDim (a mismatch leaves the kernel waiting on its barriers).
 *
 * Which requests: requestBegin .. requestBegin + numRequests - 1 of the step's CSR arrays (the
 * prefill group or the decode group of a HybridBatch). Query row i of request r (0-based inside r,
 * qlen = qoIndptr[r+1] - qoIndptr[r]) sits at kv position kvLen(r) - qlen + i and attends to kv
 * positions 0 .. that position (causal, chunk at the end of the context).
 *
 * GQA: query head h reads kv head h / (numQoHeads / numKvHeads). numQoHeads must be a multiple of
 * numKvHeads. "Packed rows" of a request: row index m = i * group + g for query row i and head
 * g of the group (group = numQoHeads / numKvHeads), so one CTA of a kv head covers whole groups.
 *
 * Split-KV: kv positions [s * kvChunkSize, (s+1) * kvChunkSize) form split s. A request with
 * kvLen <= kvChunkSize is not split: its rows are written to out directly. A longer request's rows
 * go to partialO/partialLse and ps_attention_merge writes out. Any kvChunkSize >= 1 is exact; the
 * planner (attention_plan.h) picks multiples of 64, the prefill kernel's key tile.
 *
 * Alignment (checked by the host planner, not by the kernels): q, out, kCache, vCache 16-byte
 * aligned, qStride and outStride multiples of 8, headDim 16, 32, 64 or 128, pageSize >= 1 (powers of
 * two take a shift instead of a division).
 *
 * Sliding window (window = W > 0): the row at position p attends to keys max(0, p - W + 1) .. p.
 * Split s still covers the absolute positions [s * kvChunkSize, (s+1) * kvChunkSize); a CTA starts
 * at the first key its rows can see, so keys (pages, tiles) wholly outside the window are never
 * read, and splits wholly before it exit at once and leave no partials. The merge reads the splits
 * (p - W + 1) / kvChunkSize .. p / kvChunkSize of a row, each of which holds one of its keys.
 */
#ifndef PODSERVE_ATTENTION_PARAMS_H
#define PODSERVE_ATTENTION_PARAMS_H

#include <stdint.h>

#include "../include/params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct PsAttentionParams {
    const ps_bf16_t* q;              /* [T][qStride] */
    const ps_bf16_t* kCache;         /* [numPages][numKvHeads][pageSize][headDim] */
    const ps_bf16_t* vCache;         /* [numPages][numKvHeads][pageSize][headDim] */
    ps_bf16_t* out;                  /* [T][outStride] */
    const int32_t* qoIndptr;         /* [R+1] */
    const int32_t* kvIndptr;         /* [R+1] */
    const int32_t* kvPageIndices;    /* [kvIndptr[R]] */
    const int32_t* kvLastPageLen;    /* [R] */
    const int32_t* workItems;        /* prefill: [numWorkItems][2]; unused by decode and merge */
    float* partialO;                 /* [rows][maxSplits][numQoHeads][headDim], or NULL */
    float* partialLse;               /* [rows][maxSplits][numQoHeads], or NULL */
    const int32_t* splitPlan;        /* decode and merge: NULL, or int32 [2] = {kvChunkSize, maxSplits} on the
                                        device, overriding the two fields below; prefill: must be NULL */
    const void* kvTensorMaps;        /* prefill: NULL, or two CUtensorMap (64-byte aligned, device memory) over
                                        kCache then vCache (kv_tensor_maps.h), for the TMA loads of the
                                        Hopper prefill; decode and merge ignore it */
    int32_t* mergeCounters;          /* decode: NULL (split rows merged by ps_attention_merge), or int32 [gridDim.x]
                                        on the device, zero before the launch: split rows are merged by their
                                        last split's CTA, which leaves its counter zero again; others: NULL */
    int64_t qStride;                 /* elements between rows of q */
    int64_t outStride;               /* elements between rows of out */
    int32_t requestBegin;            /* first request of this launch */
    int32_t numRequests;             /* requests in this launch */
    int32_t numWorkItems;            /* prefill: entries of workItems */
    int32_t numQoHeads;
    int32_t numKvHeads;
    int32_t headDim;                 /* 16, 32, 64 or 128: selects the entry point */
    int32_t pageSize;
    int32_t kvChunkSize;             /* keys per split (planner: a multiple of 64) */
    int32_t maxSplits;               /* grid.y of decode/prefill; second dim of the partials */
    float smScale;                   /* softmax scale, usually 1/sqrt(headDim) */
    int32_t window;                  /* sliding window W (0 = none): the row at position p sees keys j > p - W */
} PsAttentionParams;

/*
 * Entry points (extern "C", one per head dim; block = PS_ATTN_THREADS threads; dynamic shared
 * memory as below, above 48 KB so the launcher first raises
 * CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES to it):
 *
 *   ps_attention_decode_hd16 / _hd32 / _hd64 / _hd128
 *       one query row per request. grid = (numRequests * numKvHeads * headChunks, maxSplits),
 *       headChunks = ceil(group / 16); x = (request * numKvHeads + kvHead) * headChunks + chunk.
 *   ps_attention_prefill_hd16 / _hd32 / _hd64 / _hd128, and ps_attention_prefill_window_hd* when
 *   window > 0 (same grid and shared memory)
 *       grid = (numWorkItems * numKvHeads, maxSplits); x = item * numKvHeads + kvHead. A work item
 *       (request r, first packed row m0) covers packed rows m0 .. m0 + 127 of r (PS_ATTN_PREFILL_ROWS).
 *   ps_attention_merge
 *       grid = (rows of the launch), block PS_ATTN_THREADS, no shared memory; launched after decode
 *       or prefill whenever some request of the launch was split (not after a decode given
 *       mergeCounters, which merges its split rows itself).
 */
#define PS_ATTN_THREADS 128
#define PS_ATTN_PREFILL_ROWS 128
#define PS_ATTN_DECODE_HEADS 16
#define PS_ATTN_MAX_SPLITS 16   /* the planner's cap on splits (attention_plan.h) */
#define PS_ATTN_DECODE_SMEM_HD16 12800
#define PS_ATTN_DECODE_SMEM_HD32 25600
#define PS_ATTN_DECODE_SMEM_HD64 51200
#define PS_ATTN_DECODE_SMEM_HD128 102400
#define PS_ATTN_PREFILL_SMEM_HD16 12800
#define PS_ATTN_PREFILL_SMEM_HD32 25088
#define PS_ATTN_PREFILL_SMEM_HD64 49792   /* + 16 bytes of TMA barriers, rounded to 128 */
#define PS_ATTN_PREFILL_SMEM_HD128 98944

#ifdef __cplusplus
}  /* extern "C" */

#ifdef __CUDACC__
/* The split rule in force: the device copy when the launch has one (see splitPlan). */
__device__ __forceinline__ int split_chunk(const PsAttentionParams& p) { return p.splitPlan ? p.splitPlan[0] : p.kvChunkSize; }
__device__ __forceinline__ int split_count(const PsAttentionParams& p) { return p.splitPlan ? p.splitPlan[1] : p.maxSplits; }
#endif

static_assert(sizeof(PsAttentionParams) == 176, "PsAttentionParams layout");
#endif

#endif /* PODSERVE_ATTENTION_PARAMS_H */
