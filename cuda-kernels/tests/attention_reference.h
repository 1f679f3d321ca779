// The float64 CPU reference of paged, causal, GQA attention (semantics of backend.cpu.PagedAttention,
// sliding window included) and the per-element check the attention tests share: random batches
// over a shuffled page pool, their inputs, the reference output, and check_attention (tolerance
// described in attention_test.cu). Used by attention_test.cu and pod_test.cu.
#pragma once

#include <math.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.h"

namespace attn_ref {

using pst::fmt;

constexpr double kTol = 1e-2;

struct Shape {
    int Hq, Hkv, D;
};

// A step's requests: (query rows, kv length) each, decodes have one row. Page tables are CSR over a
// shuffled pool with spare pages, so neighbouring positions sit in unrelated pages.
struct Batch {
    int pageSize = 16;
    int numPages = 0;
    std::vector<int32_t> qoIndptr, kvIndptr, pageIndices, lastLen;
    int R() const { return (int)lastLen.size(); }
    int T() const { return qoIndptr.back(); }
    int kvLen(int r) const { return (kvIndptr[r + 1] - kvIndptr[r] - 1) * pageSize + lastLen[r]; }
    int qlen(int r) const { return qoIndptr[r + 1] - qoIndptr[r]; }
};

inline Batch make_batch(const std::vector<std::pair<int, int>>& reqs, int pageSize, pst::Rng& rng) {
    Batch b;
    b.pageSize = pageSize;
    b.qoIndptr.push_back(0);
    b.kvIndptr.push_back(0);
    int pages = 0;
    for (auto& rq : reqs) {
        b.qoIndptr.push_back(b.qoIndptr.back() + rq.first);
        const int n = (rq.second + pageSize - 1) / pageSize;
        pages += n;
        b.kvIndptr.push_back(pages);
        b.lastLen.push_back(rq.second - (n - 1) * pageSize);
    }
    b.numPages = pages + pages / 4 + 3;
    std::vector<int32_t> pool(b.numPages);
    for (int i = 0; i < b.numPages; ++i) pool[i] = i;
    rng.shuffle(pool);
    b.pageIndices.assign(pool.begin(), pool.begin() + pages);
    return b;
}

struct Inputs {
    int64_t qStride;
    std::vector<uint16_t> q;     // [T][qStride]
    std::vector<uint16_t> k, v;  // [numPages][Hkv][pageSize][D]
};

inline Inputs make_inputs(const Batch& b, const Shape& s, int64_t qStride, double qScale, pst::Rng& rng) {
    Inputs in;
    in.qStride = qStride;
    in.q = pst::random_bf16(rng, (size_t)b.T() * qStride, -qScale, qScale);
    const size_t cache = (size_t)b.numPages * s.Hkv * b.pageSize * s.D;
    in.k = pst::random_bf16(rng, cache, -1, 1);
    in.v = pst::random_bf16(rng, cache, -1, 1);
    // Cache lines no request owns (free pages, slots past a request's length in its last page) are
    // NaN: a kernel that reads one and relies on a zero probability to cancel it fails the check.
    const size_t line = s.D, pageLines = (size_t)s.Hkv * b.pageSize;
    std::vector<int> owned((size_t)b.numPages * b.pageSize, 0);  // [page][slot]
    for (int r = 0; r < b.R(); ++r) {
        for (int i = b.kvIndptr[r]; i < b.kvIndptr[r + 1]; ++i) {
            const int slots = i == b.kvIndptr[r + 1] - 1 ? b.lastLen[r] : b.pageSize;
            for (int slot = 0; slot < slots; ++slot) owned[(size_t)b.pageIndices[i] * b.pageSize + slot] = 1;
        }
    }
    for (int page = 0; page < b.numPages; ++page)
        for (int h = 0; h < s.Hkv; ++h)
            for (int slot = 0; slot < b.pageSize; ++slot)
                if (!owned[(size_t)page * b.pageSize + slot])
                    for (size_t d = 0; d < line; ++d) {
                        const size_t at = ((size_t)page * pageLines + (size_t)h * b.pageSize + slot) * line + d;
                        in.k[at] = in.v[at] = 0x7FC0;  // bf16 quiet NaN
                    }
    return in;
}

// want[t][h][d] for the rows of requests [begin, end), NaN elsewhere (must stay poisoned).
inline std::vector<double> reference(const Batch& b, const Inputs& in, const Shape& s, double scale, int begin, int end,
                              int64_t outStride, int window) {
    std::vector<double> want((size_t)b.T() * outStride, NAN);
    std::vector<float> kf(in.k.size()), vf(in.v.size());
    for (size_t i = 0; i < kf.size(); ++i) {
        kf[i] = pst::from_bf16(in.k[i]);
        vf[i] = pst::from_bf16(in.v[i]);
    }
    struct Task {
        int r, t;
    };
    std::vector<Task> tasks;
    for (int r = begin; r < end; ++r)
        for (int t = b.qoIndptr[r]; t < b.qoIndptr[r + 1]; ++t) tasks.push_back({r, t});
    const int group = s.Hq / s.Hkv;
    auto work = [&](size_t first, size_t step) {
        std::vector<double> sc, q(s.D), acc(s.D);
        std::vector<size_t> off;
        for (size_t i = first; i < tasks.size(); i += step) {
            const int r = tasks[i].r, t = tasks[i].t;
            const int pos = b.kvLen(r) - b.qlen(r) + (t - b.qoIndptr[r]);
            const int first = window > 0 ? std::max(0, pos - window + 1) : 0;
            sc.resize(pos + 1);
            off.resize(pos + 1);
            for (int h = 0; h < s.Hq; ++h) {
                const int kvh = h / group;
                for (int d = 0; d < s.D; ++d) q[d] = pst::from_bf16(in.q[(size_t)t * in.qStride + h * s.D + d]);
                double mx = -INFINITY;
                for (int j = first; j <= pos; ++j) {
                    const int page = b.pageIndices[b.kvIndptr[r] + j / b.pageSize];
                    off[j] = (((size_t)page * s.Hkv + kvh) * b.pageSize + j % b.pageSize) * s.D;
                    double dot = 0;
                    for (int d = 0; d < s.D; ++d) dot += q[d] * kf[off[j] + d];
                    sc[j] = dot * scale;
                    mx = std::max(mx, sc[j]);
                }
                double sum = 0;
                std::fill(acc.begin(), acc.end(), 0.0);
                for (int j = first; j <= pos; ++j) {
                    const double w = exp(sc[j] - mx);
                    sum += w;
                    for (int d = 0; d < s.D; ++d) acc[d] += w * vf[off[j] + d];
                }
                for (int d = 0; d < s.D; ++d) want[(size_t)t * outStride + h * s.D + d] = acc[d] / sum;
            }
        }
    };
    const unsigned n = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < n; ++i) pool.emplace_back(work, i, n);
    for (auto& th : pool) th.join();
    return want;
}

inline bool check_attention(const std::string& name, const std::vector<uint16_t>& got, const std::vector<double>& want,
                     int T, int64_t outStride, const Shape& s) {
    size_t bad = 0, first = 0, checked = 0;
    double worst = 0, errSq = 0, refSq = 0;
    std::vector<double> rms(s.Hq);  // of each head's reference row at the current t
    for (int t = 0; t < T; ++t) {
        for (int h = 0; h < s.Hq; ++h) {
            double sq = 0;
            for (int d = 0; d < s.D; ++d) sq += want[(size_t)t * outStride + h * s.D + d] * want[(size_t)t * outStride + h * s.D + d];
            rms[h] = sqrt(sq / s.D);
        }
        for (int64_t c = 0; c < outStride; ++c) {
            const size_t i = (size_t)t * outStride + c;
            const double g = pst::from_bf16(got[i]);
            const double w = want[i];
            bool ok;
            if (isnan(w)) {
                ok = isnan(g);
            } else {
                const double r = rms[c / s.D];
                ok = isfinite(g) && fabs(g - w) <= kTol * (fabs(w) + r);
                if (isfinite(g)) {
                    worst = std::max(worst, fabs(g - w) / std::max(fabs(w), r));
                    errSq += (g - w) * (g - w);
                }
                refSq += w * w;
                ++checked;
            }
            if (!ok && bad++ == 0) first = i;
        }
    }
    const double norm = sqrt(errSq / std::max(refSq, 1e-300));
    if (bad == 0)
        return pst::check(name, true, fmt("(%zu values, max err/max(|ref|,rms) %.2e, norm rel err %.2e)", checked,
                                          worst, norm));
    const int t = (int)(first / outStride), h = (int)(first % outStride / s.D), d = (int)(first % s.D);
    return pst::check(name, false,
                      fmt("%zu of %zu elements off (max err/max(|ref|,rms) %.2e, norm rel err %.2e); first t=%d "
                          "h=%d d=%d: got %.6g want %.6g",
                          bad, got.size(), worst, norm, t, h, d, pst::from_bf16(got[first]), want[first]));
}


}  // namespace attn_ref
