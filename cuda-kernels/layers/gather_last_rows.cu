// Packs the last query row of each sampled request into a contiguous [S][hidden] block, so the
// final norm and the LM head (the largest GEMM of a decode step) run on S rows instead of T.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

extern "C" __global__ void __launch_bounds__(1024) ps_gather_last_rows(const PsGatherLastRowsParams p) {
    ps::pdl_chain_start();
    const ps::bf16* src = reinterpret_cast<const ps::bf16*>(p.src);  // [T][srcStride]
    for (int s = blockIdx.x; s < p.numSampled; s += gridDim.x) {
        ps::bf16* dst = reinterpret_cast<ps::bf16*>(p.dst) + (int64_t)s * p.dstStride;  // [hidden]
        const int r = p.sampleRequests[s];
        if (r < 0 || r >= p.numRequests) {
            ps::fill_nan_row(dst, p.hidden);
        } else {
            const int row = p.qoIndptr[r + 1] - 1;
            ps::copy_row(dst, src + (int64_t)row * p.srcStride, p.hidden);
        }
    }
}
