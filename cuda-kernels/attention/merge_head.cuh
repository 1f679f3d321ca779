// One piece of a split row's merge: 8 dims of one head, combined over the row's splits from
// partialO / partialLse into bf16 out (the formula is in merge.cu). Both ps_attention_merge and the
// decode kernel's last split of a row (decode.cu, PsAttentionParams.mergeCounters) call this, so a
// row merged either way has the same bits.
#pragma once

#include "../include/online_softmax.cuh"
#include "../include/podserve_common.cuh"
#include "attention_params.h"

namespace ps {
namespace attn_merge {

// rowIdx: the row's index in the launch's partials; splits firstSplit .. lastSplit hold its keys;
// h, c: the head and its 16-byte chunk (dims 8c .. 8c + 7); outRow: the row of out ([numQoHeads][D]).
// The partials are read at L2 (__ldcg): in the decode kernel other CTAs of the same launch wrote
// them, which the non-coherent path would not be guaranteed to see.
__device__ __forceinline__ void head_chunk(const PsAttentionParams& p, int64_t rowIdx, int maxSplits, int h, int c,
                                           int firstSplit, int lastSplit, bf16* outRow) {
    const int D = p.headDim;
    const int64_t splitStride = (int64_t)p.numQoHeads;  // lse elements between splits of one head
    const int64_t rowBase = rowIdx * maxSplits * p.numQoHeads;
    const float* lse = p.partialLse + rowBase + h;  // [split] at stride splitStride
    float mMax = -INFINITY;
    // Unrolled so the loads of several splits are in flight at once: the merge is latency-bound.
#pragma unroll 4
    for (int s = firstSplit; s <= lastSplit; ++s) mMax = fmaxf(mMax, __ldcg(lse + s * splitStride));
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float sum = 0.0f;
#pragma unroll 4
    for (int s = firstSplit; s <= lastSplit; ++s) {
        const float w = fast_exp2(__ldcg(lse + s * splitStride) - mMax);
        sum += w;
        const float* src = p.partialO + (rowBase + s * splitStride + h) * D + c * kVec;
        const float4 lo = __ldcg(reinterpret_cast<const float4*>(src));
        const float4 hi = __ldcg(reinterpret_cast<const float4*>(src + 4));
        acc[0] += w * lo.x; acc[1] += w * lo.y; acc[2] += w * lo.z; acc[3] += w * lo.w;
        acc[4] += w * hi.x; acc[5] += w * hi.y; acc[6] += w * hi.z; acc[7] += w * hi.w;
    }
    const float inv = 1.0f / sum;
#pragma unroll
    for (int k = 0; k < 8; ++k) acc[k] *= inv;
    store8(outRow + h * D + c * kVec, pack8(acc));
}

}  // namespace attn_merge
}  // namespace ps
