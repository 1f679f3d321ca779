// RoPE and the KV-cache append of one layer in one launch: a decode step runs this pair once per
// layer, and each alone is a few microseconds of launch and drain for a few kilobytes of work
// (batch 1 of Llama-3-8B: 4.2 + 3.8 us per layer in isolation). The CTA of a token rotates its q
// and k in place, waits for its own writes (__syncthreads orders the block's global writes for
// its threads), then copies the rotated k and v into the cache, exactly as ps_rope followed by
// ps_kv_append would.
#include "../include/paged_kv.cuh"
#include "../include/params.h"
#include "../include/podserve_common.cuh"
#include "rope.cu"
#include "kv_append.cu"

extern "C" __global__ void __launch_bounds__(1024) ps_rope_append(const PsRopeAppendParams p) {
    ps::pdl_chain_start();
    for (int t = blockIdx.x; t < p.rope.numTokens; t += gridDim.x) {
        rope::token(p.rope, t);
        __syncthreads();
        kv_append::token(p.append, t);
    }
}
