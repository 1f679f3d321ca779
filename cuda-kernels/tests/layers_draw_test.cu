// Tests of the temperature draw (ps_draw): ids against a sequential reference written the way
// the Java sampler computes it (Sampler.sample: copyChecked, mask, max; TruncatedDistribution:
// temper, dropBelow, drawInIdOrder), on random rows at awkward sizes, with bans, min-p, extreme
// temperatures, uniforms at both ends, and the rows the host must take back (-1). An id may differ
// from the reference's only where the target sits on a boundary to within rounding (a uniform of
// 1 - 2^-53 over a tail of tiny weights does that); such draws are counted, and must stay rare.
#include <math.h>

#include "harness.h"
#include "params.h"

using pst::DeviceBuffer;
using pst::fmt;

namespace {

int32_t reference_draw(const float* x, int vocab, const PsDrawRow& r) {
    auto banned = [&](int i) {
        for (int b = 0; b < r.numBanned; ++b)
            if (r.banned[b] == i) return true;
        return false;
    };
    float max = -INFINITY;
    for (int i = 0; i < vocab; ++i) {
        if (isnan(x[i]) || x[i] == INFINITY) return -1;  // the host throws: a broken step
        if (!banned(i) && x[i] > max) max = x[i];
    }
    if (max == -INFINITY) return -1;  // every token banned: the host retries without the bans
    std::vector<double> w(vocab);
    for (int i = 0; i < vocab; ++i) {
        const double v = banned(i) ? -INFINITY : (double)x[i];
        w[i] = exp((v - max) * r.inverseTemperature);
        if (r.minP > 0 && w[i] < r.minP) w[i] = 0;
    }
    double total = 0;
    for (int i = 0; i < vocab; ++i) total += w[i];
    const double target = r.uniform * total;
    double cumulative = 0;
    int lastPositive = -1;
    for (int i = 0; i < vocab; ++i) {
        if (w[i] == 0) continue;
        cumulative += w[i];
        lastPositive = i;
        if (target < cumulative) return i;
    }
    return lastPositive;
}

// Whether `got` is the host's answer up to rounding: the id itself, or one whose slot of the running
// sum touches the target to within 1e-12 of the total (params.h: the sums' order differs from the
// host's, so a target that sits on a boundary to within rounding may fall on either side of it).
bool within_rounding(const float* x, int vocab, const PsDrawRow& r, int32_t got, int32_t want) {
    if (got == want) return true;
    if (want < 0 || got < 0 || got >= vocab) return false;
    auto banned = [&](int i) {
        for (int b = 0; b < r.numBanned; ++b)
            if (r.banned[b] == i) return true;
        return false;
    };
    float max = -INFINITY;
    for (int i = 0; i < vocab; ++i)
        if (!banned(i) && x[i] > max) max = x[i];
    std::vector<double> w(vocab);
    double total = 0;
    for (int i = 0; i < vocab; ++i) {
        w[i] = exp(((banned(i) ? -INFINITY : (double)x[i]) - max) * r.inverseTemperature);
        if (r.minP > 0 && w[i] < r.minP) w[i] = 0;
        total += w[i];
    }
    if (w[got] == 0) return false;
    const double target = r.uniform * total, eps = 1e-12 * total;
    double before = 0;
    for (int i = 0; i < got; ++i) before += w[i];
    return before <= target + eps && before + w[got] > target - eps;
}

void fill_row(float* row, int vocab, int kind, pst::Rng& rng) {
    const double scale = kind % 3 == 0 ? 1.0 : kind % 3 == 1 ? 4.0 : 12.0;
    for (int i = 0; i < vocab; ++i) row[i] = (float)(scale * rng.normal());
    switch (kind % 9) {
        case 1:  // a few -inf (an upstream mask)
            for (int k = 0; k < 7; ++k) row[rng.below(vocab)] = -INFINITY;
            break;
        case 2:  // one dominant token at the very end
            row[vocab - 1] = 60.0f;
            break;
        case 3:  // a NaN: the host must see this row
            row[rng.below(vocab)] = NAN;
            break;
        case 4:  // +inf: likewise
            row[rng.below(vocab)] = INFINITY;
            break;
        case 5:  // all equal
            for (int i = 0; i < vocab; ++i) row[i] = 0.25f;
            break;
        case 6:  // only -inf but three ids (which the bans may take too)
            for (int i = 0; i < vocab; ++i) row[i] = -INFINITY;
            row[0] = 1.0f;
            row[vocab / 2] = 1.0f;
            row[vocab - 1] = 3.0f;
            break;
        default:
            break;
    }
}

void draw_case(int S, int numDraws, int vocab, int64_t stride, int block, int grid, pst::Rng& rng) {
    std::vector<float> logits((size_t)S * stride, NAN);  // padding is NaN: a read past vocab shows
    for (int s = 0; s < S; ++s) fill_row(&logits[(size_t)s * stride], vocab, s, rng);
    std::vector<PsDrawRow> draws(numDraws);
    static const double temperatures[] = {1.0, 0.7, 0.05, 1.9, 1e-4, 0.35};
    static const double minPs[] = {0.0, 0.0, 0.05, 0.9, 1.0};
    for (int d = 0; d < numDraws; ++d) {
        PsDrawRow& r = draws[d];
        r = PsDrawRow{};
        r.row = rng.below(S);  // any row, several draws per row
        r.inverseTemperature = 1.0 / temperatures[d % 6];
        r.minP = minPs[d % 5];
        r.uniform = d % 11 == 0 ? 0.0 : d % 11 == 1 ? 0.9999999999999999 : rng.uniform(0, 1);
        r.numBanned = d % 4 == 0 ? 0 : 1 + rng.below(PS_DRAW_MAX_BANNED);
        for (int b = 0; b < r.numBanned; ++b) r.banned[b] = rng.below(vocab);
        if (d % 7 == 3) {  // ban the row's best token, so the max must skip it
            const float* x = &logits[(size_t)r.row * stride];
            int best = 0;
            for (int i = 1; i < vocab; ++i)
                if (x[i] > x[best]) best = i;
            r.banned[0] = best;
            r.numBanned = std::max(r.numBanned, 1);
        }
        if (r.row % 9 == 6 && d % 2 == 0) {  // ban all three finite ids: the host must take it back
            r.numBanned = 3;
            r.banned[0] = 0;
            r.banned[1] = vocab / 2;
            r.banned[2] = vocab - 1;
        }
    }
    std::vector<int32_t> want(numDraws);
    for (int d = 0; d < numDraws; ++d) want[d] = reference_draw(&logits[(size_t)draws[d].row * stride], vocab, draws[d]);

    DeviceBuffer<float> dLogits(logits);
    DeviceBuffer<PsDrawRow> dDraws(draws);
    DeviceBuffer<int32_t> dOut(numDraws);
    dOut.poison();
    PsDrawParams p = {};
    p.logits = dLogits.get();
    p.draws = dDraws.get();
    p.out = dOut.get();
    p.logitsStride = stride;
    p.numDraws = numDraws;
    p.vocab = vocab;
    pst::launch("ps_draw", dim3(grid), dim3(block), p);
    const std::vector<int32_t> got = dOut.download();
    int exact = 0, rounding = 0, wrong = 0, firstWrong = -1;
    for (int d = 0; d < numDraws; ++d) {
        if (got[d] == want[d]) {
            ++exact;
        } else if (within_rounding(&logits[(size_t)draws[d].row * stride], vocab, draws[d], got[d], want[d])) {
            ++rounding;
        } else if (wrong++ == 0) {
            firstWrong = d;
        }
    }
    pst::check(fmt("draw S=%d draws=%d vocab=%d stride=%lld block=%d grid=%d", S, numDraws, vocab, (long long)stride,
                   block, grid),
               wrong == 0 && rounding <= numDraws / 10,
               firstWrong < 0 ? fmt("%d exact, %d on a boundary within rounding", exact, rounding)
                              : fmt("draw %d: got %d, want %d (uniform %.17g); %d wrong", firstWrong, got[firstWrong],
                                    want[firstWrong], draws[firstWrong].uniform, wrong));
}

// The draws follow the distribution: many uniforms over one small row, counted per token against
// the probabilities (a check that the walk is an inverse CDF, not just equal to a reference that
// might share its mistake).
void draw_histogram(pst::Rng& rng) {
    const int vocab = 37, n = 20000;
    std::vector<float> logits(vocab);
    for (int i = 0; i < vocab; ++i) logits[i] = (float)(1.5 * rng.normal());
    std::vector<PsDrawRow> draws(n);
    for (int d = 0; d < n; ++d) {
        draws[d] = PsDrawRow{};
        draws[d].inverseTemperature = 1.0 / 0.8;
        draws[d].uniform = (d + 0.5) / n;  // stratified: the counts are then exact to +-1 per token
    }
    DeviceBuffer<float> dLogits(logits);
    DeviceBuffer<PsDrawRow> dDraws(draws);
    DeviceBuffer<int32_t> dOut(n);
    PsDrawParams p = {};
    p.logits = dLogits.get();
    p.draws = dDraws.get();
    p.out = dOut.get();
    p.logitsStride = vocab;
    p.numDraws = n;
    p.vocab = vocab;
    pst::launch("ps_draw", dim3(264), dim3(128), p);
    std::vector<int32_t> got = dOut.download();
    double max = -INFINITY, total = 0;
    for (float v : logits) max = std::max(max, (double)v);
    std::vector<double> w(vocab);
    for (int i = 0; i < vocab; ++i) total += (w[i] = exp((logits[i] - max) / 0.8));
    std::vector<int> count(vocab, 0);
    bool ok = true;
    for (int t : got) {
        if (t < 0 || t >= vocab) ok = false;
        else ++count[t];
    }
    double worst = 0;
    for (int i = 0; i < vocab; ++i) worst = std::max(worst, fabs(count[i] - n * w[i] / total));
    pst::check("draw histogram (20000 stratified uniforms, 37 tokens)", ok && worst <= 1.0001,
               fmt("largest count off by %.3f", worst));
}

}  // namespace

PS_TEST(draw) {
    pst::Rng rng(47);
    draw_case(9, 9, 259, 259, 1024, 9, rng);           // rows not 16-byte aligned, odd vocabulary
    draw_case(18, 40, 259, 260, 96, 7, rng);           // 3 warps, grid smaller than the draws
    draw_case(27, 64, 1000, 1003, 256, 64, rng);       // stretches shorter than one pass of the block
    draw_case(9, 27, 128256, 128256, 1024, 27, rng);   // Llama-3 vocabulary
    if (!pst::sanitizing()) draw_case(18, 36, 151936, 151936 + 4, 512, 36, rng);  // Qwen2 vocabulary
    draw_histogram(rng);
}
