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
#include "merge_head.cuh"

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
    const int chunks = p.headDim / ps::kVec;
    ps::bf16* outRow = reinterpret_cast<ps::bf16*>(p.out) + (int64_t)t * p.outStride;  // [numQoHeads][D]
    const int headsPerCta = (p.numQoHeads + gridDim.y - 1) / gridDim.y;
    const int firstHead = blockIdx.y * headsPerCta;
    const int heads = min(headsPerCta, p.numQoHeads - firstHead);
    for (int i = threadIdx.x; i < heads * chunks; i += blockDim.x) {
        ps::attn_merge::head_chunk(p, blockIdx.x, maxSplits, firstHead + i / chunks, i % chunks, firstSplit, lastSplit, outRow);
    }
}
