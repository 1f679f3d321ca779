// Online softmax state and the merge of partial attention results (split-KV, split tiles).
//
// The math. For one query row with scores s_j and values v_j, attention is
//     o = sum_j e^(s_j - M) v_j / sum_j e^(s_j - M)        for any constant M.
// Streaming over key blocks we keep M = m, the largest score seen so far, l = sum e^(s_j - m) and
// the unnormalised accumulator acc = sum e^(s_j - m) v_j. When a block raises the max to m', the old
// l and acc are multiplied by e^(m - m') and the block's terms are added with base m'. At the end
// o = acc / l and the row's log-sum-exp is lse = m + log(l).
//
// Two partial results over disjoint key sets, each normalised (o_a, lse_a) and (o_b, lse_b), merge
// exactly: lse = log(e^lse_a + e^lse_b) and o = o_a e^(lse_a - lse) + o_b e^(lse_b - lse). Computed
// with the larger lse subtracted first, so nothing overflows. The merge is associative, so any
// number of splits fold pairwise.
//
// Units: base 2. Callers multiply scores by softmaxScale * log2(e) once, then every exponential is
// a single ex2 instruction (MUFU.EX2) instead of a multiply plus ex2. Every m, lse here is in
// log2 units; lse_natural = lse2 * ln(2).
//
// Empty sets (every key masked, or a split with no keys): m = -inf, l = 0, lse = -inf, and such a
// partial gets weight 0 in a merge. -inf - (-inf) is never evaluated.
#pragma once

#include <math.h>

namespace ps {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// 2^x with the hardware approximation (relative error about 2^-22, far below bf16's 2^-8);
// exp2(-inf) = +0. This is why attention does not need --use_fast_math.
__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

struct SoftmaxState {
    float m;  // largest scaled score seen so far (log2 units); -inf while none
    float l;  // sum over seen scores of 2^(s - m)
};

__device__ __forceinline__ SoftmaxState softmax_init() {
    SoftmaxState st;
    st.m = -INFINITY;
    st.l = 0.0f;
    return st;
}

// Raises the running max to cover a new block whose largest score is blockMax. Rescales l and
// returns the factor the caller must also apply to its accumulator rows.
__device__ __forceinline__ float softmax_raise_max(SoftmaxState& st, float blockMax) {
    float mNew = fmaxf(st.m, blockMax);
    float factor = mNew == -INFINITY ? 1.0f : fast_exp2(st.m - mNew);
    st.l *= factor;
    st.m = mNew;
    return factor;
}

// Weight 2^(s - m) of one score under the current max (0 for a masked score, s = -inf). The caller
// adds the block's weights to st.l, usually after its own row reduction.
__device__ __forceinline__ float softmax_weight(const SoftmaxState& st, float s) {
    return st.m == -INFINITY ? 0.0f : fast_exp2(s - st.m);
}

// Folds state b into a (e.g. two warps that each saw half of a row's keys). Writes the factors
// the caller applies to the two accumulators before adding them: acc = acc_a * fa + acc_b * fb.
__device__ __forceinline__ void softmax_merge(SoftmaxState& a, const SoftmaxState& b, float& fa, float& fb) {
    float m = fmaxf(a.m, b.m);
    if (m == -INFINITY) {
        fa = 0.0f;
        fb = 0.0f;
        return;
    }
    fa = fast_exp2(a.m - m);
    fb = fast_exp2(b.m - m);
    a.l = a.l * fa + b.l * fb;
    a.m = m;
}

// Row log-sum-exp in log2 units, -inf for an empty row.
__device__ __forceinline__ float softmax_lse2(const SoftmaxState& st) {
    return st.l > 0.0f ? st.m + log2f(st.l) : -INFINITY;
}

// 1 / l, or 0 for an empty row so its output is exactly zero instead of NaN.
__device__ __forceinline__ float softmax_inv_sum(const SoftmaxState& st) {
    return st.l > 0.0f ? 1.0f / st.l : 0.0f;
}

struct LseMerge {
    float wa;    // weight of partial a's normalised output
    float wb;    // weight of partial b's normalised output
    float lse2;  // log-sum-exp of the union (log2 units)
};

// Weights that merge two normalised partials with log-sum-exps lseA, lseB (log2 units).
__device__ __forceinline__ LseMerge lse_merge(float lseA, float lseB) {
    LseMerge r;
    float m = fmaxf(lseA, lseB);
    if (m == -INFINITY) {
        r.wa = 0.0f;
        r.wb = 0.0f;
        r.lse2 = -INFINITY;
        return r;
    }
    float ea = fast_exp2(lseA - m);
    float eb = fast_exp2(lseB - m);
    float sum = ea + eb;  // in [1, 2]: one term is exactly 1
    float inv = 1.0f / sum;
    r.wa = ea * inv;
    r.wb = eb * inv;
    r.lse2 = m + log2f(sum);
    return r;
}

}  // namespace ps
