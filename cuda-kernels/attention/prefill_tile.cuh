// One key tile of the prefill's math, for prefill.cu's loop: S = Q . K^T, the online softmax, and
// O += P . V, on mma.sync (qk, softmax_pv) or, on Hopper, on warpgroup MMAs with the two 64-row
// halves pipelined (tile_wgmma). C is prefill.cu's Cfg (rows, keys, head dim, shared layouts); the
// accumulators are in the mma.sync C-fragment layout on both paths, so softmax_rows serves both.
#pragma once

#include "../include/online_softmax.cuh"
#include "../include/podserve_common.cuh"
#include "attention_mma.cuh"
#include "wgmma.cuh"

namespace ps {
namespace attn_prefill {

using attn::smem_addr;
using attn::swz;

// S[MT][kNb] (m16 tiles x 8-key blocks) += Q . K^T for one key tile.
template <class C, int D = C::kChunks * 8, int MT = C::kMt>
__device__ __forceinline__ void qk(float (&s)[MT][C::kNb][4], const bf16* sQ, const bf16* sK, int warpRow0, int lane,
                                   const uint32_t (&qReg)[MT][C::kQInRegs ? D / 16 : 1][4]) {
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
        uint32_t a[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            if constexpr (C::kQInRegs) {
#pragma unroll
                for (int k = 0; k < 4; ++k) a[mt][k] = qReg[mt][ks][k];
            } else {
                attn::ldmatrix_x4(a[mt], smem_addr(sQ + swz<D>(warpRow0 + mt * 16 + attn::ldm_row_a(lane),
                                                               ks * 2 + attn::ldm_chunk_a(lane))));
            }
        }
#pragma unroll
        for (int np = 0; np < C::kNb / 2; ++np) {
            uint32_t b[4];
            attn::ldmatrix_x4(b, smem_addr(sK + swz<D>(np * 16 + attn::ldm_row_b(lane), ks * 2 + attn::ldm_chunk_b(lane))));
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                attn::mma_bf16(s[mt][2 * np], a[mt], b[0], b[1]);
                attn::mma_bf16(s[mt][2 * np + 1], a[mt], b[2], b[3]);
            }
        }
    }
}

// Online softmax of one m16 tile's key tile in place (S becomes P), rescaling its O.
template <class C, bool kMask, bool kWindow, int D = C::kChunks * 8>
__device__ __forceinline__ void softmax_rows(float (&s)[C::kNb][4], float (&o)[D / 8][4], float (&m)[2], float (&l)[2],
                                             const int (&rowLimit)[2], const int (&rowFirst)[2], int tileStart,
                                             float scaleLog2, int lane) {
    if constexpr (kMask) {
#pragma unroll
        for (int nb = 0; nb < C::kNb; ++nb) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = tileStart + nb * 8 + 2 * (lane & 3) + (e & 1);
                if (key > rowLimit[e >> 1] || (kWindow && key < rowFirst[e >> 1])) s[nb][e] = -INFINITY;
            }
        }
    }
    float factors[2];
    bool moved = false;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        float mx = m[h];
#pragma unroll
        for (int nb = 0; nb < C::kNb; ++nb) mx = fmaxf(mx, fmaxf(s[nb][2 * h], s[nb][2 * h + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        // A row that has seen only masked keys (above the diagonal, before its window) stays at
        // m = -inf, l = 0, o = 0.
        const float mScaled = mx == -INFINITY ? 0.0f : mx * scaleLog2;
        const float factor = fast_exp2(m[h] * scaleLog2 - mScaled);
        moved |= mx != m[h];
        factors[h] = factor;
        m[h] = mx;
        float sum = 0.0f;
#pragma unroll
        for (int nb = 0; nb < C::kNb; ++nb) {
#pragma unroll
            for (int e = 2 * h; e < 2 * h + 2; ++e) {
                s[nb][e] = fast_exp2(fmaf(s[nb][e], scaleLog2, -mScaled));
                sum += s[nb][e];
            }
        }
        l[h] = l[h] * factor + sum;
    }
    // Past the first tiles a row's maximum rarely moves; when no row of the warp moved, every
    // factor is exactly 1 (or o is still 0) and the D/8 x 4 multiplies are skipped.
    if (__any_sync(0xffffffffu, moved)) {
#pragma unroll
        for (int db = 0; db < D / 8; ++db) {
            o[db][0] *= factors[0];
            o[db][1] *= factors[0];
            o[db][2] *= factors[1];
            o[db][3] *= factors[1];
        }
    }
}

// P (an m16 tile's probabilities, fp32 pairs of neighbouring key blocks) as mma A fragments, one
// per 16-key step.
template <class C>
__device__ __forceinline__ void pack_p(uint32_t (&a)[C::kNb / 2][4], const float (&s)[C::kNb][4]) {
#pragma unroll
    for (int kk = 0; kk < C::kNb / 2; ++kk) {
        a[kk][0] = attn::pack_bf16x2(s[2 * kk][0], s[2 * kk][1]);
        a[kk][1] = attn::pack_bf16x2(s[2 * kk][2], s[2 * kk][3]);
        a[kk][2] = attn::pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
        a[kk][3] = attn::pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
    }
}

// mma.sync path: the softmax of both m16 tiles, then O += P . V with every V fragment feeding both.
template <class C, bool kMask, bool kWindow, int D = C::kChunks * 8, int MT = C::kMt>
__device__ __forceinline__ void softmax_pv(float (&s)[MT][C::kNb][4], float (&o)[MT][D / 8][4], float (&m)[MT][2],
                                           float (&l)[MT][2], const int (&rowLimit)[MT][2],
                                           const int (&rowFirst)[MT][2], int tileStart,
                                           float scaleLog2, const bf16* sV, int lane) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
        softmax_rows<C, kMask, kWindow>(s[mt], o[mt], m[mt], l[mt], rowLimit[mt], rowFirst[mt], tileStart, scaleLog2, lane);
#pragma unroll
    for (int kk = 0; kk < C::kNb / 2; ++kk) {
        uint32_t a[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            a[mt][0] = attn::pack_bf16x2(s[mt][2 * kk][0], s[mt][2 * kk][1]);
            a[mt][1] = attn::pack_bf16x2(s[mt][2 * kk][2], s[mt][2 * kk][3]);
            a[mt][2] = attn::pack_bf16x2(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
            a[mt][3] = attn::pack_bf16x2(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
        }
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
            uint32_t b[4];
            attn::ldmatrix_x4_trans(b, smem_addr(sV + swz<D>(kk * 16 + attn::ldm_row_a(lane), dp * 2 + attn::ldm_chunk_a(lane))));
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                attn::mma_bf16(o[mt][2 * dp], a[mt], b[0], b[1]);
                attn::mma_bf16(o[mt][2 * dp + 1], a[mt], b[2], b[3]);
            }
        }
    }
}

// wgmma path, one key tile: S = Q . K^T and O += P . V for the two 64-row halves, software-
// pipelined so the tensor cores work while the warps run a softmax: both halves' S products are
// issued, the first half's softmax runs while the second's S is computed, and the second half's
// softmax while the first's P . V is. Products complete in issue order, so waiting for "all but the
// newest group" is waiting for the one needed next. Operands (wgmma.cuh layouts): Q and K K-major,
// k16 steps 32 bytes apart inside a column block's lines, column blocks kRows (Q) or kKeys (K)
// lines apart; V MN-major, 16-key steps 2048 bytes apart, 64-column blocks kKeys lines apart.
template <class C, bool kMask, bool kWindow, int D = C::kChunks * 8>
__device__ __forceinline__ void tile_wgmma(float (&s)[2][C::kNb][4], float (&o)[2][D / 8][4], float (&m)[2][2],
                                           float (&l)[2][2], const int (&rowLimit)[2][2], const int (&rowFirst)[2][2],
                                           int tileStart, float scaleLog2, const bf16* sQ, const bf16* sK,
                                           const bf16* sV, int lane) {
    static_assert(C::kMt == 2 && C::kKeys == 64, "two 64-row halves, 64-key tiles");
    const uint32_t q0 = smem_addr(sQ), k0 = smem_addr(sK), v0 = smem_addr(sV);
    auto issue_qk = [&](int mt) {
#pragma unroll
        for (int ks = 0; ks < D / 16; ++ks) {
            const uint32_t qa = q0 + (ks / 4) * C::kRows * 128 + mt * 64 * 128 + (ks % 4) * 32;
            const uint32_t ka = k0 + (ks / 4) * C::kKeys * 128 + (ks % 4) * 32;
            ps::wg::mma_ss_n64(reinterpret_cast<float(&)[32]>(s[mt]), ps::wg::desc(qa, 16, 1024), ps::wg::desc(ka, 16, 1024));
        }
        ps::wg::commit();
    };
    auto issue_pv = [&](int mt, const uint32_t (&a)[C::kNb / 2][4]) {
#pragma unroll
        for (int kk = 0; kk < C::kNb / 2; ++kk) {
            const uint64_t dv = ps::wg::desc(v0 + kk * 2048, C::kKeys * 128, 1024);
            if constexpr (D == 128) {
                ps::wg::mma_rs_n128(reinterpret_cast<float(&)[64]>(o[mt]), a[kk], dv);
            } else {
                ps::wg::mma_rs_n64(reinterpret_cast<float(&)[32]>(o[mt]), a[kk], dv);
            }
        }
        ps::wg::commit();
    };
    auto pin_s = [&](int mt) {
#pragma unroll
        for (int nb = 0; nb < C::kNb; ++nb)
#pragma unroll
            for (int e = 0; e < 4; ++e) ps::wg::pin(s[mt][nb][e]);
    };
    ps::wg::fence();  // s was zeroed, o rescaled by ordinary instructions
    issue_qk(0);
    issue_qk(1);
    ps::wg::wait<1>();  // S of half 0
    pin_s(0);
    softmax_rows<C, kMask, kWindow>(s[0], o[0], m[0], l[0], rowLimit[0], rowFirst[0], tileStart, scaleLog2, lane);
    uint32_t p0[C::kNb / 2][4], p1[C::kNb / 2][4];
    pack_p<C>(p0, s[0]);
    ps::wg::fence();
    issue_pv(0, p0);
    ps::wg::wait<1>();  // S of half 1 (half 0's P . V may still run)
    pin_s(1);
    softmax_rows<C, kMask, kWindow>(s[1], o[1], m[1], l[1], rowLimit[1], rowFirst[1], tileStart, scaleLog2, lane);
    pack_p<C>(p1, s[1]);
    ps::wg::fence();
    issue_pv(1, p1);
    ps::wg::wait<0>();
#pragma unroll
    for (int kk = 0; kk < C::kNb / 2; ++kk)
#pragma unroll
        for (int e = 0; e < 4; ++e) ps::wg::pin_u32(p0[kk][e]), ps::wg::pin_u32(p1[kk][e]);
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int db = 0; db < D / 8; ++db)
#pragma unroll
            for (int e = 0; e < 4; ++e) ps::wg::pin(o[mt][db][e]);
}

}  // namespace attn_prefill
}  // namespace ps
