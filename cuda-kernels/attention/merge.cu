// Split-KV merge: combines the per-split normalised outputs and base-2 log-sum-exps that decode.cu
// and prefill.cu leave in partialO / partialLse into bf16 out.
//
// grid (rows of the launch, head groups): CTA (x, y) merges row x's heads
// y * ceil(numQoHeads / gridDim.y) onward; a thread owns 8 dims of one head (two float4 reads per
// split, one 16-byte store). gridDim.y = 1 is one CTA per row with every head. A row's merge is
// latency-bound (a few dependent loads per split), so spreading its heads over several CTAs keeps
// a small decode batch from waiting on one CTA per request: batch 1 of Llama-3-8B took 12 us per
// layer with one CTA, for 0.14 MB of partials. Only rows of split requests are touched; a row at kv position pos
// has partials for splits 0 .. pos / kvChunkSize (a causal row sees no keys of later splits), or
// from (pos - window + 1) / kvChunkSize on under a sliding window.
// out = sum_s 2^(lse_s - M) o_s / sum_s 2^(lse_s - M), M = max_s lse_s, so nothing overflows.
#include "../include/online_softmax.cuh"
#include "../include/paged_kv.cuh"
#include "../include/podserve_common.cuh"
#include "attention_params.h"

extern "C" __global__ void __launch_bounds__(PS_ATTN_THREADS) ps_attention_merge(const PsAttentionParams p) {
    ps::pdl_chain_start();  // o_proj may start streaming its weight (ps_skinny_gemm)
    const int32_t* qo = p.qoIndptr + p.requestBegin;  // this launch's [numRequests + 1] row bounds
    const int t = qo[0] + blockIdx.x;
    if (t >= qo[p.numRequests]) return;
    const int r = p.requestBegin + ps::request_of_row(qo, p.numRequests, t);
    const int kvLen = ps::kv_length(p.kvIndptr, p.kvLastPageLen, r, p.pageSize);
    const int kvChunk = split_chunk(p);
    const int maxSplits = split_count(p);
    if (kvLen <= kvChunk) return;  // written directly by the attention kernel
    const int qlen = p.qoIndptr[r + 1] - p.qoIndptr[r];
    const int pos = kvLen - qlen + (t - p.qoIndptr[r]);
    // Splits wholly before the row's window were never written.
    const int firstSplit = p.window > 0 ? max(0, pos - p.window + 1) / kvChunk : 0;
    const int lastSplit = pos / kvChunk;
    const int D = p.headDim;
    const int chunks = D / ps::kVec;
    const int64_t splitStride = (int64_t)p.numQoHeads;  // lse elements between splits of one head
    const int64_t rowBase = (int64_t)blockIdx.x * maxSplits * p.numQoHeads;
    ps::bf16* outRow = reinterpret_cast<ps::bf16*>(p.out) + (int64_t)t * p.outStride;  // [numQoHeads][D]
    const int headsPerCta = (p.numQoHeads + gridDim.y - 1) / gridDim.y;
    const int firstHead = blockIdx.y * headsPerCta;
    const int heads = min(headsPerCta, p.numQoHeads - firstHead);

    for (int i = threadIdx.x; i < heads * chunks; i += blockDim.x) {
        const int h = firstHead + i / chunks;
        const int c = i % chunks;
        const float* lse = p.partialLse + rowBase + h;  // [split] at stride splitStride
        float mMax = -INFINITY;
        // Unrolled so the loads of several splits are in flight at once: the merge is latency-bound.
#pragma unroll 4
        for (int s = firstSplit; s <= lastSplit; ++s) mMax = fmaxf(mMax, lse[s * splitStride]);
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        float sum = 0.0f;
#pragma unroll 4
        for (int s = firstSplit; s <= lastSplit; ++s) {
            const float w = ps::fast_exp2(lse[s * splitStride] - mMax);
            sum += w;
            const float* src = p.partialO + (rowBase + s * splitStride + h) * D + c * ps::kVec;
            const float4 lo = *reinterpret_cast<const float4*>(src);
            const float4 hi = *reinterpret_cast<const float4*>(src + 4);
            acc[0] += w * lo.x; acc[1] += w * lo.y; acc[2] += w * lo.z; acc[3] += w * lo.w;
            acc[4] += w * hi.x; acc[5] += w * hi.y; acc[6] += w * hi.z; acc[7] += w * hi.w;
        }
        const float inv = 1.0f / sum;
#pragma unroll
        for (int k = 0; k < 8; ++k) acc[k] *= inv;
        ps::store8(outRow + h * D + c * ps::kVec, ps::pack8(acc));
    }
}
