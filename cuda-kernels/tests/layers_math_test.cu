// Tests of the arithmetic layer kernels (add+RMSNorm, RoPE, SiLU-and-mul) against fp64 references
// computed from the same bf16 inputs. Tolerance: relative 1e-2 (bf16 keeps 8 significant bits, a
// relative step of 2^-8 = 3.9e-3, so one rounding passes with margin), plus a tiny absolute term
// for values that are zero or nearly so.
#include <math.h>

#include "harness.h"
#include "params.h"

using pst::DeviceBuffer;
using pst::fmt;

namespace {

constexpr double kRtol = 1e-2;
constexpr double kAtol = 1e-5;

// ---- add + rmsnorm ------------------------------------------------------------------------

void rmsnorm_case(int T, int hidden, bool withX, bool outAliasesX, int64_t stride, int block, int grid,
                  pst::Rng& rng) {
    const float eps = 1e-5f;
    std::vector<uint16_t> res = pst::random_bf16(rng, (size_t)T * stride, -2, 2);
    std::vector<uint16_t> x = pst::random_bf16(rng, (size_t)T * stride, -2, 2);
    std::vector<uint16_t> w = pst::random_bf16(rng, hidden, -1.5, 1.5);
    if (T > 1) {  // a row of zeros: rsqrt(eps), output exactly 0
        for (int i = 0; i < hidden; ++i) res[stride + i] = 0, x[stride + i] = 0;
    }

    std::vector<uint16_t> wantRes = res;
    std::vector<double> wantOut((size_t)T * stride, NAN);  // padding stays poisoned
    if (outAliasesX) {
        for (size_t i = 0; i < wantOut.size(); ++i) wantOut[i] = pst::from_bf16(x[i]);
    }
    for (int t = 0; t < T; ++t) {
        double ss = 0;
        for (int i = 0; i < hidden; ++i) {
            size_t e = t * stride + i;
            if (withX) wantRes[e] = pst::to_bf16(pst::from_bf16(res[e]) + pst::from_bf16(x[e]));
            double r = pst::from_bf16(wantRes[e]);
            ss += r * r;
        }
        double inv = 1.0 / sqrt(ss / hidden + eps);
        for (int i = 0; i < hidden; ++i) {
            size_t e = t * stride + i;
            wantOut[e] = pst::from_bf16(w[i]) * (pst::from_bf16(wantRes[e]) * inv);
        }
    }

    DeviceBuffer<uint16_t> dRes(res), dX(x), dW(w), dOut((size_t)T * stride);
    dOut.poison();
    PsAddRmsNormParams p = {};
    p.x = withX ? dX.get() : nullptr;
    p.residual = dRes.get();
    p.weight = dW.get();
    p.out = outAliasesX ? dX.get() : dOut.get();
    p.xStride = stride;
    p.residualStride = stride;
    p.outStride = stride;
    p.numTokens = T;
    p.hidden = hidden;
    p.eps = eps;
    pst::launch("ps_add_rmsnorm", dim3(grid), dim3(block), p);
    std::string name = fmt("add_rmsnorm T=%d hidden=%d stride=%lld block=%d grid=%d%s%s", T, hidden,
                           (long long)stride, block, grid, withX ? " +x" : " no-x", outAliasesX ? " out=x" : "");
    pst::check_bits(name + " residual", dRes.download(), wantRes);
    pst::check_close_bf16(name + " out", (outAliasesX ? dX : dOut).download(), wantOut, kRtol, kAtol);
}

// ---- rope ---------------------------------------------------------------------------------

struct RopeShape {
    int numHeads, numKvHeads, headDim, rotaryDim;
    int64_t extraStride;  // added to the fused qkv row; odd values force the scalar path
};

void rope_case(int T, const RopeShape& s, int maxPositions, double theta, int grid, pst::Rng& rng) {
    const int half = s.rotaryDim / 2;
    // Built the way the CPU backend's RopeTable builds it: angles in fp64, stored as fp32.
    std::vector<float> cosT((size_t)maxPositions * half), sinT((size_t)maxPositions * half);
    for (int pos = 0; pos < maxPositions; ++pos) {
        for (int i = 0; i < half; ++i) {
            double angle = pos / pow(theta, (2.0 * i) / s.rotaryDim);
            cosT[(size_t)pos * half + i] = (float)cos(angle);
            sinT[(size_t)pos * half + i] = (float)sin(angle);
        }
    }
    std::vector<int32_t> positions(T);
    for (auto& p : positions) p = rng.below(maxPositions);
    positions[0] = maxPositions - 1;
    if (T > 2) positions[2] = 0;
    if (T > 5) positions[5] = maxPositions;  // out of range: NaN heads

    const int qDim = s.numHeads * s.headDim, kvDim = s.numKvHeads * s.headDim;
    const int64_t stride = qDim + 2 * kvDim + s.extraStride;
    std::vector<uint16_t> qkv = pst::random_bf16(rng, (size_t)T * stride, -3, 3);
    std::vector<double> want(qkv.size());
    for (size_t i = 0; i < qkv.size(); ++i) want[i] = pst::from_bf16(qkv[i]);
    for (int t = 0; t < T; ++t) {
        for (int h = 0; h < s.numHeads + s.numKvHeads; ++h) {
            size_t head = t * stride + (size_t)h * s.headDim;  // k heads follow q heads in the row
            bool bad = positions[t] >= maxPositions;
            for (int i = 0; i < half && !bad; ++i) {
                double x1 = pst::from_bf16(qkv[head + i]), x2 = pst::from_bf16(qkv[head + half + i]);
                double c = cosT[(size_t)positions[t] * half + i], sn = sinT[(size_t)positions[t] * half + i];
                want[head + i] = x1 * c - x2 * sn;
                want[head + half + i] = x2 * c + x1 * sn;
            }
            for (int d = 0; d < s.headDim && bad; ++d) want[head + d] = NAN;
        }
    }
    DeviceBuffer<uint16_t> dQkv(qkv);
    DeviceBuffer<float> dCos(cosT), dSin(sinT);
    DeviceBuffer<int32_t> dPos(positions);
    PsRopeParams p = {};
    p.q = dQkv.get();
    p.k = dQkv.get() + qDim;
    p.cos = dCos.get();
    p.sin = dSin.get();
    p.positions = dPos.get();
    p.qStride = stride;
    p.kStride = stride;
    p.numTokens = T;
    p.numHeads = s.numHeads;
    p.numKvHeads = s.numKvHeads;
    p.headDim = s.headDim;
    p.rotaryDim = s.rotaryDim;
    p.maxPositions = maxPositions;
    pst::launch("ps_rope", dim3(grid), dim3(128), p);
    pst::check_close_bf16(fmt("rope T=%d heads=%d/%d headDim=%d rotary=%d stride=%lld theta=%g grid=%d", T,
                              s.numHeads, s.numKvHeads, s.headDim, s.rotaryDim, (long long)stride, theta, grid),
                          dQkv.download(), want, kRtol, kAtol);
}

// ---- silu and mul -------------------------------------------------------------------------

void silu_case(int T, int inter, int64_t inStride, int64_t outStride, int block, dim3 grid, pst::Rng& rng) {
    std::vector<uint16_t> gu = pst::random_bf16(rng, (size_t)T * inStride, -8, 8);
    // Saturation: e^-g overflows for g << 0, underflows for g >> 0.
    gu[0] = pst::to_bf16(-100.0f);
    if (inter > 1) gu[1] = pst::to_bf16(100.0f);
    if (inter > 2) gu[2] = pst::to_bf16(0.0f);
    std::vector<double> want((size_t)T * outStride, NAN);
    for (int t = 0; t < T; ++t) {
        for (int i = 0; i < inter; ++i) {
            double g = pst::from_bf16(gu[t * inStride + i]), u = pst::from_bf16(gu[t * inStride + inter + i]);
            want[t * outStride + i] = g / (1.0 + exp(-g)) * u;
        }
    }
    DeviceBuffer<uint16_t> dIn(gu), dOut((size_t)T * outStride);
    dOut.poison();
    PsSiluMulParams p = {};
    p.gateUp = dIn.get();
    p.out = dOut.get();
    p.gateUpStride = inStride;
    p.outStride = outStride;
    p.numTokens = T;
    p.inter = inter;
    pst::launch("ps_silu_mul", grid, dim3(block), p);
    pst::check_close_bf16(fmt("silu_mul T=%d inter=%d strides=%lld/%lld block=%d grid=%u,%u", T, inter,
                              (long long)inStride, (long long)outStride, block, grid.x, grid.y),
                          dOut.download(), want, kRtol, 1e-6);
}

}  // namespace

PS_TEST(add_rmsnorm) {
    pst::Rng rng(21);
    for (int T : {1, 7, 129}) {
        for (bool withX : {false, true}) {
            rmsnorm_case(T, 96, withX, false, 96, 128, T, rng);
            rmsnorm_case(T, 2048, withX, false, 2048, 256, T, rng);
            rmsnorm_case(T, 100, withX, false, 100, 64, T, rng);      // width % 8 != 0: two-pass path
            rmsnorm_case(T, 2048, withX, false, 2052, 256, T, rng);   // rows not 16-byte aligned
        }
        rmsnorm_case(T, 2048, true, true, 2048, 256, T, rng);         // out written over x
    }
    rmsnorm_case(7, 8192, true, false, 8192, 256, 7, rng);    // exactly 4 vectors per thread
    rmsnorm_case(7, 12288, true, false, 12288, 256, 7, rng);  // too long for registers: two-pass path
    rmsnorm_case(7, 16384, true, false, 16384, 1024, 7, rng);
    rmsnorm_case(129, 96, true, false, 96, 32, 4, rng);       // grid smaller than T
}

PS_TEST(rope) {
    pst::Rng rng(22);
    const RopeShape shapes[] = {
        {32, 8, 128, 128, 0},  // Llama-3-8B, q/k inside the fused qkv row
        {4, 2, 64, 64, 8},
        {3, 1, 80, 80, 0},     // half = 40: 5 vector groups per head
        {4, 4, 96, 64, 0},     // partial rotary: dims 64..95 untouched
        {2, 1, 24, 24, 0},     // half = 12: scalar path
        {4, 2, 64, 64, 3},     // odd stride: scalar path
    };
    for (int T : {1, 7, 129}) {
        for (const auto& s : shapes) rope_case(T, s, 4096, 10000.0, T, rng);
    }
    rope_case(129, shapes[0], 131072, 500000.0, 7, rng);  // Llama-3 theta, long table, grid < T
}

PS_TEST(silu_mul) {
    pst::Rng rng(23);
    for (int T : {1, 7, 129}) {
        silu_case(T, 96, 192, 96, 256, dim3(T, 1), rng);
        silu_case(T, 14336, 28672, 14336, 256, dim3(T, 7), rng);  // Llama-3-8B
        silu_case(T, 100, 203, 101, 64, dim3(T, 1), rng);          // scalar path
    }
    silu_case(129, 14336, 28672 + 8, 14336 + 8, 128, dim3(9, 3), rng);  // both grid dimensions strided
}
