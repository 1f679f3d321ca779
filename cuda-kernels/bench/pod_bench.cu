// Kernel sweep of POD-Attention (the paper's Fig. 11 on one GPU): the fused kernel with each policy
// against the serial launches (standalone prefill + merge, then decode + merge), the same two on
// two streams, and ideal = max(prefill alone, decode alone) from the same standalone kernels.
//
// Shapes: Llama-3-8B attention (32 q heads, 8 kv heads, d 128) and Yi-6B (32/4/128), bf16, page 16.
// Points: chunk C in {512, 1024, 2048}, context L in {4K, 8K, 12K, 16K}, every chunk position of a
// prompt of L tokens (prefix P = i * C, i = 0 .. L/C - 1; --stride N keeps every Nth), and B
// decodes all at context L, B = 90% and 100% (PS_POD_FRACS) of the KV tokens that fit in the card's memory after
// 16 GB of 8B weights and 4 GB of activations (all 32 layers; the benchmark runs one layer).
// Timing: CUDA events around each mode, 3 warm-ups then the median of 10 runs, the modes of a point
// run in turn, one run of each per round in an order drawn anew each round (--timing interleaved:
// the same order every round; blocked: each mode's runs back to back); the L2
// is flushed (a 256 MB memset, outside the timed region) before every run, for every mode alike.
//
// Usage: pod_bench [--fatbin F] [--json OUT] [--pytorch-list PREFIX] [--stride N] [--pytorch-stride N]
//                  [--point model:C:P:frac:L] [--modes alone,serial,streams,pod] [--trace-dir D]
//                  [--timing shuffled|interleaved|blocked] [--ab-fatbin F2]
//                  (--point: one point, for ncu)
// Modes: alone (each phase's standalone kernels: the ideal), serial, streams, pod (every policy at 2
// CTAs per SM, auto, and the fixed policies at 4 CTAs per SM: rows with "ctas_per_sm": 4; "pod4"
// alone gives only those), and three diagnostics: half (each phase alone at one CTA per SM), diag (see
// run_point) and trace (per-CTA timelines into --trace-dir; needs a fatbin built with -DPS_POD_TRACE).
// --ab-fatbin F2: every timed row once more with F2's kernels (mode "<mode>@B"), in the same rounds:
// an A/B comparison of two kernel builds free of the drift between processes.
// Environment: PS_POD_POINTS="model:C:P:B:L,..." times those points (B decodes outright) instead of
// the grid; PS_POD_TUNINGS split-rule variants; PS_POD_FRACS decode fractions; PS_POD_TMA=1 TMA maps.
// --pytorch-list writes PREFIX-llama.txt / PREFIX-yi.txt: the C:P:B:L points for
// bench/pytorch_sdpa_baseline.py (PS_HKV=8 / 4), every --pytorch-stride'th chunk position.
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../attention/attention_params.h"
#include "../attention/attention_plan.h"
#include "../attention/kv_tensor_maps.h"
#include "../attention/pod_params.h"
#include "podserve_common.cuh"
#include "pod_bench_ctx.h"
#include "pod_bench_trace.h"

namespace {

using namespace pod_bench;

std::string traceDir = ".";  // --trace-dir, for mode "trace"

struct Row {
    std::string model, mode, policy;
    int chunk, prefix, decodes, context, prefillCtas, decodeCtas;
    double frac, ms;
    int ctasPerSm = 2;  // the fused kernel's shape (standalone rows: 2, their own occupancy)
};

// "a,b,c" -> {"a", "b", "c"}; "" -> {}.
std::vector<std::string> split_commas(const std::string& list) {
    std::vector<std::string> items;
    for (size_t start = 0; start < list.size();) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        items.push_back(list.substr(start, comma - start));
        start = comma + 1;
    }
    return items;
}

// PS_POD_TUNINGS="name:decodeRounds:prefillRule:prefillRounds,...": plan_pod split-rule variants
// timed beside the default plan (rows with policy "<policy>@name").
const std::vector<std::pair<std::string, ps_attn_plan::PodTuning>>& tunings() {
    static std::vector<std::pair<std::string, ps_attn_plan::PodTuning>> list = [] {
        std::vector<std::pair<std::string, ps_attn_plan::PodTuning>> v;
        const char* env = getenv("PS_POD_TUNINGS");
        for (const std::string& item : split_commas(env ? env : "")) {
            char name[32];
            ps_attn_plan::PodTuning t;
            if (sscanf(item.c_str(), "%31[^:]:%d:%d:%d", name, &t.decodeRounds, &t.prefillRule, &t.prefillRounds) == 4) {
                t.smallDecodeRounds = t.decodeRounds;  // a variant's rounds hold at every batch size
                v.push_back({name, t});
            } else {
                fprintf(stderr, "bad PS_POD_TUNINGS item %s (name:decodeRounds:prefillRule:prefillRounds)\n",
                        item.c_str());
                exit(2);  // a variant silently left out would read as measured
            }
        }
        return v;
    }();
    return list;
}

// The decode batch sizes, as fractions of the KV capacity: the issue's 90% and 100%, or
// PS_POD_FRACS="0.02,0.05,..." for prefill-heavy batches (few decodes beside the chunk); PS_POD_POINTS
// (in main) replaces the grid by explicit points.
std::vector<double> fracs() {
    std::vector<double> v;
    const char* env = getenv("PS_POD_FRACS");
    for (const std::string& f : split_commas(env ? env : "0.9,1.0")) v.push_back(atof(f.c_str()));
    return v;
}

struct Point {
    const Model* m;
    int C, P, B, L;
    double frac;
};

void run_point(Ctx& c, const Point& pt, const std::vector<std::string>& modes, std::vector<Row>& rows, std::mt19937& rng) {
    const int hkv = pt.m->hkv;
    std::vector<int32_t> qo{0, pt.C}, kvp{0}, last;
    auto add = [&](int kv) {
        const int n = (kv + kPage - 1) / kPage;
        kvp.push_back(kvp.back() + n);
        last.push_back(kv - (n - 1) * kPage);
    };
    add(pt.P + pt.C);
    for (int i = 0; i < pt.B; ++i) {
        qo.push_back(qo.back() + 1);
        add(pt.L);
    }
    const int pages = kvp.back();
    const size_t poolPages = c.cacheElems / ((size_t)hkv * kPage * kD);
    if ((size_t)pages > poolPages) {
        fprintf(stderr, "pool too small\n");
        exit(2);
    }
    std::vector<int32_t> perm(poolPages);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    perm.resize(pages);
    int32_t *dQo = upload(qo), *dKvp = upload(kvp), *dLast = upload(last), *dPages = upload(perm);
    const int R = 1 + pt.B;
    using namespace ps_attn_plan;
    // Standalone plans for serial / streams / alone; the pod plan for the fused modes.
    Launch SP = plan_prefill(qo.data(), kvp.data(), last.data(), 0, 1, kPage, kHq, hkv, kD, c.sms);
    Launch SD = plan_decode(qo.data(), kvp.data(), last.data(), 1, pt.B, kPage, kHq, hkv, kD, c.sms);
    PodLaunch PL = plan_pod(qo.data(), kvp.data(), last.data(), 1, pt.B, kPage, kHq, hkv, kD, c.sms, kPodProportional);
    // Every plan timed here must fit the preallocated partial buffers.
    auto require_partials = [&](const Launch& L, const char* what) {
        if (L.partialOFloats > c.partOCap || L.partialLseFloats > c.partLCap) {
            fprintf(stderr, "partials too small for %s\n", what);
            exit(2);
        }
    };
    for (const Launch* L : {&SP, &SD, &PL.prefill, &PL.decode}) require_partials(*L, "the default plans");
    int32_t* dItemsS = upload(SP.workItems);
    int32_t* dItemsP = upload(PL.prefill.workItems);
    PsAttentionParams base = {};
    base.q = c.q;
    base.kCache = c.k;
    base.vCache = c.v;
    base.out = c.out;
    base.qoIndptr = dQo;
    base.kvIndptr = dKvp;
    base.kvPageIndices = dPages;
    base.kvLastPageLen = dLast;
    base.qStride = base.outStride = (int64_t)kHq * kD;
    base.numQoHeads = kHq;
    base.numKvHeads = hkv;
    base.headDim = kD;
    base.pageSize = kPage;
    base.smScale = 1.0f / sqrtf((float)kD);
    base.kvTensorMaps = c.kv_maps(pt.m->hkv);
    PsAttentionParams sp = base, sd = base;
    sp.partialO = c.pO;
    sp.partialLse = c.pL;
    sd.partialO = c.dO;
    sd.partialLse = c.dL;
    apply(SP, 0, 1, dItemsS, sp);
    apply(SD, 1, pt.B, nullptr, sd);
    PsPodParams pp = {};
    pp.prefill = sp;
    pp.decode = sd;
    apply(PL.prefill, 0, 1, dItemsP, pp.prefill);
    apply(PL.decode, 1, pt.B, nullptr, pp.decode);
    pp.counters = c.counters;
    (void)R;

    // A phase's split-KV merge, when plan L split it.
    auto merge = [&](cudaStream_t st, const Launch& L, PsAttentionParams& prm) {
        if (L.needsMerge()) c.launch(st, merge_kernel(), dim3(L.rows, merge_grid_y(prm.numQoHeads, prm.headDim)), 0, &prm);
    };
    // One standalone phase: its kernel on plan L with `smem` bytes of shared memory, then its merge.
    auto phase = [&](cudaStream_t st, const char* kernel, const Launch& L, int smem, PsAttentionParams& prm) {
        c.launch(st, kernel, dim3(L.gridX, L.gridY), smem, &prm);
        merge(st, L, prm);
    };
    const bool tma = base.kvTensorMaps != nullptr;  // PS_POD_TMA=1: the _tma entry points
    auto prefill = [&](cudaStream_t st) { phase(st, prefill_kernel(kD, 0, tma), SP, SP.smemBytes, sp); };
    auto decode = [&](cudaStream_t st) { phase(st, decode_kernel(kD), SD, SD.smemBytes, sd); };
    // The two standalone launches on two streams, forked from and joined back into s0.
    auto streams = [&]() {
        PS_CUDA_CHECK(cudaEventRecord(c.ea, c.s0));
        PS_CUDA_CHECK(cudaStreamWaitEvent(c.s1, c.ea));
        PS_CUDA_CHECK(cudaStreamWaitEvent(c.s2, c.ea));
        prefill(c.s1);
        decode(c.s2);
        PS_CUDA_CHECK(cudaEventRecord(c.ea, c.s1));
        PS_CUDA_CHECK(cudaEventRecord(c.eb, c.s2));
        PS_CUDA_CHECK(cudaStreamWaitEvent(c.s0, c.ea));
        PS_CUDA_CHECK(cudaStreamWaitEvent(c.s0, c.eb));
    };
    const PodLaunch PA = plan_pod(qo.data(), kvp.data(), last.data(), 1, pt.B, kPage, kHq, hkv, kD, c.sms, kPodAuto, 0, 0,
                                  PodTuning(), 0);
    // The 4-CTAs-per-SM shape, with its own 64-row prefill work list (as auto's may be).
    const PodLaunch P4 = plan_pod(qo.data(), kvp.data(), last.data(), 1, pt.B, kPage, kHq, hkv, kD, c.sms,
                                  kPodProportional, 0, 0, PodTuning(), 4);
    for (const Launch* L : {&PA.prefill, &PA.decode, &P4.prefill, &P4.decode}) require_partials(*L, "auto / 4 CTAs per SM");
    int32_t* dItemsA = upload(PA.prefill.workItems);
    int32_t* dItems4 = upload(P4.prefill.workItems);
    // Split-rule variants (PS_POD_TUNINGS), each with its own work list.
    std::vector<PodLaunch> TL;
    std::vector<int32_t*> dItemsT;
    for (const auto& t : tunings()) {
        TL.push_back(plan_pod(qo.data(), kvp.data(), last.data(), 1, pt.B, kPage, kHq, hkv, kD, c.sms, kPodProportional,
                              0, 0, t.second));
        for (const Launch* L : {&TL.back().prefill, &TL.back().decode}) require_partials(*L, t.first.c_str());
        dItemsT.push_back(upload(TL.back().prefill.workItems));
    }
    // One fused launch of plan Q (its prefill work list at items), then each phase's merge.
    auto pod_plan = [&](const PodLaunch& Q, const int32_t* items) {
        apply(Q.prefill, 0, 1, items, pp.prefill);
        apply(Q.decode, 1, pt.B, nullptr, pp.decode);
        apply_pod(Q, c.sms, pp);
        c.launch(c.s0, pod_kernel(kD, Q.ctasPerSm, tma), dim3(Q.grid), Q.smemBytes, &pp);
        merge(c.s0, Q.prefill, pp.prefill);
        merge(c.s0, Q.decode, pp.decode);
    };
    // Policy `policy` on the 2-CTA plan, or on the 4-CTA plan with ctas 4; auto plans its own.
    auto pod = [&](int policy, int ctas) {
        PodLaunch Q = ctas == 4 ? P4 : PL;
        if (policy == kPodAuto) Q = PA; else Q.policy = policy;
        if (!Q.fused) {  // auto's advice: the standalone kernels, as the serial or streams mode runs them
            if (Q.fallbackStreams) {
                streams();
            } else {
                prefill(c.s0);
                decode(c.s0);
            }
            return;
        }
        pod_plan(Q, policy == kPodAuto ? dItemsA : Q.ctasPerSm == 4 ? dItems4 : dItemsP);
    };
    // Each row's issue function, timed together at the end of the point (Ctx::time_all).
    const size_t firstRow = rows.size();
    std::vector<std::function<void()>> jobs;
    // ctas: the fused plan's shape for "pod" rows (its CTA counts are reported).
    auto add_row = [&](const std::string& mode, const std::string& policy, std::function<void()> issue,
                       int ctas = 2) {
        const PodLaunch& Q = ctas == 4 ? P4 : PL;
        const bool podMode = mode == "pod";
        rows.push_back({pt.m->name, mode, policy, pt.C, pt.P, pt.B, pt.L,
                        podMode ? Q.prefillCtas : (int)(SP.gridX * SP.gridY),
                        podMode ? Q.decodeCtas : (int)(SD.gridX * SD.gridY), pt.frac, 0.0, ctas});
        jobs.push_back(std::move(issue));
    };
    auto want = [&](const char* m) { return std::find(modes.begin(), modes.end(), m) != modes.end(); };
    if (want("alone")) {
        add_row("prefill_alone", "", [&] { prefill(c.s0); });
        add_row("decode_alone", "", [&] { decode(c.s0); });
    }
    // Each phase alone with one CTA per SM (shared memory padded past half the SM's): the rate a
    // phase keeps when the other phase holds the SM's second slot, minus their contention.
    if (want("half")) {
        constexpr int kHalfSmem = 120 * 1024;
        add_row("prefill_half", "", [&] { phase(c.s0, prefill_kernel(kD, 0, tma), SP, kHalfSmem, sp); });
        add_row("decode_half", "", [&] { phase(c.s0, decode_kernel(kD), SD, kHalfSmem, sd); });
    }
    // Where the fused kernel loses (mode "diag"): the fused kernel with one phase's work only, to
    // compare with that phase's standalone kernel (what the fused launch costs a phase by itself),
    // and the standalone decode on the fused plan's splits.
    if (want("diag")) {
        // The fused launch with the other phase's CTAs (and merge) left out.
        // Captured by value below: the rows' jobs run after this block, in Ctx::time_all.
        auto one_phase = [&](bool prefillOnly) {
            PodLaunch Q = PL;
            (prefillOnly ? Q.decodeCtas : Q.prefillCtas) = 0;
            (prefillOnly ? Q.decode : Q.prefill).maxSplits = 1;
            Q.grid = Q.prefillCtas + Q.decodeCtas;
            pod_plan(Q, dItemsP);
        };
        add_row("pod_prefill_only", "", [one_phase] { one_phase(true); });
        add_row("pod_decode_only", "", [one_phase] { one_phase(false); });
        add_row("decode_pod_plan", "", [&] {
            apply(PL.decode, 1, pt.B, nullptr, pp.decode);  // whatever job ran before left its own plan there
            phase(c.s0, decode_kernel(kD), PL.decode, PL.decode.smemBytes, pp.decode);
        });
    }
    if (want("serial")) add_row("serial", "", [&] { prefill(c.s0); decode(c.s0); });
    if (want("streams")) add_row("streams", "", [&] { streams(); });
    if (want("pod"))
        for (int policy : {kPodProportional, kPodFiftyFifty, kPodStatic, kPodAuto}) {
            const std::string name = policy == kPodAuto
                ? std::string("auto:") + (PA.fused ? pod_policy_name(PA.policy) : PA.fallbackStreams ? "streams" : "serial")
                : pod_policy_name(policy);
            add_row("pod", name, [&, policy] { pod(policy, 2); }, policy == kPodAuto ? PA.ctasPerSm : 2);
        }
    // The 4-CTAs-per-SM shape under each fixed policy (mode "pod4", or with "pod").
    if (want("pod") || want("pod4"))
        for (int policy : {kPodProportional, kPodFiftyFifty, kPodStatic})
            add_row("pod", pod_policy_name(policy), [&, policy] { pod(policy, 4); }, 4);
    if (want("pod"))
        for (size_t t = 0; t < TL.size(); ++t)
            for (int policy : {kPodProportional, kPodFiftyFifty}) {
                PodLaunch Q = TL[t];
                Q.policy = policy;
                rows.push_back({pt.m->name, "pod", std::string(pod_policy_name(policy)) + "@" + tunings()[t].first, pt.C,
                                pt.P, pt.B, pt.L, Q.prefillCtas, Q.decodeCtas, pt.frac, 0.0});
                jobs.push_back([&, Q, t] { pod_plan(Q, dItemsT[t]); });
            }
    // --ab-fatbin: every row again on the second build's kernels (mode "<mode>@B"), timed in the
    // same rounds, so the two builds are compared without a process or an hour between them.
    if (c.libB) {
        const size_t n = jobs.size();
        for (size_t j = 0; j < n; ++j) {
            Row r = rows[firstRow + j];
            r.mode += "@B";
            rows.push_back(r);
            jobs.push_back([&c, issue = jobs[j]] {
                c.useB = true;
                issue();
                c.useB = false;
            });
        }
    }
    const std::vector<double> ms = c.time_all(jobs);
    for (size_t j = 0; j < ms.size(); ++j) rows[firstRow + j].ms = ms[j];
    // Mode "trace" (a fatbin built with -DPS_POD_TRACE): one launch of auto's plan, and of each
    // PS_POD_TUNINGS variant under proportional tickets, with every CTA's SM, work and start / end
    // times written to --trace-dir as CSV (bench/pod_trace.py reads them).
    if (want("trace")) {
        const std::string base = traceDir + "/" + pt.m->name + "-" + std::to_string(pt.C) + "-" + std::to_string(pt.P) +
                                 "-" + std::to_string(pt.B) + "-" + std::to_string(pt.L) + "-";
        write_pod_trace(c, base + "auto.csv", PA, [&] { pod_plan(PA, dItemsA); });
        for (size_t t = 0; t < TL.size(); ++t)
            write_pod_trace(c, base + tunings()[t].first + ".csv", TL[t], [&] { pod_plan(TL[t], dItemsT[t]); });
    }
    PS_CUDA_CHECK(cudaGetLastError());
    for (int32_t* p : {dQo, dKvp, dLast, dPages, dItemsS, dItemsP, dItemsA, dItems4}) cudaFree(p);
    for (int32_t* p : dItemsT) cudaFree(p);
}

}  // namespace

int main(int argc, char** argv) {
    const char* fatbin = "build/podserve.fatbin";
    const char* json = nullptr;
    const char* ptList = nullptr;
    const char* abFatbin = nullptr;
    std::string point, modesArg = "alone,serial,streams,pod";
    int stride = 1, ptStride = 4;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--fatbin") && i + 1 < argc) fatbin = argv[++i];
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else if (!strcmp(argv[i], "--pytorch-list") && i + 1 < argc) ptList = argv[++i];
        else if (!strcmp(argv[i], "--stride") && i + 1 < argc) stride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pytorch-stride") && i + 1 < argc) ptStride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--point") && i + 1 < argc) point = argv[++i];
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc) modesArg = argv[++i];
        else if (!strcmp(argv[i], "--trace-dir") && i + 1 < argc) traceDir = argv[++i];
        else if (!strcmp(argv[i], "--timing") && i + 1 < argc) {
            const std::string t = argv[++i];
            if (t != "blocked" && t != "interleaved" && t != "shuffled") {
                fprintf(stderr, "--timing takes shuffled, interleaved or blocked, not %s\n", t.c_str());
                return 2;
            }
            timing = t == "shuffled" ? Timing::Shuffled : t == "interleaved" ? Timing::Interleaved : Timing::Blocked;
        }
        else if (!strcmp(argv[i], "--ab-fatbin") && i + 1 < argc) abFatbin = argv[++i];
        else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const std::vector<std::string> modes = split_commas(modesArg);
    cudaDeviceProp prop;
    PS_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    Ctx c;
    c.card = prop.name;
    c.sms = prop.multiProcessorCount;
    c.totalMem = prop.totalGlobalMem;
    PS_CUDA_CHECK(cudaLibraryLoadFromFile(&c.lib, fatbin, nullptr, nullptr, 0, nullptr, nullptr, 0));
    if (abFatbin) PS_CUDA_CHECK(cudaLibraryLoadFromFile(&c.libB, abFatbin, nullptr, nullptr, 0, nullptr, nullptr, 0));
    static const Model models[] = {{"llama-3-8b", 8}, {"yi-6b", 4}};
    // Pool: the largest batch of either model (100% decodes at 4K + a 16K prompt), in elements.
    size_t maxElems = 0, maxRows = 0;
    for (const Model& m : models) {
        const long tok = kv_tokens(c, m) + 16384 + 64 * kPage;
        maxElems = std::max(maxElems, (size_t)(tok / kPage + 64) * m.hkv * kPage * kD);
        maxRows = std::max(maxRows, (size_t)(kv_tokens(c, m) / 4096 + 2048 + 1));
    }
    c.cacheElems = maxElems;
    c.k = dalloc<uint16_t>(maxElems);
    c.v = dalloc<uint16_t>(maxElems);
    c.q = dalloc<uint16_t>(maxRows * kHq * kD);
    c.out = dalloc<uint16_t>(maxRows * kHq * kD);
    c.partOCap = maxRows * 16 * kHq * kD;
    c.partLCap = maxRows * 16 * kHq;
    c.pO = dalloc<float>(c.partOCap);
    c.pL = dalloc<float>(c.partLCap);
    c.dO = dalloc<float>(c.partOCap);
    c.dL = dalloc<float>(c.partLCap);
    c.counters = dalloc<int32_t>(c.sms + 3);
    PS_CUDA_CHECK(cudaMemset(c.counters, 0, (c.sms + 3) * 4));
    c.flush = dalloc<uint8_t>(256u << 20);
    fill_random<<<4096, 256>>>(c.k, maxElems, 1);
    fill_random<<<4096, 256>>>(c.v, maxElems, 2);
    fill_random<<<1024, 256>>>(c.q, maxRows * kHq * kD, 3);
    PS_CUDA_CHECK(cudaStreamCreateWithFlags(&c.s0, cudaStreamNonBlocking));
    PS_CUDA_CHECK(cudaStreamCreateWithFlags(&c.s1, cudaStreamNonBlocking));
    PS_CUDA_CHECK(cudaStreamCreateWithFlags(&c.s2, cudaStreamNonBlocking));
    for (cudaEvent_t* e : {&c.e0, &c.e1}) PS_CUDA_CHECK(cudaEventCreate(e));
    for (cudaEvent_t* e : {&c.ea, &c.eb}) PS_CUDA_CHECK(cudaEventCreateWithFlags(e, cudaEventDisableTiming));
    PS_CUDA_CHECK(cudaDeviceSynchronize());
    printf("device: %s (%d SMs, %.1f GB), KV tokens: llama %ld, yi %ld\n", prop.name, c.sms, c.totalMem / 1e9,
           kv_tokens(c, models[0]), kv_tokens(c, models[1]));

    // A point's model by name ("llama-3-8b" or "yi-6b", or the short "llama" / "yi"); an unknown
    // name is an error, not silently the first model.
    auto find_model = [&](const std::string& name) -> const Model* {
        if (name == "llama-3-8b" || name == "llama") return &models[0];
        if (name == "yi-6b" || name == "yi") return &models[1];
        fprintf(stderr, "unknown model %s (llama-3-8b or llama, yi-6b or yi)\n", name.c_str());
        return nullptr;
    };
    std::vector<Point> points;
    if (!point.empty()) {
        kWarm = kReps = 1;
        char name[32];
        Point p;
        if (sscanf(point.c_str(), "%31[^:]:%d:%d:%lf:%d", name, &p.C, &p.P, &p.frac, &p.L) != 5) return 2;
        if (!(p.m = find_model(name))) return 2;
        p.B = (int)(p.frac * kv_tokens(c, *p.m) / p.L);
        points.push_back(p);
    } else if (const char* env = getenv("PS_POD_POINTS")) {
        // PS_POD_POINTS="model:C:P:B:L,...": these points instead of the grid, B decodes given outright
        // (serving-sized batches, which the grid's 90-100% of KV capacity never has), timed as the grid.
        for (const std::string& item : split_commas(env)) {
            char name[32];
            Point p;
            if (sscanf(item.c_str(), "%31[^:]:%d:%d:%d:%d", name, &p.C, &p.P, &p.B, &p.L) != 5) return 2;
            if (!(p.m = find_model(name))) return 2;
            p.frac = (double)p.B * p.L / kv_tokens(c, *p.m);
            points.push_back(p);
        }
    } else {
        for (const Model& m : models)
            for (int C : {512, 1024, 2048})
                for (int L : {4096, 8192, 12288, 16384})
                    for (double frac : fracs())
                        for (int i = 0; i * C < L; i += stride)
                            points.push_back({&m, C, i * C, std::max(1, (int)(frac * kv_tokens(c, m) / L)), L, frac});
    }
    if (ptList) {
        for (const Model& m : models) {
            FILE* f = fopen((std::string(ptList) + "-" + (m.hkv == 8 ? "llama" : "yi") + ".txt").c_str(), "w");
            for (const Point& p : points)
                if (p.m == &m && (p.P / p.C) % ptStride == 0) fprintf(f, "%d:%d:%d:%d\n", p.C, p.P, p.B, p.L);
            fclose(f);
        }
    }
    std::vector<Row> rows;
    std::mt19937 rng(11);
    for (size_t i = 0; i < points.size(); ++i) {
        run_point(c, points[i], modes, rows, rng);
        if (i % 20 == 0) {
            printf("%zu/%zu points\n", i + 1, points.size());
            fflush(stdout);
        }
    }
    if (json) {
        FILE* f = fopen(json, "w");
        fprintf(f, "[\n");
        for (size_t i = 0; i < rows.size(); ++i) {
            const Row& r = rows[i];
            fprintf(f,
                    "  {\"model\": \"%s\", \"chunk\": %d, \"prefix\": %d, \"decodes\": %d, \"context\": %d, "
                    "\"kv_fraction\": %.2f, \"mode\": \"%s\", \"policy\": \"%s\", \"ctas_per_sm\": %d, \"ms\": %.5f, "
                    "\"prefill_ctas\": %d, \"decode_ctas\": %d, \"card\": \"%s\"}%s\n",
                    r.model.c_str(), r.chunk, r.prefix, r.decodes, r.context, r.frac, r.mode.c_str(), r.policy.c_str(),
                    r.ctasPerSm, r.ms, r.prefillCtas, r.decodeCtas, c.card.c_str(), i + 1 < rows.size() ? "," : "");
        }
        fprintf(f, "]\n");
        fclose(f);
        printf("wrote %s (%zu rows)\n", json, rows.size());
    } else {
        for (const Row& r : rows)
            printf("%s C=%d P=%d B=%d L=%d %s %s ctas/SM=%d %.4f ms\n", r.model.c_str(), r.chunk, r.prefix, r.decodes,
                   r.context, r.mode.c_str(), r.policy.c_str(), r.ctasPerSm, r.ms);
    }
    return 0;
}
