// Token embedding gather: one CTA per token copies its table row.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

extern "C" __global__ void __launch_bounds__(1024) ps_embedding(const PsEmbeddingParams p) {
    const ps::bf16* table = reinterpret_cast<const ps::bf16*>(p.table);  // [vocab][hidden]
    for (int t = blockIdx.x; t < p.numTokens; t += gridDim.x) {
        ps::bf16* out = reinterpret_cast<ps::bf16*>(p.out) + (int64_t)t * p.outStride;  // [hidden]
        const int id = p.tokenIds[t];
        if (id < 0 || id >= p.vocab) {
            ps::fill_nan_row(out, p.hidden);
        } else {
            ps::copy_row(out, table + (int64_t)id * p.hidden, p.hidden);
        }
    }
}
