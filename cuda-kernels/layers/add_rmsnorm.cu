// Residual add fused with RMSNorm: one CTA per token, fp32 math.
//
// Fusing saves a full read and write of the residual stream per norm (two norms per layer). The
// norm uses the residual AFTER its bf16 rounding, the value the next layer will add to, so a fused
// and an unfused pipeline give the same bits.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace add_rmsnorm {

// 16-byte vectors each thread keeps in registers: 4 x 8 floats = 32 registers, enough for
// hidden <= 32 * blockDim.x without spilling (ptxas.log shows the count).
constexpr int kVecPerThread = 4;

// Row held in registers: one read of residual and x, one write of residual and out.
__device__ __forceinline__ void row_in_registers(const ps::bf16* x, ps::bf16* res, const ps::bf16* weight,
                                                 ps::bf16* out, int hidden, float eps, float* scratch) {
    const int nvec = hidden / ps::kVec;
    float v[kVecPerThread][ps::kVec];
    float ss = 0.0f;
#pragma unroll
    for (int k = 0; k < kVecPerThread; ++k) {
        const int i = threadIdx.x + k * blockDim.x;
        if (i < nvec) {
            ps::unpack8(ps::load8_rw(res + i * ps::kVec), v[k]);
            if (x != nullptr) {
                float xf[ps::kVec];
                ps::unpack8(ps::load8_rw(x + i * ps::kVec), xf);
#pragma unroll
                for (int j = 0; j < ps::kVec; ++j) v[k][j] += xf[j];
                const ps::Bf16x8 rounded = ps::pack8(v[k]);
                ps::store8(res + i * ps::kVec, rounded);
                ps::unpack8(rounded, v[k]);
            }
#pragma unroll
            for (int j = 0; j < ps::kVec; ++j) ss += v[k][j] * v[k][j];
        }
    }
    const float inv = rsqrtf(ps::block_sum(ss, scratch) / hidden + eps);
#pragma unroll
    for (int k = 0; k < kVecPerThread; ++k) {
        const int i = threadIdx.x + k * blockDim.x;
        if (i < nvec) {
            float w[ps::kVec];
            ps::unpack8(ps::load8(weight + i * ps::kVec), w);
            float o[ps::kVec];
#pragma unroll
            for (int j = 0; j < ps::kVec; ++j) o[j] = w[j] * (v[k][j] * inv);
            ps::store8(out + i * ps::kVec, ps::pack8(o));
        }
    }
}

// Any width or alignment: the first pass writes the new residual, the second re-reads it (from
// L1/L2) after the block-wide sum, whose barrier makes the other threads' writes visible.
__device__ __forceinline__ void row_two_pass(const ps::bf16* x, ps::bf16* res, const ps::bf16* weight, ps::bf16* out,
                                             int hidden, float eps, float* scratch) {
    float ss = 0.0f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float r = ps::to_f32(res[i]);
        if (x != nullptr) {
            const ps::bf16 rounded = ps::to_bf16(r + ps::to_f32(x[i]));
            res[i] = rounded;
            r = ps::to_f32(rounded);
        }
        ss += r * r;
    }
    const float inv = rsqrtf(ps::block_sum(ss, scratch) / hidden + eps);
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        out[i] = ps::to_bf16(ps::to_f32(weight[i]) * (ps::to_f32(res[i]) * inv));
    }
}

}  // namespace add_rmsnorm

extern "C" __global__ void __launch_bounds__(1024) ps_add_rmsnorm(const PsAddRmsNormParams p) {
    __shared__ float scratch[32];
    // The projection after the norm may start streaming its weight now (ps_skinny_gemm).
    ps::pdl_chain_start();
    const ps::bf16* weight = reinterpret_cast<const ps::bf16*>(p.weight);  // [hidden]
    for (int t = blockIdx.x; t < p.numTokens; t += gridDim.x) {
        const ps::bf16* x =
            p.x == nullptr ? nullptr : reinterpret_cast<const ps::bf16*>(p.x) + (int64_t)t * p.xStride;  // [hidden]
        ps::bf16* res = reinterpret_cast<ps::bf16*>(p.residual) + (int64_t)t * p.residualStride;       // [hidden]
        ps::bf16* out = reinterpret_cast<ps::bf16*>(p.out) + (int64_t)t * p.outStride;                 // [hidden]
        // Uniform across the block, so both paths' barriers are reached by every thread.
        const bool vec = p.hidden % ps::kVec == 0 && p.hidden / ps::kVec <= add_rmsnorm::kVecPerThread * (int)blockDim.x &&
                         ps::aligned16(res) && ps::aligned16(out) && ps::aligned16(weight) &&
                         (x == nullptr || ps::aligned16(x));
        if (vec) {
            add_rmsnorm::row_in_registers(x, res, weight, out, p.hidden, p.eps, scratch);
        } else {
            add_rmsnorm::row_two_pass(x, res, weight, out, p.hidden, p.eps, scratch);
        }
    }
}
