// SwiGLU activation: out = silu(gate) * up, from the fused gate_up projection output.
// grid (T, chunks of 8 * blockDim.x columns); both dimensions are grid-strided, so any grid works.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace silu_mul {

// g / (1 + e^-g): for very negative g, e^-g overflows to inf and the quotient is -0, the limit;
// for very positive g, e^-g underflows and the result is g. Accurate expf, not __expf: this kernel
// is bound by memory, so the extra instructions are free.
__device__ __forceinline__ float silu(float g) { return g / (1.0f + expf(-g)); }

}  // namespace silu_mul

extern "C" __global__ void __launch_bounds__(1024) ps_silu_mul(const PsSiluMulParams p) {
    ps::pdl_chain_start();
    const int span = ps::kVec * blockDim.x;  // columns per CTA per pass
    for (int t = blockIdx.x; t < p.numTokens; t += gridDim.x) {
        const ps::bf16* gate = reinterpret_cast<const ps::bf16*>(p.gateUp) + (int64_t)t * p.gateUpStride;  // [inter]
        const ps::bf16* up = gate + p.inter;                                                               // [inter]
        ps::bf16* out = reinterpret_cast<ps::bf16*>(p.out) + (int64_t)t * p.outStride;                     // [inter]
        const bool vec = p.inter % ps::kVec == 0 && ps::aligned16(gate) && ps::aligned16(out);
        for (int base = blockIdx.y * span; base < p.inter; base += gridDim.y * span) {
            if (vec) {
                const int i = base + threadIdx.x * ps::kVec;
                if (i < p.inter) {
                    float g[8], u[8], o[8];
                    ps::unpack8(ps::load8_rw(gate + i), g);
                    ps::unpack8(ps::load8_rw(up + i), u);
#pragma unroll
                    for (int j = 0; j < 8; ++j) o[j] = silu_mul::silu(g[j]) * u[j];
                    ps::store8(out + i, ps::pack8(o));
                }
            } else {
                const int end = min(base + span, p.inter);
                for (int i = base + threadIdx.x; i < end; i += blockDim.x) {
                    out[i] = ps::to_bf16(silu_mul::silu(ps::to_f32(gate[i])) * ps::to_f32(up[i]));
                }
            }
        }
    }
}
