// Tests of the greedy argmax: exact ids against a sequential scan with the Java sampler's rules
// (ties to the lowest id, NaN never wins; all-NaN gives -1 here).
#include <math.h>

#include "harness.h"
#include "params.h"

using pst::DeviceBuffer;
using pst::fmt;

namespace {

int32_t reference_argmax(const float* row, int vocab) {
    int32_t best = -1;
    for (int i = 0; i < vocab; ++i) {
        if (isnan(row[i])) continue;
        if (best < 0 || row[i] > row[best]) best = i;
    }
    return best;
}

void argmax_case(int S, int vocab, int64_t stride, int block, int grid, pst::Rng& rng) {
    std::vector<float> logits((size_t)S * stride, NAN);  // padding is NaN: it must never be read as a winner
    for (int s = 0; s < S; ++s) {
        float* row = &logits[(size_t)s * stride];
        for (int i = 0; i < vocab; ++i) row[i] = (float)(4.0 * rng.normal());
        switch (s % 8) {
            case 1: {  // a tie between two maxima: the lower id wins
                int a = rng.below(vocab), b = rng.below(vocab);
                row[a] = row[b] = 1000.0f;
                break;
            }
            case 2:  // the maximum in the very last column (the scalar tail when vocab % 4 != 0)
                row[vocab - 1] = 1000.0f;
                break;
            case 3:  // NaNs around a maximum
                for (int k = 0; k < 5; ++k) row[rng.below(vocab)] = NAN;
                row[0] = NAN;
                row[vocab - 1] = NAN;
                break;
            case 4:  // every logit -inf (fully masked row): id 0
                for (int i = 0; i < vocab; ++i) row[i] = -INFINITY;
                break;
            case 5:  // every logit NaN
                for (int i = 0; i < vocab; ++i) row[i] = NAN;
                break;
            case 6:  // all equal: id 0
                for (int i = 0; i < vocab; ++i) row[i] = 0.5f;
                break;
            case 7:  // +inf wins, ties among several +inf to the lowest
                row[vocab / 2] = INFINITY;
                row[vocab / 3] = INFINITY;
                break;
            default:
                break;
        }
    }
    std::vector<int32_t> want(S);
    for (int s = 0; s < S; ++s) want[s] = reference_argmax(&logits[(size_t)s * stride], vocab);

    DeviceBuffer<float> dLogits(logits);
    DeviceBuffer<int32_t> dOut(S);
    dOut.poison();
    PsArgmaxParams p = {};
    p.logits = dLogits.get();
    p.out = dOut.get();
    p.logitsStride = stride;
    p.numRows = S;
    p.vocab = vocab;
    pst::launch("ps_argmax", dim3(grid), dim3(block), p);
    pst::check_ints(fmt("argmax S=%d vocab=%d stride=%lld block=%d grid=%d", S, vocab, (long long)stride, block, grid),
                    dOut.download(), want);
}

}  // namespace

PS_TEST(argmax) {
    pst::Rng rng(31);
    for (int S : {1, 7, 129}) {
        argmax_case(S, 259, 259, 1024, S, rng);          // rows not 16-byte aligned: scalar scan
        argmax_case(S, 259, 260, 96, S, rng);            // aligned, 3-element tail, 3 warps
        argmax_case(S, 128256, 128256, 1024, S, rng);    // Llama-3 vocabulary
        if (!pst::sanitizing()) argmax_case(S, 151936, 151936 + 4, 512, S, rng);  // Qwen2 vocabulary
    }
    argmax_case(129, 32000, 32000, 256, 16, rng);  // grid smaller than S
}
