/*
 * Parameters of the fused POD-Attention kernel (pod.cu): prefill and decode of one hybrid batch in
 * one launch, each CTA choosing at run time, per SM, which of the two it runs.
 *
 * One plain-C struct, PsPodParams, passed BY VALUE as the only argument of ps_pod_attention_hd*
 * (cuLaunchKernel's kernelParams = { &params }). Layout rules as in attention_params.h: the two
 * embedded PsAttentionParams (8-byte aligned, 176 bytes each) first, then pointers, then 4-byte
 * fields; the size is asserted below and the Java mirror must match it:
 *
 *   offset   0  PsAttentionParams prefill      exactly what the standalone prefill launch takes
 *   offset 176  PsAttentionParams decode       what the standalone decode launch takes, with
 *                                              mergeCounters NULL (the caller launches the merge)
 *   offset 352  int32_t* counters              [numSms + 3], see below
 *   offset 360  int32_t* ctaLog                NULL, or [prefillCtas + decodeCtas]
 *   offset 368  int32_t prefillCtas            logical prefill CTAs = prefillGridX * prefill.maxSplits
 *   offset 372  int32_t decodeCtas             logical decode CTAs  = decodeGridX * decode grid.y
 *   offset 376  int32_t prefillGridX           grid.x of the standalone prefill launch
 *   offset 380  int32_t decodeGridX            grid.x of the standalone decode launch
 *   offset 384  int32_t policy                 PS_POD_POLICY_* (auto is resolved by the host)
 *   offset 388  int32_t numSms                 SMs of the device (counters' length - 3)
 *   offset 392  int32_t staticPrefillSms       static policy: SMs with id < this prefer prefill
 *   offset 396  int32_t reserved               0
 *   size 400
 *
 * Logical CTAs. The fused grid is 1-D, prefillCtas + decodeCtas CTAs of PS_ATTN_THREADS threads.
 * Logical prefill CTA id runs exactly the standalone prefill CTA (x = id % prefillGridX,
 * y = id / prefillGridX), same for decode: the split index stays the slow one, as in the standalone
 * launch order, and the math per CTA is the same code, so outputs equal the serial kernels' bit for
 * bit. Split partials land in prefill.partialO/Lse and decode.partialO/Lse (two separate buffers);
 * the caller launches ps_attention_merge after the fused kernel for each phase that split, with
 * that phase's PsAttentionParams. A decode with a device-side split rule (decode.splitPlan) works
 * as in the standalone kernel: decodeCtas = decodeGridX * PS_ATTN_MAX_SPLITS, the surplus exits.
 *
 * counters: int32 [numSms + 3] in device memory owned by the caller (the arena), zeroed ONCE when
 * allocated: [0, numSms) per-SM ticket counters, [numSms] next prefill id, [numSms + 1] next decode
 * id, [numSms + 2] CTAs finished. The last CTA to finish sets all of them back to 0, so no memset
 * is needed per launch and the launch can be captured in a CUDA graph. Two fused launches that may
 * run at the same time (different streams) need different counter buffers.
 *
 * ctaLog (debug): when not NULL, every logical CTA adds 1 to ctaLog[id] (prefill) or
 * ctaLog[prefillCtas + id] (decode); a test zeroes it and checks that every entry is 1.
 *
 * Sliding windows (window > 0) are not supported by the fused kernel (its prefill path is the
 * unwindowed instance); the host planner sends such batches to the serial kernels.
 */
#ifndef PODSERVE_POD_PARAMS_H
#define PODSERVE_POD_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "attention_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SM-partitioning policies: how a CTA maps its SM's ticket (0, 1, 2, ... in arrival order) to an
 * operation. Whatever the policy, a CTA whose operation has no ids left takes the other's. */
#define PS_POD_POLICY_PROPORTIONAL 0 /* P <= D: 1 prefill then floor(D/P) decodes; else floor(P/D) prefills then 1 decode */
#define PS_POD_POLICY_FIFTY_FIFTY 1  /* even tickets prefill, odd decode */
#define PS_POD_POLICY_STATIC 2       /* SMs with id < staticPrefillSms prefill, the others decode */

typedef struct PsPodParams {
    PsAttentionParams prefill;  /* the prefill phase (requests, work items, split rule, partials) */
    PsAttentionParams decode;   /* the decode phase */
    int32_t* counters;          /* [numSms + 3], zeroed at allocation, reset by the kernel itself */
    int32_t* ctaLog;            /* NULL or [prefillCtas + decodeCtas] */
    int32_t prefillCtas;
    int32_t decodeCtas;
    int32_t prefillGridX;
    int32_t decodeGridX;
    int32_t policy;             /* PS_POD_POLICY_* */
    int32_t numSms;
    int32_t staticPrefillSms;
    int32_t reserved;
} PsPodParams;

/* Entry points, two co-residence shapes (pod.cu):
 *   ps_pod_attention_hd16 / _hd32 / _hd64 / _hd128: 2 CTAs per SM, prefill work items of
 *     PS_ATTN_PREFILL_ROWS (128) packed rows, dynamic shared memory PS_POD_SMEM_HD*;
 *   ps_pod4_attention_hd16 / _hd32 / _hd64 / _hd128: 4 CTAs per SM, prefill work items of
 *     PS_POD4_PREFILL_ROWS (64) packed rows, dynamic shared memory PS_POD4_SMEM_HD*.
 * Grid (prefillCtas + decodeCtas), block PS_ATTN_THREADS. The decode phase's plan is the same for
 * both; the prefill's work items must be cut at the entry point's row count. */
#define PS_POD_SMEM_HD16 (PS_ATTN_DECODE_SMEM_HD16 > PS_ATTN_PREFILL_SMEM_HD16 ? PS_ATTN_DECODE_SMEM_HD16 : PS_ATTN_PREFILL_SMEM_HD16)
#define PS_POD_SMEM_HD32 (PS_ATTN_DECODE_SMEM_HD32 > PS_ATTN_PREFILL_SMEM_HD32 ? PS_ATTN_DECODE_SMEM_HD32 : PS_ATTN_PREFILL_SMEM_HD32)
#define PS_POD_SMEM_HD64 (PS_ATTN_DECODE_SMEM_HD64 > PS_ATTN_PREFILL_SMEM_HD64 ? PS_ATTN_DECODE_SMEM_HD64 : PS_ATTN_PREFILL_SMEM_HD64)
#define PS_POD_SMEM_HD128 (PS_ATTN_DECODE_SMEM_HD128 > PS_ATTN_PREFILL_SMEM_HD128 ? PS_ATTN_DECODE_SMEM_HD128 : PS_ATTN_PREFILL_SMEM_HD128)
/* 4 CTAs per SM: the 64-row prefill tile (32-key K/V tiles at head dim 128, 64 below) is the larger
 * of the two phases at every head dim; checked against the kernels' own sizes in pod.cu. */
#define PS_POD4_PREFILL_ROWS 64
#define PS_POD4_SMEM_HD16 10752
#define PS_POD4_SMEM_HD32 20992
#define PS_POD4_SMEM_HD64 41472
#define PS_POD4_SMEM_HD128 49408

#ifdef __cplusplus
}  /* extern "C" */
static_assert(sizeof(PsPodParams) == 400, "PsPodParams layout");
static_assert(offsetof(PsPodParams, counters) == 352 && offsetof(PsPodParams, prefillCtas) == 368 &&
                  offsetof(PsPodParams, reserved) == 396,
              "PsPodParams offsets");
#endif

#endif /* PODSERVE_POD_PARAMS_H */
