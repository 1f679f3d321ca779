// Appends the step's K and V rows to one layer's paged cache (layout in paged_kv.cuh).
//
// The destination slot is derived here from the batch's CSR arrays (binary search of qoIndptr for
// the token's request, then its page list), so the host uploads nothing beyond the arrays the
// attention kernels read anyway. One CTA per token; a work item is 8 dims of one head of K or V.
// Included again by rope_append.cu (one translation unit): compile once.
#pragma once
#include "../include/paged_kv.cuh"
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace kv_append {

// Token t of the launch, by the whole CTA.
__device__ __forceinline__ void token(const PsKvAppendParams& p, int t) {
    ps::bf16* kCache = reinterpret_cast<ps::bf16*>(p.kCache);  // [numPages][numKvHeads][pageSize][headDim]
    ps::bf16* vCache = reinterpret_cast<ps::bf16*>(p.vCache);  // same layout
    const int rowWidth = p.numKvHeads * p.headDim;
    const int r = ps::request_of_row(p.qoIndptr, p.numRequests, t);
    const int pos = p.positions[t];
    const int page = ps::page_of(p.kvIndptr, p.kvPageIndices, r, pos, p.pageSize);
    if (page < 0 || page >= p.numPages) return;
    const int slot = pos % p.pageSize;
    const ps::bf16* kRow = reinterpret_cast<const ps::bf16*>(p.k) + (int64_t)t * p.kStride;  // [numKvHeads][headDim]
    const ps::bf16* vRow = reinterpret_cast<const ps::bf16*>(p.v) + (int64_t)t * p.vStride;  // [numKvHeads][headDim]
    const int64_t head0 = ps::kv_offset(page, 0, slot, p.numKvHeads, p.pageSize, p.headDim);
    const int64_t headStep = (int64_t)p.pageSize * p.headDim;  // between heads of one slot
    // The cache offsets are multiples of headDim, so headDim % 8 plus aligned bases is enough.
    const bool vec = p.headDim % ps::kVec == 0 && ps::aligned16(kRow) && ps::aligned16(vRow) &&
                     ps::aligned16(kCache) && ps::aligned16(vCache);
    if (vec) {
        const int perHead = p.headDim / ps::kVec;
        const int items = rowWidth / ps::kVec;
        for (int item = threadIdx.x; item < 2 * items; item += blockDim.x) {
            const bool isV = item >= items;
            const int e = (isV ? item - items : item) * ps::kVec;  // element in the row
            const int64_t dst = head0 + (e / p.headDim) * headStep + (item % perHead) * ps::kVec;
            ps::store8((isV ? vCache : kCache) + dst, ps::load8_rw((isV ? vRow : kRow) + e));
        }
    } else {
        for (int item = threadIdx.x; item < 2 * rowWidth; item += blockDim.x) {
            const bool isV = item >= rowWidth;
            const int e = isV ? item - rowWidth : item;
            const int64_t dst = head0 + (e / p.headDim) * headStep + e % p.headDim;
            (isV ? vCache : kCache)[dst] = (isV ? vRow : kRow)[e];
        }
    }
}

}  // namespace kv_append

extern "C" __global__ void __launch_bounds__(1024) ps_kv_append(const PsKvAppendParams p) {
    ps::pdl_chain_start();
    for (int t = blockIdx.x; t < p.numTokens; t += gridDim.x) kv_append::token(p, t);
}
