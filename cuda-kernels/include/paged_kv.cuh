// Paged KV-cache addressing: the one layout every kernel (append, prefill, decode, pod) shares.
//
// Per layer, K and V are two separate buffers, each
//     bf16 [numPages][numKvHeads][pageSize][headDim]          ("HND": head-major inside a page)
// so one (page, kv head) is a contiguous pageSize x headDim tile: an attention CTA that owns one
// KV head streams whole tiles with 16-byte loads, and a page holds pageSize tokens of every head.
//
// Request r of a step (HybridBatch, copied to the device as is):
//     qoIndptr[R+1]        query rows of r are qoIndptr[r] .. qoIndptr[r+1]-1 (token-major rows)
//     kvIndptr[R+1]        r's pages are kvPageIndices[kvIndptr[r] .. kvIndptr[r+1]-1], in order
//     kvPageIndices[nnz]   physical page ids, 0 .. numPages-1, in any order (pages are shuffled)
//     kvLastPageLen[R]     valid tokens in r's last page, 1 .. pageSize
//     positions[T]         absolute position of each query token inside its request
// Token p of request r lives at page kvPageIndices[kvIndptr[r] + p / pageSize], slot p % pageSize.
// r's context length is (kvIndptr[r+1] - kvIndptr[r] - 1) * pageSize + kvLastPageLen[r].
#pragma once

#include <stdint.h>

namespace ps {

// Element offset of (page, kvHead, slot, d = 0) inside one layer's K (or V) buffer. 64-bit: a
// cache of 2^17 pages x 8 heads x 16 slots x 128 dims already passes 2^31 elements.
__host__ __device__ __forceinline__ int64_t kv_offset(int64_t page, int kvHead, int slot, int numKvHeads,
                                                      int pageSize, int headDim) {
    return ((page * numKvHeads + kvHead) * pageSize + slot) * (int64_t)headDim;
}

// The request that owns query row t: the largest r with qoIndptr[r] <= t. Binary search, so it
// costs log2(R) dependent loads (qoIndptr is tiny and stays in L1/L2). Requests with no rows this
// step (equal neighbouring entries) are skipped by taking the largest such r.
__host__ __device__ __forceinline__ int request_of_row(const int32_t* qoIndptr, int numRequests, int t) {
    int lo = 0;
    int hi = numRequests - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (qoIndptr[mid] <= t) lo = mid; else hi = mid - 1;
    }
    return lo;
}

__host__ __device__ __forceinline__ int kv_length(const int32_t* kvIndptr, const int32_t* kvLastPageLen, int r,
                                                  int pageSize) {
    return (kvIndptr[r + 1] - kvIndptr[r] - 1) * pageSize + kvLastPageLen[r];
}

// Physical page holding position p of request r; -1 when p is past r's page list (a malformed
// batch: callers skip the access rather than touch another request's page).
__host__ __device__ __forceinline__ int page_of(const int32_t* kvIndptr, const int32_t* kvPageIndices, int r, int p,
                                                int pageSize) {
    int i = kvIndptr[r] + p / pageSize;
    return (p >= 0 && i < kvIndptr[r + 1]) ? kvPageIndices[i] : -1;
}

}  // namespace ps
