// A structured output's token mask applied to its logits row on the GPU, before the argmax and the
// draw read the row: the device then picks only tokens the output's format allows, and the row
// never travels to the host for it.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

// Thread i of a row handles logit i: the 32 threads of a warp read one mask word (a broadcast) and
// write only the entries it clears, which are contiguous for the warp, so the writes coalesce.
extern "C" __global__ void __launch_bounds__(1024) ps_token_mask(const PsTokenMaskParams p) {
    for (int k = blockIdx.x; k < p.numMasked; k += gridDim.x) {
        float* row = p.logits + (int64_t)p.rows[k] * p.logitsStride;  // [vocab]
        const uint32_t* mask = p.masks + (int64_t)k * p.maskWords;    // [maskWords]
        for (int t = threadIdx.x; t < p.vocab; t += blockDim.x) {
            if (((__ldg(mask + (t >> 5)) >> (t & 31)) & 1u) == 0) row[t] = -INFINITY;
        }
    }
}
