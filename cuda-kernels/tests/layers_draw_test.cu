// Tests of the temperature draw (ps_draw): ids against a sequential reference written the way
// the Java sampler computes it (Sampler.sample: copyChecked, mask, max; TruncatedDistribution:
// temper, dropBelow, drawInIdOrder), on random rows at awkward sizes, with bans, min-p, extreme
// temperatures, uniforms at both ends, and the rows the host must take back (-1). An id may differ
// from the reference's only where the target sits on a boundary to within rounding (a uniform of
// 1 - 2^-53 over a tail of tiny weights does that); such draws are counted, and must stay rare.
#include <math.h>
#include <string.h>

#include <algorithm>

#include "harness.h"
#include "params.h"

using pst::DeviceBuffer;
using pst::fmt;

namespace {

bool is_banned(const PsDrawRow& r, int i) {
    for (int b = 0; b < r.numBanned; ++b)
        if (r.banned[b] == i) return true;
    return false;
}

int effective_top_k(const PsDrawRow& r, int vocab) {
    return r.topK > 0 && r.topK < vocab ? r.topK : 0;
}

// RankKeys.key: ascending = higher logit first, then lower id.
int64_t rank_key(float v, int id) {
    float z = v + 0.0f;
    int32_t bits;
    memcpy(&bits, &z, 4);
    const int32_t ascending = bits < 0 ? bits ^ 0x7fffffff : bits;
    return (int64_t)((uint64_t)(uint32_t)~ascending << 32 | (uint32_t)id);
}

// The kernel's bucket of a logit: eighths of a nat of weight below the max, up to 12 nats; 96 is
// the far bucket.
constexpr int kFarBucket = 96;
int bucket_of(float v, float max, const PsDrawRow& r) {
    const double d = ((double)max - (double)v) * r.inverseTemperature * 8.0;
    return d >= kFarBucket ? kFarBucket : (int)d;
}

// What the ranked draw kept, best first, with weights: for judging a token against rounding.
struct KeptRanking {
    std::vector<int> ids;
    std::vector<double> weights;
};

// TruncatedDistribution's ranked path (top-k, then top-p, then min-p, then the draw), on the
// finite unbanned ids. *boundaryBucket gets the bucket of the last id top-k or the nucleus keeps;
// *keptOut what the draw walks.
int32_t reference_ranked(const float* x, int vocab, const PsDrawRow& r, float max, int* boundaryBucket,
                         KeptRanking* keptOut) {
    std::vector<double> w(vocab, 0.0);
    std::vector<std::pair<int64_t, int>> ranked;
    double total = 0;
    for (int i = 0; i < vocab; ++i) {
        if (is_banned(r, i) || x[i] == -INFINITY) continue;
        w[i] = exp(((double)x[i] - max) * r.inverseTemperature);
        total += w[i];
    }
    const int topK = effective_top_k(r, vocab);
    for (int i = 0; i < vocab; ++i) {
        if (is_banned(r, i) || x[i] == -INFINITY) continue;
        if (topK > 0 || w[i] > 0) ranked.push_back({rank_key(x[i], i), i});  // the nucleus heap holds w > 0 only
    }
    std::sort(ranked.begin(), ranked.end());
    size_t kept = ranked.size();
    if (topK > 0) {
        kept = std::min(kept, (size_t)topK);
        while (kept > 0 && kept < ranked.size() && x[ranked[kept].second] == x[ranked[kept - 1].second]) ++kept;
        if (r.topP < 1) {
            double base = 0;
            for (size_t j = 0; j < kept; ++j) base += w[ranked[j].second];
            const double needed = r.topP * base;
            double mass = 0;
            size_t k = 0;
            while (k < kept && (k == 0 || mass < needed)) mass += w[ranked[k++].second];
            *boundaryBucket = bucket_of(x[ranked[kept - 1].second], max, r);
            kept = k;
        } else {
            *boundaryBucket = bucket_of(x[ranked[kept - 1].second], max, r);
        }
    } else {
        const double needed = r.topP * total;
        double mass = 0;
        size_t k = 0;
        while (k < kept && (k == 0 || mass < needed)) mass += w[ranked[k++].second];
        kept = k;
        *boundaryBucket = bucket_of(x[ranked[kept - 1].second], max, r);
    }
    if (r.minP > 0) {
        const double threshold = r.minP * w[ranked[0].second];
        size_t k = 1;
        while (k < kept && w[ranked[k].second] >= threshold) ++k;
        kept = k;
    }
    double keptMass = 0;
    keptOut->ids.clear();
    keptOut->weights.clear();
    for (size_t j = 0; j < kept; ++j) {
        keptMass += w[ranked[j].second];
        keptOut->ids.push_back(ranked[j].second);
        keptOut->weights.push_back(w[ranked[j].second]);
    }
    const double target = r.uniform * keptMass;
    double running = 0;
    for (size_t j = 0; j < kept; ++j) {
        running += w[ranked[j].second];
        if (target < running) return ranked[j].second;
    }
    return ranked[kept - 1].second;
}

// The token the host's sampler gives, or -1 where it cannot (NaN, +inf, everything banned).
// *boundaryBucket: see reference_ranked; -1 for the id-order draw.
int32_t reference_draw(const float* x, int vocab, const PsDrawRow& r, int* boundaryBucket, KeptRanking* kept) {
    *boundaryBucket = -1;
    float max = -INFINITY;
    for (int i = 0; i < vocab; ++i) {
        if (isnan(x[i]) || x[i] == INFINITY) return -1;  // the host throws: a broken step
        if (!is_banned(r, i) && x[i] > max) max = x[i];
    }
    if (max == -INFINITY) return -1;  // every token banned: the host retries without the bans
    if (effective_top_k(r, vocab) > 0 || r.topP < 1) return reference_ranked(x, vocab, r, max, boundaryBucket, kept);
    auto banned = [&](int i) { return is_banned(r, i); };
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

// The same judgement for a rank-order draw, along what the reference kept.
bool within_rounding_ranked(const KeptRanking& kept, double uniform, int32_t got) {
    double total = 0;
    for (double w : kept.weights) total += w;
    const double target = uniform * total, eps = 1e-12 * total;
    double before = 0;
    for (size_t j = 0; j < kept.ids.size(); ++j) {
        if (kept.ids[j] == got) return kept.weights[j] > 0 && before <= target + eps && before + kept.weights[j] > target - eps;
        before += kept.weights[j];
    }
    return false;
}

// Whether the kernel may hand a rank-order draw back: the candidates up to the bucket after the
// boundary's (the nucleus cut may move one non-empty bucket on, by its margin) exceed the cap.
bool may_hand_back(const float* x, int vocab, const PsDrawRow& r, int boundaryBucket) {
    float max = -INFINITY;
    for (int i = 0; i < vocab; ++i)
        if (!is_banned(r, i) && x[i] > max) max = x[i];
    std::vector<int> count(kFarBucket + 1, 0);
    for (int i = 0; i < vocab; ++i)
        if (!is_banned(r, i) && x[i] != -INFINITY) ++count[bucket_of(x[i], max, r)];
    int upTo = 0, b = 0;
    for (; b <= boundaryBucket; ++b) upTo += count[b];
    while (b <= kFarBucket && count[b] == 0) ++b;
    if (b <= kFarBucket) upTo += count[b];
    return upTo > PS_DRAW_MAX_CANDIDATES;
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
        case 7:  // coarse values, as bf16 logits are: many ties, also at a top-k's boundary
            for (int i = 0; i < vocab; ++i) row[i] = roundf(row[i] * 2.0f) * 0.5f;
            break;
        default:
            break;
    }
}

// Uploads the rows and draws, runs ps_draw and returns out[numDraws].
std::vector<int32_t> run_draws(const std::vector<float>& logits, int64_t stride, int vocab,
                               const std::vector<PsDrawRow>& draws, int block, int grid) {
    DeviceBuffer<float> dLogits(logits);
    DeviceBuffer<PsDrawRow> dDraws(draws);
    DeviceBuffer<int32_t> dOut(draws.size());
    dOut.poison();
    PsDrawParams p = {};
    p.logits = dLogits.get();
    p.draws = dDraws.get();
    p.out = dOut.get();
    p.logitsStride = stride;
    p.numDraws = (int32_t)draws.size();
    p.vocab = vocab;
    pst::launch("ps_draw", dim3(grid), dim3(block), p);
    return dOut.download();
}

void draw_case(int S, int numDraws, int vocab, int64_t stride, int block, int grid, pst::Rng& rng) {
    std::vector<float> logits((size_t)S * stride, NAN);  // padding is NaN: a read past vocab shows
    for (int s = 0; s < S; ++s) fill_row(&logits[(size_t)s * stride], vocab, s, rng);
    std::vector<PsDrawRow> draws(numDraws);
    static const double temperatures[] = {1.0, 0.7, 0.05, 1.9, 1e-4, 0.35};
    static const double minPs[] = {0.0, 0.0, 0.05, 0.9, 1.0, 0.0, 0.0};
    static const double topPs[] = {1.0, 0.9, 1.0, 0.5, 1.0, 0.97, 1.0, 0.2};
    static const int topKs[] = {0, 0, 1, 40, 0, 5000, 700, 3000, 5};
    for (int d = 0; d < numDraws; ++d) {
        PsDrawRow& r = draws[d];
        r = PsDrawRow{};
        r.row = rng.below(S);  // any row, several draws per row
        r.inverseTemperature = 1.0 / temperatures[d % 6];
        r.minP = minPs[d % 7];
        r.topP = topPs[d % 8];
        r.topK = topKs[d % 9];
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
    std::vector<int> boundary(numDraws);
    std::vector<KeptRanking> kept(numDraws);
    for (int d = 0; d < numDraws; ++d)
        want[d] = reference_draw(&logits[(size_t)draws[d].row * stride], vocab, draws[d], &boundary[d], &kept[d]);

    const std::vector<int32_t> got = run_draws(logits, stride, vocab, draws, block, grid);
    int exact = 0, ranked = 0, rounding = 0, handedBack = 0, wrong = 0, firstWrong = -1;
    for (int d = 0; d < numDraws; ++d) {
        const float* x = &logits[(size_t)draws[d].row * stride];
        if (got[d] == want[d]) {
            ++exact;
            if (boundary[d] >= 0) ++ranked;
        } else if (boundary[d] < 0 ? within_rounding(x, vocab, draws[d], got[d], want[d])
                                   : want[d] >= 0 && within_rounding_ranked(kept[d], draws[d].uniform, got[d])) {
            ++rounding;
        } else if (boundary[d] >= 0 && got[d] == -1 && may_hand_back(x, vocab, draws[d], boundary[d])) {
            ++handedBack;
        } else if (wrong++ == 0) {
            firstWrong = d;
        }
    }
    pst::check(fmt("draw S=%d draws=%d vocab=%d stride=%lld block=%d grid=%d", S, numDraws, vocab, (long long)stride,
                   block, grid),
               wrong == 0 && rounding <= numDraws / 10,
               firstWrong < 0 ? fmt("%d exact (%d in rank order), %d on a boundary within rounding, %d handed back "
                                    "(too many candidates)", exact, ranked, rounding, handedBack)
                              : fmt("draw %d: got %d, want %d (uniform %.17g); %d wrong", firstWrong, got[firstWrong],
                                    want[firstWrong], draws[firstWrong].uniform, wrong));
}

// The draws follow the distribution: many uniforms over one small row, counted per token against
// the probabilities (a check that the walk is an inverse CDF, not just equal to a reference that
// might share its mistake); in id order, and in rank order under top-k 10 and top-p 0.8 (whose
// kept set and weights are computed here from the probabilities directly).
void draw_histogram(pst::Rng& rng, bool ranked) {
    const int vocab = 37, n = 20000;
    const double temperature = 0.8;
    std::vector<float> logits(vocab);
    for (int i = 0; i < vocab; ++i) logits[i] = (float)(1.5 * rng.normal());
    std::vector<PsDrawRow> draws(n);
    for (int d = 0; d < n; ++d) {
        draws[d] = PsDrawRow{};
        draws[d].inverseTemperature = 1.0 / temperature;
        draws[d].topP = ranked ? 0.8 : 1.0;
        draws[d].topK = ranked ? 10 : 0;
        draws[d].uniform = (d + 0.5) / n;  // stratified: the counts are then exact to +-1 per token
    }
    const std::vector<int32_t> got = run_draws(logits, vocab, vocab, draws, 128, 264);
    double max = -INFINITY;
    for (float v : logits) max = std::max(max, (double)v);
    std::vector<double> w(vocab);
    for (int i = 0; i < vocab; ++i) w[i] = exp((logits[i] - max) / temperature);
    if (ranked) {  // keep the 10 best, then the fewest of them holding 80% of their weight
        std::vector<int> order(vocab);
        for (int i = 0; i < vocab; ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](int a, int b) { return w[a] > w[b]; });
        double top = 0;
        for (int j = 0; j < 10; ++j) top += w[order[j]];
        double mass = 0;
        int kept = 0;
        while (kept < 10 && (kept == 0 || mass < 0.8 * top)) mass += w[order[kept++]];
        for (int j = kept; j < vocab; ++j) w[order[j]] = 0;
    }
    double total = 0;
    for (double v : w) total += v;
    std::vector<int> count(vocab, 0);
    bool ok = true;
    for (int t : got) {
        if (t < 0 || t >= vocab) ok = false;
        else ++count[t];
    }
    double worst = 0;
    for (int i = 0; i < vocab; ++i) worst = std::max(worst, fabs(count[i] - n * w[i] / total));
    pst::check(fmt("draw histogram, %s (20000 stratified uniforms, 37 tokens)", ranked ? "top-k 10, top-p 0.8" : "id order"),
               ok && worst <= 1.0001, fmt("largest count off by %.3f", worst));
}

}  // namespace

PS_TEST(draw) {
    pst::Rng rng(47);
    draw_case(9, 9, 259, 259, 1024, 9, rng);           // rows not 16-byte aligned, odd vocabulary
    draw_case(18, 40, 259, 260, 96, 7, rng);           // 3 warps, grid smaller than the draws
    draw_case(27, 64, 1000, 1003, 256, 64, rng);       // stretches shorter than one pass of the block
    draw_case(9, 72, 128256, 128256, 1024, 72, rng);   // Llama-3 vocabulary
    if (!pst::sanitizing()) draw_case(18, 36, 151936, 151936 + 4, 512, 36, rng);  // Qwen2 vocabulary
    draw_histogram(rng, false);
    draw_histogram(rng, true);
}
