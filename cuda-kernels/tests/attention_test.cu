// Tests of the attention kernels (decode, prefill, split-KV merge) against a float64 CPU reference
// of paged, causal, GQA attention with the same semantics as backend.cpu.PagedAttention, including
// its sliding window (key j visible to the row at position p iff j > p - W).
//
// Every case draws fresh random q/K/V, scatters the requests' pages over a shuffled page pool,
// poisons out (and the split partials) with NaN, launches through the host planner
// (attention_plan.h) exactly as the Java launcher will, and checks EVERY element of out: rows of
// the launched requests against the reference, everything else (other requests, row padding past
// the heads) still poisoned. An element passes when |got - ref| <= 1e-2 * (|ref| + rms of its
// head's reference row): the harness's rtol * |ref| + atol form with rtol = 1e-2 and atol scaled to
// the row, so outputs near zero (a long context averages V towards 0) are judged against the row's
// magnitude. NaN never passes. bf16 P in the P.V product and the bf16 output put the worst element
// of a million near 1e-2 of max(|ref|, rms) (what FlashAttention-style kernels give); the line also
// prints that worst ratio and the normwise error ||got - ref|| / ||ref||, typically ~3e-3.
#include <math.h>

#include <algorithm>
#include <thread>

#include "../attention/attention_params.h"
#include "../attention/attention_plan.h"
#include "../attention/kv_tensor_maps.h"
#include "attention_reference.h"
#include "harness.h"

using pst::DeviceBuffer;
using pst::fmt;

namespace {

using namespace attn_ref;

// Device copies of one batch and its inputs, plus the out buffer shared by a case's launches.
struct Device {
    DeviceBuffer<uint16_t> q, k, v, out;
    DeviceBuffer<int32_t> qo, kvp, pages, last;
    Device(const Batch& b, const Inputs& in, int64_t outStride)
        : q(in.q), k(in.k), v(in.v), out((size_t)b.T() * outStride), qo(b.qoIndptr), kvp(b.kvIndptr),
          pages(b.pageIndices), last(b.lastLen) {
        out.poison();
    }
};

enum class Kind { Decode, Prefill };

// Plans and launches one phase (plus the merge when split) over requests [begin, end).
// mergeInKernel (decode only): the kernel merges its split rows through merge counters, which
// must come back zero, and no merge is launched.
ps_attn_plan::Launch run_phase(Kind kind, const Batch& b, const Shape& s, Device& dev, int64_t qStride,
                               int64_t outStride, int begin, int end, int forceChunk, int numSms, int window,
                               bool devicePlan = false, const void* kvMaps = nullptr, bool mergeInKernel = false) {
    const int count = end - begin;
    ps_attn_plan::Launch L =
        kind == Kind::Decode
            ? ps_attn_plan::plan_decode(b.qoIndptr.data(), b.kvIndptr.data(), b.lastLen.data(), begin, count,
                                        b.pageSize, s.Hq, s.Hkv, s.D, numSms, forceChunk)
            : ps_attn_plan::plan_prefill(b.qoIndptr.data(), b.kvIndptr.data(), b.lastLen.data(), begin, count,
                                         b.pageSize, s.Hq, s.Hkv, s.D, numSms, forceChunk);
    DeviceBuffer<int32_t> items(L.workItems);
    // devicePlan (decode only): the split rule comes from device memory and the launch has the
    // grid a CUDA graph captures, PS_ATTN_MAX_SPLITS deep, with the merge always launched.
    const bool merge = L.needsMerge() || devicePlan;
    DeviceBuffer<float> partialO(merge ? std::max<int64_t>(L.partialOFloats, 1) : 1);
    DeviceBuffer<float> partialLse(merge ? std::max<int64_t>(L.partialLseFloats, 1) : 1);
    DeviceBuffer<int32_t> splitPlan(std::vector<int32_t>{L.kvChunkSize, L.maxSplits});
    partialO.poison();
    partialLse.poison();
    PsAttentionParams p = {};
    p.q = dev.q.get();
    p.kCache = dev.k.get();
    p.vCache = dev.v.get();
    p.out = dev.out.get();
    p.qoIndptr = dev.qo.get();
    p.kvIndptr = dev.kvp.get();
    p.kvPageIndices = dev.pages.get();
    p.kvLastPageLen = dev.last.get();
    p.partialO = merge ? partialO.get() : nullptr;
    p.partialLse = merge ? partialLse.get() : nullptr;
    p.qStride = qStride;
    p.outStride = outStride;
    p.numQoHeads = s.Hq;
    p.numKvHeads = s.Hkv;
    p.headDim = s.D;
    p.pageSize = b.pageSize;
    p.smScale = (float)(1.0 / sqrt((double)s.D));
    p.window = window;
    p.kvTensorMaps = kind == Kind::Prefill ? kvMaps : nullptr;
    ps_attn_plan::apply(L, begin, count, items.get(), p);
    if (devicePlan) {
        // Poison the host copies: the kernels must take the rule from splitPlan alone.
        p.kvChunkSize = 1;
        p.maxSplits = 1;
        p.splitPlan = splitPlan.get();
    }
    const char* name = kind == Kind::Decode ? ps_attn_plan::decode_kernel(s.D)
                                            : ps_attn_plan::prefill_kernel(s.D, window, p.kvTensorMaps != nullptr);
    // At least the graph's depth, so CTAs past the plan's splits must exit; forced chunks may need more.
    const int gridY = devicePlan ? std::max<int>(L.gridY, PS_ATTN_MAX_SPLITS) : L.gridY;
    DeviceBuffer<int32_t> counters(std::vector<int32_t>(L.gridX, 0));  // [gridX]
    if (mergeInKernel) p.mergeCounters = counters.get();
    pst::launch(name, dim3(L.gridX, gridY), dim3(PS_ATTN_THREADS), p, (size_t)L.smemBytes);
    if (merge && !mergeInKernel) {
        pst::launch(ps_attn_plan::merge_kernel(), dim3(L.rows, ps_attn_plan::merge_grid_y(s.Hq, s.D)), dim3(PS_ATTN_THREADS), p);
    }
    if (mergeInKernel) {
        pst::check_ints("decode merge counters back to zero", counters.download(), std::vector<int32_t>(L.gridX, 0));
    }
    return L;
}

int num_sms() {
    int dev, n;
    PS_CUDA_CHECK(cudaGetDevice(&dev));
    PS_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
    return n;
}

struct Case {
    std::string label;
    std::vector<std::pair<int, int>> reqs;  // (qlen, kvLen)
    int numPrefill;                         // requests [0, numPrefill) take the prefill kernel
    Shape shape;
    int pageSize;
    int forceChunk;                         // 0: the planner's split rule
    bool fusedQkv;                          // q rows inside a [T][(Hq + 2 Hkv) D] buffer
    bool runPrefill, runDecode;             // phases launched; rows of the others stay poisoned
    int window = 0;                         // sliding window, 0 = none
    bool devicePlan = false;                // decode's split rule read from the device (graph launch)
    bool tensorMaps = false;                // prefill given TMA maps (used where the shape allows)
    bool mergeInKernel = false;             // decode merges its split rows itself (mergeCounters)
};

void run_case(const Case& c, pst::Rng& rng) {
    const Shape& s = c.shape;
    Batch b = make_batch(c.reqs, c.pageSize, rng);
    const int64_t qStride = c.fusedQkv ? (int64_t)(s.Hq + 2 * s.Hkv) * s.D : (int64_t)s.Hq * s.D;
    const int64_t outStride = (int64_t)s.Hq * s.D + (c.fusedQkv ? 8 : 0);  // padding must stay poisoned
    const double qScale = rng.below(2) ? 1.0 : 4.0;                          // 4: peaked softmax rows
    Inputs in = make_inputs(b, s, qStride, qScale, rng);
    Device dev(b, in, outStride);
    const int sms = num_sms();
    std::vector<double> want((size_t)b.T() * outStride, NAN);
    std::string plan;
    auto merge_want = [&](int begin, int end) {
        std::vector<double> part = reference(b, in, s, 1.0 / sqrt((double)s.D), begin, end, outStride, c.window);
        for (size_t i = 0; i < want.size(); ++i)
            if (!isnan(part[i])) want[i] = part[i];
    };
    if (c.runPrefill && c.numPrefill > 0) {
        ps_kv_maps::DeviceKvMaps maps(dev.k.get(), dev.v.get(), b.numPages, s.Hkv, b.pageSize, s.D);
        const void* kvMaps = c.tensorMaps ? maps.get() : nullptr;
        // A shape that takes maps must get them: a refused encode would quietly test cp.async.
        if (c.tensorMaps && ps_kv_maps::kv_tensor_maps_apply(s.D, b.pageSize))
            pst::check(c.label + " tensor maps encoded", kvMaps != nullptr, "cuTensorMapEncodeTiled refused");
        auto L = run_phase(Kind::Prefill, b, s, dev, qStride, outStride, 0, c.numPrefill, c.forceChunk, sms, c.window,
                           false, kvMaps);
        merge_want(0, c.numPrefill);
        plan += fmt(" prefill[items=%zu chunk=%d splits=%d%s]", L.workItems.size() / 2, L.kvChunkSize, L.maxSplits,
                    kvMaps ? " maps" : "");
    }
    if (c.runDecode && c.numPrefill < b.R()) {
        auto L = run_phase(Kind::Decode, b, s, dev, qStride, outStride, c.numPrefill, b.R(), c.forceChunk, sms, c.window,
                           c.devicePlan, nullptr, c.mergeInKernel);
        merge_want(c.numPrefill, b.R());
        plan += fmt(" decode[chunk=%d splits=%d%s%s]", L.kvChunkSize, L.maxSplits, c.devicePlan ? " device-plan" : "",
                    c.mergeInKernel ? " merged in kernel" : "");
        if (c.mergeInKernel && !(c.runPrefill && c.numPrefill > 0)) {
            // The same decode with the merge launched: the two merges share one function, so the
            // bits must match, not just the tolerance.
            Device again(b, in, outStride);
            run_phase(Kind::Decode, b, s, again, qStride, outStride, c.numPrefill, b.R(), c.forceChunk, sms, c.window,
                      c.devicePlan);
            pst::check_bits(fmt("decode %s merged in kernel = merge launch", c.label.c_str()), dev.out.download(),
                            again.out.download());
        }
    }
    check_attention(fmt("attention %s D=%d Hq=%d Hkv=%d page=%d window=%d q*%g%s", c.label.c_str(), s.D, s.Hq,
                        s.Hkv, c.pageSize, c.window, qScale, plan.c_str()),
                    dev.out.download(), want, b.T(), outStride, s);
}

// The lengths every suite cycles through: edges of a 16-page, of a 64-key tile and of a 128-row tile.
const int kLengths[] = {1, 7, 127, 128, 129, 1000, 5000};

std::vector<std::pair<int, int>> decode_reqs(int n, pst::Rng& rng, int maxLen) {
    std::vector<std::pair<int, int>> r;
    for (int i = 0; i < n; ++i) {
        int len = i < 7 ? kLengths[i] : 1 + rng.below(maxLen);
        r.push_back({1, std::min(len, maxLen)});
    }
    return r;
}

}  // namespace

PS_TEST(attention_decode) {
    pst::Rng rng(101);
    const bool small = pst::sanitizing();
    const int maxLen = small ? 1000 : 5000;
    struct Cfg {
        Shape s;
        int page, chunk;
        bool fused;
    };
    const Cfg cfgs[] = {
        {{32, 8, 128}, 16, 0, false},    // Llama-3-8B, planner split
        {{32, 8, 128}, 1, 256, true},    // page 1, forced splits, q inside fused qkv
        {{16, 2, 64}, 16, 64, false},    // GQA 8, head dim 64, many tiny splits
        {{4, 4, 128}, 16, 1024, false},  // GQA 1
        {{8, 8, 64}, 1, 0, true},        // GQA 1, page 1, head dim 64
        {{32, 1, 128}, 16, 0, false},    // group 32: two 16-head chunks per kv head
        {{32, 4, 128}, 16, 100, false},  // GQA 8, a split size off the tile grid
        {{14, 2, 32}, 16, 0, false},     // group 7: the keys-as-rows loop with an empty head column
        {{12, 1, 64}, 16, 256, false},   // group 12: one 16-row head chunk, 4 rows unused
    };
    for (const Cfg& k : cfgs) {
        for (int variant = 0; variant < 4; ++variant) {
            const bool devicePlan = variant & 1;
            Case c;
            c.mergeInKernel = variant >= 2;
            c.label = fmt("decode B=17 chunk=%s", k.chunk ? fmt("%d", k.chunk).c_str() : "auto");
            c.reqs = decode_reqs(17, rng, maxLen);
            c.numPrefill = 0;
            c.shape = k.s;
            c.pageSize = k.page;
            c.forceChunk = k.chunk;
            c.fusedQkv = k.fused;
            c.runPrefill = false;
            c.runDecode = true;
            c.devicePlan = devicePlan;
            run_case(c, rng);
        }
    }
    // Decode launch behind prefill requests it must not touch.
    Case c;
    c.label = "decode-only B=2+17";
    c.reqs = {{5, 300}, {40, 40}};
    for (auto& r : decode_reqs(17, rng, maxLen)) c.reqs.push_back(r);
    c.numPrefill = 2;
    c.shape = {32, 8, 128};
    c.pageSize = 16;
    c.forceChunk = 0;
    c.fusedQkv = false;
    c.runPrefill = false;
    c.runDecode = true;
    run_case(c, rng);
}

PS_TEST(attention_prefill) {
    pst::Rng rng(202);
    const bool small = pst::sanitizing();
    // (chunk rows, kv length): prefixes 0 .. 4000, chunks across the 128-packed-row and 64-key edges.
    std::vector<std::pair<int, int>> mixed = {{1, 1}, {7, 7}, {127, 127}, {128, 129}, {129, 1000}, {33, 5000}, {200, 1200}};
    if (!small) mixed.push_back({1000, 5000});
    struct Cfg {
        Shape s;
        int page, chunk;
        bool fused;
    };
    const Cfg cfgs[] = {
        {{8, 2, 128}, 16, 0, false},    // GQA 4, planner split
        {{8, 2, 128}, 1, 256, true},    // page 1, forced splits, fused qkv
        {{8, 1, 64}, 16, 128, false},   // GQA 8, head dim 64
        {{4, 4, 128}, 16, 64, false},   // GQA 1, smallest split
        {{4, 4, 64}, 1, 0, false},      // GQA 1, page 1, head dim 64
        {{32, 1, 128}, 16, 0, false},   // group 32
    };
    for (const Cfg& k : cfgs) {
        Case c;
        c.label = fmt("prefill R=%zu chunk=%s", mixed.size(), k.chunk ? fmt("%d", k.chunk).c_str() : "auto");
        c.reqs = mixed;
        c.numPrefill = (int)mixed.size();
        c.shape = k.s;
        c.pageSize = k.page;
        c.forceChunk = k.chunk;
        c.fusedQkv = k.fused;
        c.runPrefill = true;
        c.runDecode = false;
        run_case(c, rng);
    }
    if (!small) {
        // Benchmark-shaped: a 1024-row chunk after a 4096 prefix, Llama-3 group and head dim.
        for (int chunk : {0, 1024}) {
            Case c;
            c.label = fmt("prefill C=1024 P=4096 chunk=%s", chunk ? "1024" : "auto");
            c.reqs = {{1024, 5120}};
            c.numPrefill = 1;
            c.shape = {8, 2, 128};
            c.pageSize = 16;
            c.forceChunk = chunk;
            c.fusedQkv = false;
            c.runPrefill = true;
            c.runDecode = false;
            run_case(c, rng);
        }
    }
}

// The Hopper prefill's two load paths (TMA boxes per page, cp.async per 16 bytes) on the shapes
// where TMA applies: pages of 8 .. 64 keys, head dims 64 and 128, splits on and off page
// boundaries (80 keys: TMA in every split; 100: cp.async for every split but the first), diagonal
// tiles ending inside a page and past the last one. Elsewhere the maps are ignored and both runs
// take cp.async.
PS_TEST(attention_prefill_load_paths) {
    pst::Rng rng(212);
    const bool small = pst::sanitizing();
    std::vector<std::pair<int, int>> reqs = {{1, 1}, {9, 9}, {63, 70}, {130, 700}, {33, small ? 900 : 4000}};
    struct Cfg {
        Shape s;
        int page, chunk;
    };
    const Cfg cfgs[] = {
        {{8, 2, 128}, 8, 0},  {{8, 2, 128}, 16, 256}, {{8, 2, 128}, 32, 100}, {{8, 2, 128}, 64, 0},
        {{8, 1, 64}, 16, 0},  {{4, 4, 64}, 64, 128},  {{32, 8, 128}, 16, 0},  {{8, 2, 128}, 4, 0},
        {{8, 2, 128}, 16, 80},  // splits on page boundaries off the 64-key grid: TMA in every split
        {{8, 1, 64}, 8, 0},     // the smallest page at head dim 64
    };
    for (const Cfg& k : cfgs) {
        for (bool maps : {true, false}) {
            Case c;
            c.label = fmt("prefill load paths page=%d chunk=%s", k.page, k.chunk ? fmt("%d", k.chunk).c_str() : "auto");
            c.reqs = reqs;
            c.numPrefill = (int)reqs.size();
            c.shape = k.s;
            c.pageSize = k.page;
            c.forceChunk = k.chunk;
            c.fusedQkv = false;
            c.runPrefill = true;
            c.runDecode = false;
            c.tensorMaps = maps;
            run_case(c, rng);
        }
    }
}

PS_TEST(attention_hybrid) {
    pst::Rng rng(303);
    const bool small = pst::sanitizing();
    // A hybrid step: prefill chunks with different prefixes, then 17 decodes; both phases launched
    // back to back into one out buffer, each with its own merge.
    for (int page : {16, 1}) {
        for (int chunk : {0, 192}) {
            Case c;
            c.label = fmt("hybrid 3+17 chunk=%s", chunk ? "192" : "auto");
            c.reqs = {{100, 100}, {64, 2100}, {129, small ? 600 : 3000}};
            for (auto& r : decode_reqs(17, rng, small ? 1000 : 5000)) c.reqs.push_back(r);
            c.numPrefill = 3;
            c.shape = page == 16 ? Shape{32, 8, 128} : Shape{16, 4, 64};
            c.pageSize = page;
            c.forceChunk = chunk;
            c.fusedQkv = page == 1;
            c.runPrefill = true;
            c.runDecode = true;
            run_case(c, rng);
        }
    }
}

PS_TEST(attention_small_head_dims) {
    pst::Rng rng(404);
    const bool small = pst::sanitizing();
    const int maxLen = small ? 600 : 3000;
    std::vector<std::pair<int, int>> mixed = {{1, 1}, {7, 7}, {127, 127}, {128, 129}, {129, 1000}, {33, small ? 600 : 3000}};
    struct Cfg {
        Shape s;
        int page, chunk;
        bool fused;
    };
    // Head dims 16 and 32 (the embedded tiny model, the transformers fixtures): GQA 1/4/8, page 1
    // and 16, planner and forced splits.
    const Cfg cfgs[] = {
        {{4, 4, 16}, 16, 0, false},   {{8, 2, 16}, 1, 256, true},  {{8, 1, 16}, 16, 64, false},
        {{4, 4, 32}, 1, 0, true},     {{8, 2, 32}, 16, 100, false}, {{16, 2, 32}, 16, 0, false},
    };
    for (const Cfg& k : cfgs) {
        Case c;
        c.shape = k.s;
        c.pageSize = k.page;
        c.forceChunk = k.chunk;
        c.fusedQkv = k.fused;
        const std::string chunk = k.chunk ? fmt("%d", k.chunk) : std::string("auto");
        c.label = fmt("decode B=17 chunk=%s", chunk.c_str());
        c.reqs = decode_reqs(17, rng, maxLen);
        c.numPrefill = 0;
        c.runPrefill = false;
        c.runDecode = true;
        run_case(c, rng);
        c.label = fmt("prefill R=%zu chunk=%s", mixed.size(), chunk.c_str());
        c.reqs = mixed;
        c.numPrefill = (int)mixed.size();
        c.runPrefill = true;
        c.runDecode = false;
        run_case(c, rng);
    }
}

PS_TEST(attention_sliding_window) {
    pst::Rng rng(505);
    const bool small = pst::sanitizing();
    const int longLen = small ? 700 : 3000;
    // Windows 1, 7, 16 (the Mistral fixture), 300 (between the 64-key tile and the splits) and one
    // longer than every context (must equal no window). Hybrid steps so both phases and both merges
    // run: prefill chunks after short and long prefixes, then decodes of the usual lengths. Forced
    // split sizes put window starts inside, at and across split and tile edges.
    struct Cfg {
        Shape s;
        int page, chunk;
    };
    const Cfg cfgs[] = {
        {{8, 2, 128}, 16, 0},  {{8, 2, 128}, 1, 64}, {{16, 2, 64}, 16, 100},
        {{8, 1, 32}, 16, 64},  {{4, 4, 16}, 1, 0},   {{8, 2, 16}, 16, 256},
    };
    for (int window : {1, 7, 16, 300, 100000}) {
        for (const Cfg& k : cfgs) {
            Case c;
            c.label = fmt("window hybrid 4+17 chunk=%s", k.chunk ? fmt("%d", k.chunk).c_str() : "auto");
            c.reqs = {{1, 1}, {40, 40}, {129, 700}, {200, longLen}};
            for (auto& r : decode_reqs(17, rng, longLen)) c.reqs.push_back(r);
            c.numPrefill = 4;
            c.shape = k.s;
            c.pageSize = k.page;
            c.forceChunk = k.chunk;
            c.fusedQkv = k.page == 1;
            c.runPrefill = true;
            c.runDecode = true;
            c.window = window;
            c.devicePlan = k.chunk == 0;
            c.mergeInKernel = (&k - cfgs) % 2 == 1;  // page 1, forced 100, 256: splits before the window too
            run_case(c, rng);
        }
    }
}
