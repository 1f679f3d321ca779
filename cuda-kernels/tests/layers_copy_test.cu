// Tests of the data-movement kernels: embedding gather, last-row gather, paged KV append. Their
// outputs are copies, so every element, padding and untouched cache slots included, must match
// the expected bits exactly.
#include <algorithm>

#include "harness.h"
#include "params.h"

using pst::DeviceBuffer;
using pst::fmt;

namespace {

// Rows of `width` values at `stride`; elements between rows stay poisoned.
std::vector<uint16_t> poisoned(size_t rows, int64_t stride) {
    return std::vector<uint16_t>(rows * stride, pst::kPoisonBf16);
}

void embedding_case(int T, int hidden, int vocab, int64_t outStride, int grid, pst::Rng& rng) {
    std::vector<uint16_t> table = pst::random_bf16(rng, (size_t)vocab * hidden, -1, 1);
    std::vector<int32_t> ids(T);
    for (auto& id : ids) id = rng.below(vocab);
    ids[T - 1] = vocab - 1;             // the last row of the table
    if (T > 2) ids[T / 2] = vocab;      // out of range: NaN row
    if (T > 3) ids[1] = -5;             // negative: NaN row

    std::vector<uint16_t> want = poisoned(T, outStride);
    for (int t = 0; t < T; ++t) {
        for (int i = 0; i < hidden; ++i) {
            bool valid = ids[t] >= 0 && ids[t] < vocab;
            want[t * outStride + i] = valid ? table[(size_t)ids[t] * hidden + i] : pst::kNanBf16;
        }
    }
    DeviceBuffer<uint16_t> dTable(table);
    DeviceBuffer<int32_t> dIds(ids);
    DeviceBuffer<uint16_t> dOut((size_t)T * outStride);
    dOut.poison();
    PsEmbeddingParams p = {};
    p.table = dTable.get();
    p.tokenIds = dIds.get();
    p.out = dOut.get();
    p.outStride = outStride;
    p.numTokens = T;
    p.hidden = hidden;
    p.vocab = vocab;
    pst::launch("ps_embedding", dim3(grid), dim3(128), p);
    pst::check_bits(fmt("embedding T=%d hidden=%d vocab=%d stride=%lld grid=%d", T, hidden, vocab,
                        (long long)outStride, grid),
                    dOut.download(), want);
}

void gather_case(int R, int hidden, int64_t srcStride, int64_t dstStride, pst::Rng& rng) {
    std::vector<int32_t> qoIndptr(R + 1, 0);
    for (int r = 0; r < R; ++r) qoIndptr[r + 1] = qoIndptr[r] + (r % 3 == 0 ? 1 + rng.below(40) : 1);
    const int T = qoIndptr[R];
    std::vector<int32_t> sample;
    for (int r = 0; r < R; ++r) {
        if (r % 4 != 1) sample.push_back(r);  // a prefill chunk mid-prompt samples nothing
    }
    sample.push_back(R);  // invalid request index: NaN row
    const int S = (int)sample.size();
    std::vector<uint16_t> src = pst::random_bf16(rng, (size_t)T * srcStride, -4, 4);
    std::vector<uint16_t> want = poisoned(S, dstStride);
    for (int s = 0; s < S; ++s) {
        for (int i = 0; i < hidden; ++i) {
            want[s * dstStride + i] =
                sample[s] < R ? src[(size_t)(qoIndptr[sample[s] + 1] - 1) * srcStride + i] : pst::kNanBf16;
        }
    }
    DeviceBuffer<uint16_t> dSrc(src);
    DeviceBuffer<int32_t> dQo(qoIndptr);
    DeviceBuffer<int32_t> dSample(sample);
    DeviceBuffer<uint16_t> dDst((size_t)S * dstStride);
    dDst.poison();
    PsGatherLastRowsParams p = {};
    p.src = dSrc.get();
    p.dst = dDst.get();
    p.qoIndptr = dQo.get();
    p.sampleRequests = dSample.get();
    p.srcStride = srcStride;
    p.dstStride = dstStride;
    p.numSampled = S;
    p.hidden = hidden;
    p.numRequests = R;
    pst::launch("ps_gather_last_rows", dim3(S), dim3(128), p);
    pst::check_bits(fmt("gather_last_rows R=%d T=%d S=%d hidden=%d strides=%lld/%lld", R, T, S, hidden,
                        (long long)srcStride, (long long)dstStride),
                    dDst.download(), want);
}

// A step of requests with `cached` tokens already in the cache and `rows` new query rows each.
// k and v are read in place from a fused qkv buffer [T][qkvStride] (q heads first).
void kv_append_case(const std::vector<std::pair<int, int>>& requests, int numKvHeads, int headDim, int pageSize,
                    int qDim, int extraStride, bool corruptPage, pst::Rng& rng) {
    const int R = (int)requests.size();
    const int kvDim = numKvHeads * headDim;
    const int64_t qkvStride = qDim + 2 * kvDim + extraStride;
    std::vector<int32_t> qoIndptr(R + 1, 0), kvIndptr(R + 1, 0), lastLen(R), positions;
    for (int r = 0; r < R; ++r) {
        const int cached = requests[r].first, rows = requests[r].second, kvLen = cached + rows;
        qoIndptr[r + 1] = qoIndptr[r] + rows;
        kvIndptr[r + 1] = kvIndptr[r] + (kvLen + pageSize - 1) / pageSize;
        lastLen[r] = kvLen - (kvIndptr[r + 1] - kvIndptr[r] - 1) * pageSize;
        for (int i = 0; i < rows; ++i) positions.push_back(cached + i);
    }
    const int T = qoIndptr[R];
    const int nnz = kvIndptr[R];
    const int numPages = nnz + 5;  // spare pages must stay untouched
    std::vector<int32_t> pages(numPages);
    for (int i = 0; i < numPages; ++i) pages[i] = i;
    rng.shuffle(pages);
    pages.resize(nnz);
    if (corruptPage) pages[nnz - 1] = numPages;  // out of range: those tokens are skipped

    std::vector<uint16_t> qkv = pst::random_bf16(rng, (size_t)T * qkvStride, -2, 2);
    const size_t cacheSize = (size_t)numPages * numKvHeads * pageSize * headDim;
    std::vector<uint16_t> wantK(cacheSize, pst::kPoisonBf16), wantV(cacheSize, pst::kPoisonBf16);
    for (int r = 0; r < R; ++r) {
        for (int t = qoIndptr[r]; t < qoIndptr[r + 1]; ++t) {
            const int pos = positions[t];
            const int page = pages[kvIndptr[r] + pos / pageSize];
            if (page >= numPages) continue;
            for (int h = 0; h < numKvHeads; ++h) {
                for (int d = 0; d < headDim; ++d) {
                    size_t dst = (((size_t)page * numKvHeads + h) * pageSize + pos % pageSize) * headDim + d;
                    wantK[dst] = qkv[t * qkvStride + qDim + h * headDim + d];
                    wantV[dst] = qkv[t * qkvStride + qDim + kvDim + h * headDim + d];
                }
            }
        }
    }
    DeviceBuffer<uint16_t> dQkv(qkv);
    DeviceBuffer<int32_t> dQo(qoIndptr), dKvIndptr(kvIndptr), dPages(pages), dPos(positions);
    DeviceBuffer<uint16_t> dK(cacheSize), dV(cacheSize);
    dK.poison();
    dV.poison();
    PsKvAppendParams p = {};
    p.k = dQkv.get() + qDim;
    p.v = dQkv.get() + qDim + kvDim;
    p.kCache = dK.get();
    p.vCache = dV.get();
    p.qoIndptr = dQo.get();
    p.kvIndptr = dKvIndptr.get();
    p.kvPageIndices = dPages.get();
    p.positions = dPos.get();
    p.kStride = qkvStride;
    p.vStride = qkvStride;
    p.numTokens = T;
    p.numRequests = R;
    p.numKvHeads = numKvHeads;
    p.headDim = headDim;
    p.pageSize = pageSize;
    p.numPages = numPages;
    pst::launch("ps_kv_append", dim3(T), dim3(128), p);
    std::string name = fmt("kv_append R=%d T=%d kvHeads=%d headDim=%d page=%d stride=%lld%s", R, T, numKvHeads,
                           headDim, pageSize, (long long)qkvStride, corruptPage ? " bad-page" : "");
    pst::check_bits(name + " K", dK.download(), wantK);
    pst::check_bits(name + " V", dV.download(), wantV);
}

}  // namespace

PS_TEST(embedding) {
    pst::Rng rng(11);
    for (int T : {1, 7, 129}) {
        embedding_case(T, 2048, 259, 2048, T, rng);
        embedding_case(T, 96, 128256, 96 + 8, T, rng);
        embedding_case(T, 100, 259, 103, T, rng);  // odd width and stride: scalar path
    }
    embedding_case(129, 96, 259, 96, 5, rng);  // grid smaller than T
}

PS_TEST(gather_last_rows) {
    pst::Rng rng(12);
    for (int R : {1, 7, 129}) {
        gather_case(R, 2048, 2048, 2048, rng);
        gather_case(R, 96, 96 * 3, 96, rng);
        gather_case(R, 100, 101, 100, rng);  // scalar path
    }
}

PS_TEST(kv_append) {
    pst::Rng rng(13);
    // (cached tokens, rows this step): prefill chunks first, then decodes.
    const std::vector<std::pair<int, int>> one = {{0, 1}};
    const std::vector<std::pair<int, int>> seven = {{0, 5}, {17, 1}, {31, 1}};
    std::vector<std::pair<int, int>> big = {{37, 100}, {0, 20}};
    for (int i = 0; i < 9; ++i) big.push_back({rng.below(300), 1});
    const std::vector<std::pair<int, int>>* steps[] = {&one, &seven, &big};
    for (int pageSize : {1, 16}) {
        for (auto* reqs : steps) {
            kv_append_case(*reqs, 8, 128, pageSize, 32 * 128, 0, false, rng);
            kv_append_case(*reqs, 2, 64, pageSize, 4 * 64, 8, false, rng);
            kv_append_case(*reqs, 1, 24, pageSize, 3 * 24, 1, false, rng);  // headDim 24, odd stride: scalar
        }
        kv_append_case(seven, 2, 64, pageSize, 4 * 64, 0, true, rng);
    }
}
