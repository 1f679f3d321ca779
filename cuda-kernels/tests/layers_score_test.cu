// Tests of prompt scoring on the GPU (ps_score_rows) against a double-precision host reference
// with the Java sampler's rules: log-softmax at the target, its rank (ties count as ahead), the
// likeliest ids best first with ties to the lower id, and rank -1 for rows without a distribution.
#include <math.h>
#include <string.h>

#include <algorithm>
#include <numeric>

#include "harness.h"
#include "params.h"

using pst::DeviceBuffer;
using pst::fmt;

namespace {

struct Want {
    double logprob;
    int rank;
    std::vector<int> ids;
    std::vector<double> logprobs;
};

Want reference(const float* row, int vocab, int target, int top) {
    Want w;
    double max = -INFINITY;
    for (int i = 0; i < vocab; ++i) {
        if (isnan(row[i]) || row[i] == INFINITY) {
            w.rank = -1;
            return w;
        }
        max = std::max(max, (double)row[i]);
    }
    if (max == -INFINITY) {
        w.rank = -1;
        return w;
    }
    double sum = 0;
    for (int i = 0; i < vocab; ++i) sum += exp((double)row[i] - max);
    const double lse = max + log(sum);
    w.logprob = (double)row[target] - lse;
    w.rank = 0;
    for (int i = 0; i < vocab; ++i) w.rank += row[i] >= row[target];
    std::vector<int> order(vocab);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return row[a] > row[b]; });
    for (int k = 0; k < std::min(top, vocab); ++k) {
        w.ids.push_back(order[k]);
        w.logprobs.push_back((double)row[order[k]] - lse);
    }
    return w;
}

void score_case(int S, int vocab, int64_t stride, int top, int block, int grid, pst::Rng& rng) {
    std::vector<float> logits((size_t)S * stride, NAN);  // padding is NaN: it must never be read
    std::vector<int32_t> targets(S);
    for (int s = 0; s < S; ++s) {
        float* row = &logits[(size_t)s * stride];
        for (int i = 0; i < vocab; ++i) row[i] = (float)(3.0 * rng.normal());
        targets[s] = rng.below(vocab);
        switch (s % 8) {
            case 1:  // coarse values: many ties, in the top list and at the target
                for (int i = 0; i < vocab; ++i) row[i] = (float)rng.below(4);
                break;
            case 2:  // the target is the argmax
                row[targets[s]] = 50.0f;
                break;
            case 3:  // a NaN: no distribution
                row[rng.below(vocab)] = NAN;
                break;
            case 4:  // every logit -inf: no distribution
                for (int i = 0; i < vocab; ++i) row[i] = -INFINITY;
                break;
            case 5:  // some -inf (masked) ids, one of them the target
                for (int k = 0; k < 7; ++k) row[rng.below(vocab)] = -INFINITY;
                row[targets[s]] = -INFINITY;
                break;
            case 6:  // +inf: no distribution
                row[vocab - 1] = INFINITY;
                break;
            case 7:  // the whole top in one thread's columns (0, block, 2 block, ...): the bound must still admit it
                for (int k = 0; k * block < vocab && k < 25; ++k) row[k * block] = (float)(100 + k % 7);
                break;
            default:
                break;
        }
    }
    DeviceBuffer<float> dLogits(logits);
    DeviceBuffer<int32_t> dTargets(targets);
    DeviceBuffer<int32_t> dOut((size_t)S * PS_SCORE_WORDS);
    dOut.poison();
    PsScoreRowsParams p = {};
    p.logits = dLogits.get();
    p.targets = dTargets.get();
    p.out = dOut.get();
    p.logitsStride = stride;
    p.numRows = S;
    p.vocab = vocab;
    p.top = top;
    pst::launch("ps_score_rows", dim3(grid), dim3(block), p);
    std::vector<int32_t> out = dOut.download();
    std::vector<int32_t> gotRanks, wantRanks, gotIds, wantIds;
    std::vector<float> gotLp;
    std::vector<double> wantLp;
    for (int s = 0; s < S; ++s) {
        const int32_t* o = &out[(size_t)s * PS_SCORE_WORDS];
        Want w = reference(&logits[(size_t)s * stride], vocab, targets[s], top);
        gotRanks.push_back(o[1]);
        wantRanks.push_back(w.rank);
        if (w.rank < 0) continue;
        float v;
        memcpy(&v, &o[0], 4);
        if (isinf(w.logprob)) {  // a masked target: exactly -inf
            gotRanks.push_back(v == -INFINITY);
            wantRanks.push_back(1);
        } else {
            gotLp.push_back(v);
            wantLp.push_back(w.logprob);
        }
        for (size_t k = 0; k < w.ids.size(); ++k) {
            gotIds.push_back(o[2 + k]);
            wantIds.push_back(w.ids[k]);
            memcpy(&v, &o[2 + PS_SCORE_MAX_TOP + k], 4);
            if (isinf(w.logprobs[k])) {  // a masked id listed because fewer finite ones exist: exactly -inf
                gotRanks.push_back(v == -INFINITY);
                wantRanks.push_back(1);
            } else {
                gotLp.push_back(v);
                wantLp.push_back(w.logprobs[k]);
            }
        }
    }
    const std::string name = fmt("score_rows S=%d vocab=%d stride=%lld top=%d block=%d grid=%d", S, vocab, (long long)stride,
                                 top, block, grid);
    pst::check_ints(name + " ranks", gotRanks, wantRanks);
    pst::check_ints(name + " top ids", gotIds, wantIds);
    pst::check_close(name + " logprobs", gotLp, wantLp, 2e-5, 2e-5);
}

}  // namespace

PS_TEST(score_rows) {
    pst::Rng rng(57);
    for (int S : {1, 8, 30}) {
        score_case(S, 259, 259, 5, 1024, S, rng);        // the tiny vocabulary
        score_case(S, 259, 264, 20, 96, S, rng);         // padded rows, 3 warps, the most alternatives
        score_case(S, 128256, 128256, 1, 1024, S, rng);  // Llama-3 vocabulary, lm-eval's logprobs 1
        if (!pst::sanitizing()) score_case(S, 128256, 128256, 20, 1024, S, rng);
    }
    score_case(9, 7, 7, 20, 64, 9, rng);    // fewer ids than alternatives asked for
    score_case(30, 1000, 1000, 0, 256, 4, rng);  // no alternatives; grid smaller than S
}
