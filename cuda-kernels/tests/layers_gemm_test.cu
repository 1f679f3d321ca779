// Tests of ps_skinny_gemm against an fp64 reference from the same bf16 inputs, at awkward sizes:
// token counts on both sides of the 8-token tile, rows that do not fill the 16-row tile, k not a
// multiple of the 32-element chunk, strides wider than the rows, every flag. Outputs past n in a
// row's stride must stay poisoned (the reference wants NaN there).
//
// Tolerance: relative 1e-2 (one bf16 rounding) plus an absolute term scaled by the largest
// sum_k |x w| of the case, for outputs that cancel to nearly zero (fp32 accumulation in an order
// of the kernel's own).
#include <math.h>

#include <algorithm>

#include "harness.h"
#include "params.h"

using pst::DeviceBuffer;
using pst::fmt;

namespace {

struct GemmCase {
    int T, n, k;
    int64_t xStride, yStride;
    int flags;
};

double silu(double g) { return g / (1.0 + exp(-g)); }

void gemm_case(const GemmCase& c, pst::Rng& rng) {
    const bool silu_mul = c.flags & PS_SKINNY_SILU_MUL;
    const bool fp32 = c.flags & PS_SKINNY_FP32_OUT;
    const bool accumulate = c.flags & PS_SKINNY_ACCUMULATE;
    const int wRows = silu_mul ? 2 * c.n : c.n;
    std::vector<uint16_t> x = pst::random_bf16(rng, (size_t)c.T * c.xStride, -2, 2);  // [T][xStride]
    std::vector<uint16_t> w = pst::random_bf16(rng, (size_t)wRows * c.k, -1, 1);       // [wRows][k]
    // y's starting values (the bias when accumulating), [T][yStride]; poison where not accumulating.
    std::vector<uint16_t> y16 = pst::random_bf16(rng, (size_t)c.T * c.yStride, -4, 4);
    std::vector<float> y32(y16.size());
    for (size_t i = 0; i < y16.size(); ++i) y32[i] = pst::from_bf16(y16[i]);

    std::vector<double> want((size_t)c.T * c.yStride, NAN);
    double scale = 0;  // largest sum_k |x w|
    for (int t = 0; t < c.T; ++t) {
        for (int r = 0; r < c.n; ++r) {
            double dot[2] = {0, 0}, mag = 0;
            for (int m = 0; m < (silu_mul ? 2 : 1); ++m) {
                const uint16_t* wr = &w[(size_t)(r + m * c.n) * c.k];
                for (int i = 0; i < c.k; ++i) {
                    const double p = (double)pst::from_bf16(x[(size_t)t * c.xStride + i]) * pst::from_bf16(wr[i]);
                    dot[m] += p;
                    mag += fabs(p);
                }
            }
            scale = std::max(scale, mag);
            const size_t at = (size_t)t * c.yStride + r;
            if (silu_mul) {
                const double g = pst::from_bf16(pst::to_bf16((float)dot[0]));
                const double u = pst::from_bf16(pst::to_bf16((float)dot[1]));
                want[at] = silu(g) * u;
            } else {
                want[at] = dot[0] + (accumulate ? y32[at] : 0.0);
            }
        }
    }

    PsSkinnyGemmParams p = {};
    DeviceBuffer<uint16_t> dX(x), dW(w);
    p.x = dX.get();
    p.w = dW.get();
    p.xStride = c.xStride;
    p.yStride = c.yStride;
    p.numTokens = c.T;
    p.n = c.n;
    p.k = c.k;
    p.flags = c.flags;
    const std::string name = fmt("skinny_gemm T=%d n=%d k=%d strides=%lld/%lld flags=%d", c.T, c.n, c.k,
                                 (long long)c.xStride, (long long)c.yStride, c.flags);
    const size_t smem = PS_SKINNY_SMEM_BYTES(c.T, silu_mul);
    const char* entry = silu_mul ? (c.T <= 8 ? "ps_skinny_gemm_silu_t8" : "ps_skinny_gemm_silu_t16")
                                 : (c.T <= 8 ? "ps_skinny_gemm_t8" : "ps_skinny_gemm_t16");
    const int rows = PS_SKINNY_ROWS_PER_CTA(silu_mul);
    const dim3 grid((c.n + rows - 1) / rows), block(PS_SKINNY_THREADS);
    const double atol = 2e-5 * scale;
    if (fp32) {
        DeviceBuffer<float> dY(y32.size());
        if (accumulate) {
            dY.upload(y32);
        } else {
            dY.poison();
        }
        if (accumulate) {  // the positions past n keep their values: the reference wants them too
            for (int t = 0; t < c.T; ++t)
                for (int64_t r = c.n; r < c.yStride; ++r) want[t * c.yStride + r] = y32[t * c.yStride + r];
        }
        p.y = dY.get();
        pst::launch(entry, grid, block, p, smem);
        pst::check_close(name, dY.download(), want, 1e-5, atol);
    } else {
        DeviceBuffer<uint16_t> dY(y16.size());
        if (accumulate) {
            dY.upload(y16);
            for (int t = 0; t < c.T; ++t)
                for (int64_t r = c.n; r < c.yStride; ++r) want[t * c.yStride + r] = y32[t * c.yStride + r];
        } else {
            dY.poison();
        }
        p.y = dY.get();
        pst::launch(entry, grid, block, p, smem);
        pst::check_close_bf16(name, dY.download(), want, 1e-2, atol);
    }
}

}  // namespace

PS_TEST(skinny_gemm) {
    pst::Rng rng(41);
    const int flagSets[] = {0, PS_SKINNY_FP32_OUT, PS_SKINNY_ACCUMULATE, PS_SKINNY_ACCUMULATE | PS_SKINNY_FP32_OUT,
                            PS_SKINNY_SILU_MUL};
    for (int T : {1, 3, 8, 9, 16}) {
        for (int flags : flagSets) {
            gemm_case({T, 16, 32, 32, 16, flags}, rng);      // one tile, one chunk
            gemm_case({T, 40, 200, 208, 48, flags}, rng);    // row tail, k % 32 == 8, wide strides
            gemm_case({T, 37, 8, 8, 37, flags}, rng);        // k of one lane's 8, odd y stride
            gemm_case({T, 300, 1032, 1032, 300, flags}, rng);  // several rounds of every warp, a partial last round
        }
    }
    if (!pst::sanitizing()) {  // Llama-3-8B's o_proj and a slice of its gate_up
        for (int T : {1, 16}) {
            gemm_case({T, 4096, 4096, 4096, 4096, 0}, rng);
            gemm_case({T, 1024, 4096, 4096, 14336, PS_SKINNY_SILU_MUL}, rng);
        }
    }
}
