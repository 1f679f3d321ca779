// Rotary position embedding, HF "rotate_half" convention, applied in place to q and k.
//
// One CTA per token; a work item is 8 consecutive rotary pairs of one head (two 16-byte loads of
// the head, two pairs of float4 loads of the tables), so q and k of a token are a few coalesced
// sweeps. The tables come from the host (any rope scaling), already in fp32.
// Included again by rope_append.cu (one translation unit): compile once.
#pragma once
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace rope {

__device__ __forceinline__ ps::bf16* head_ptr(ps::bf16* qRow, ps::bf16* kRow, int h, int numHeads, int headDim) {
    return h < numHeads ? qRow + h * headDim : kRow + (h - numHeads) * headDim;
}

__device__ __forceinline__ void load_table8(const float* p, float (&f)[8]) {
    const float4 a = __ldg(reinterpret_cast<const float4*>(p));
    const float4 b = __ldg(reinterpret_cast<const float4*>(p + 4));
    f[0] = a.x; f[1] = a.y; f[2] = a.z; f[3] = a.w;
    f[4] = b.x; f[5] = b.y; f[6] = b.z; f[7] = b.w;
}

}  // namespace rope

namespace rope {

// Token t of the launch, by the whole CTA.
__device__ __forceinline__ void token(const PsRopeParams& p, int t) {
    const int half = p.rotaryDim / 2;
    const int heads = p.numHeads + p.numKvHeads;
    ps::bf16* qRow = reinterpret_cast<ps::bf16*>(p.q) + (int64_t)t * p.qStride;  // [numHeads][headDim]
    ps::bf16* kRow = p.numKvHeads > 0 ? reinterpret_cast<ps::bf16*>(p.k) + (int64_t)t * p.kStride
                                      : nullptr;  // [numKvHeads][headDim]
    const int pos = p.positions[t];
    if (pos < 0 || pos >= p.maxPositions) {
        for (int i = threadIdx.x; i < heads * p.headDim; i += blockDim.x) {
            head_ptr(qRow, kRow, i / p.headDim, p.numHeads, p.headDim)[i % p.headDim] = ps::bf16_nan();
        }
        return;
    }
    const float* cosRow = p.cos + (int64_t)pos * half;  // [half]
    const float* sinRow = p.sin + (int64_t)pos * half;  // [half]
    const bool vec = half % ps::kVec == 0 && p.headDim % ps::kVec == 0 && ps::aligned16(qRow) &&
                     (kRow == nullptr || ps::aligned16(kRow)) && ps::aligned16(cosRow) && ps::aligned16(sinRow);
    if (vec) {
        const int groups = half / ps::kVec;
        for (int item = threadIdx.x; item < heads * groups; item += blockDim.x) {
            const int g = item % groups;
            ps::bf16* x1p = head_ptr(qRow, kRow, item / groups, p.numHeads, p.headDim) + g * ps::kVec;
            ps::bf16* x2p = x1p + half;
            float x1[8], x2[8], c[8], s[8], o1[8], o2[8];
            ps::unpack8(ps::load8_rw(x1p), x1);
            ps::unpack8(ps::load8_rw(x2p), x2);
            load_table8(cosRow + g * ps::kVec, c);
            load_table8(sinRow + g * ps::kVec, s);
#pragma unroll
            for (int j = 0; j < 8; ++j) {
                o1[j] = x1[j] * c[j] - x2[j] * s[j];
                o2[j] = x2[j] * c[j] + x1[j] * s[j];
            }
            ps::store8(x1p, ps::pack8(o1));
            ps::store8(x2p, ps::pack8(o2));
        }
    } else {
        for (int item = threadIdx.x; item < heads * half; item += blockDim.x) {
            const int i = item % half;
            ps::bf16* x1p = head_ptr(qRow, kRow, item / half, p.numHeads, p.headDim) + i;
            const float x1 = ps::to_f32(x1p[0]);
            const float x2 = ps::to_f32(x1p[half]);
            const float c = __ldg(cosRow + i);
            const float s = __ldg(sinRow + i);
            x1p[0] = ps::to_bf16(x1 * c - x2 * s);
            x1p[half] = ps::to_bf16(x2 * c + x1 * s);
        }
    }
}

}  // namespace rope

extern "C" __global__ void __launch_bounds__(1024) ps_rope(const PsRopeParams p) {
    ps::pdl_chain_start();
    for (int t = blockIdx.x; t < p.numTokens; t += gridDim.x) rope::token(p, t);
}
