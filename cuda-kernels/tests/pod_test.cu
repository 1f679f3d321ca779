// Tests of the fused POD-Attention kernel (attention/pod.cu) on random hybrid batches.
//
// Per batch: plan once (attention_plan.h plan_pod), run the SERIAL kernels with that plan (prefill
// + merge, decode + merge, separate partial buffers) and check them against the float64 reference
// (attention_reference.h tolerance); then, for every policy, poison out and the partials, launch the
// fused kernel (+ the merges) and require the output to EQUAL the serial output bit for bit (each
// logical CTA runs the same device function on the same tile), every logical CTA to have run
// exactly once (ctaLog), and the counters to be back at zero. Then two launches back to back
// without a host sync (the self-reset), and one launch captured in a CUDA graph replayed twice.
// The 4-CTAs-per-SM shape plans its own 64-row prefill tiles, which no standalone kernel runs: its
// output must match the fp64 reference within tolerance, its decode rows must equal the serial
// output bit for bit (same tiles, same order), and its ctaLog and counters are checked the same way.
#include <math.h>

#include <algorithm>

#include <cuda.h>

#include "../attention/attention_params.h"
#include "../attention/attention_plan.h"
#include "../attention/kv_tensor_maps.h"
#include "../attention/pod_params.h"
#include "attention_reference.h"
#include "harness.h"

using pst::DeviceBuffer;
using pst::fmt;
using namespace attn_ref;

namespace {

int num_sms() {
    int dev, n;
    PS_CUDA_CHECK(cudaGetDevice(&dev));
    PS_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
    return n;
}

void launch_on(cudaStream_t st, const char* name, dim3 grid, void* params, size_t smem) {
    cudaKernel_t k = pst::kernel(name, smem);
    void* args[] = {params};
    PS_CUDA_CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, dim3(PS_ATTN_THREADS), args, smem, st));
}

struct PodCase {
    Shape s;
    int page;
    std::vector<std::pair<int, int>> prefills;  // (chunk rows, kv length incl. the chunk)
    std::vector<int> decodes;                   // kv lengths
};

// The fused launch and its merges, as the Java launcher will issue them.
void launch_pod(cudaStream_t st, const ps_attn_plan::PodLaunch& P, PsPodParams pp, int D) {
    if (P.grid > 0)
        launch_on(st, ps_attn_plan::pod_kernel(D, P.ctasPerSm, pp.prefill.kvTensorMaps != nullptr), dim3(P.grid), &pp,
                  P.smemBytes);
    if (P.prefillCtas && P.prefill.needsMerge()) launch_on(st, "ps_attention_merge", dim3(P.prefill.rows, ps_attn_plan::merge_grid_y(pp.prefill.numQoHeads, pp.prefill.headDim)), &pp.prefill, 0);
    if (P.decodeCtas && P.decode.needsMerge()) launch_on(st, "ps_attention_merge", dim3(P.decode.rows, ps_attn_plan::merge_grid_y(pp.decode.numQoHeads, pp.decode.headDim)), &pp.decode, 0);
}

void run_pod_case(const std::string& label, const PodCase& c, pst::Rng& rng, bool extras) {
    const Shape& s = c.s;
    std::vector<std::pair<int, int>> reqs = c.prefills;
    for (int k : c.decodes) reqs.push_back({1, k});
    const int nP = (int)c.prefills.size(), nD = (int)c.decodes.size();
    Batch b = make_batch(reqs, c.page, rng);
    const int64_t stride = (int64_t)s.Hq * s.D;
    Inputs in = make_inputs(b, s, stride, rng.below(2) ? 1.0 : 4.0, rng);
    const int sms = num_sms();
    ps_attn_plan::PodLaunch P = ps_attn_plan::plan_pod(b.qoIndptr.data(), b.kvIndptr.data(), b.lastLen.data(), nP, nD,
                                                       c.page, s.Hq, s.Hkv, s.D, sms, ps_attn_plan::kPodProportional);
    DeviceBuffer<uint16_t> q(in.q), k(in.k), v(in.v), out(std::max<size_t>((size_t)b.T() * stride, 1));
    DeviceBuffer<int32_t> qo(b.qoIndptr), kvp(b.kvIndptr), pages(b.pageIndices), last(b.lastLen);
    DeviceBuffer<int32_t> items(P.prefill.workItems);
    // Separate partial buffers per phase: [rows][maxSplits][Hq][D] and [rows][maxSplits][Hq] fp32.
    DeviceBuffer<float> pO(std::max<size_t>(P.prefill.partialOFloats, 1)), pL(std::max<size_t>(P.prefill.partialLseFloats, 1));
    DeviceBuffer<float> dO(std::max<size_t>(P.decode.partialOFloats, 1)), dL(std::max<size_t>(P.decode.partialLseFloats, 1));
    DeviceBuffer<int32_t> counters(sms + 3);  // zeroed once, as the arena does
    DeviceBuffer<int32_t> ctaLog(std::max(P.grid, 1u));
    PS_CUDA_CHECK(cudaMemset(counters.get(), 0, (sms + 3) * sizeof(int32_t)));

    PsAttentionParams base = {};
    base.q = q.get();
    base.kCache = k.get();
    base.vCache = v.get();
    base.out = out.get();
    base.qoIndptr = qo.get();
    base.kvIndptr = kvp.get();
    base.kvPageIndices = pages.get();
    base.kvLastPageLen = last.get();
    base.qStride = stride;
    base.outStride = stride;
    base.numQoHeads = s.Hq;
    base.numKvHeads = s.Hkv;
    base.headDim = s.D;
    base.pageSize = c.page;
    base.smScale = (float)(1.0 / sqrt((double)s.D));
    // Half the cases give the prefill TMA maps (used where the shape allows; decode ignores them),
    // so the fused kernel's prefill is checked on both load paths.
    ps_kv_maps::DeviceKvMaps maps(k.get(), v.get(), b.numPages, s.Hkv, c.page, s.D);
    base.kvTensorMaps = rng.below(2) ? maps.get() : nullptr;
    if (ps_kv_maps::kv_tensor_maps_apply(s.D, c.page))
        pst::check(fmt("pod %s tensor maps encoded", label.c_str()), maps.get() != nullptr, "cuTensorMapEncodeTiled refused");
    PsPodParams pp = {};
    pp.prefill = base;
    pp.decode = base;
    pp.prefill.partialO = pO.get();
    pp.prefill.partialLse = pL.get();
    pp.decode.partialO = dO.get();
    pp.decode.partialLse = dL.get();
    ps_attn_plan::apply(P.prefill, 0, nP, items.get(), pp.prefill);
    ps_attn_plan::apply(P.decode, nP, nD, nullptr, pp.decode);
    pp.counters = counters.get();
    pp.ctaLog = ctaLog.get();
    ps_attn_plan::apply_pod(P, sms, pp);
    const std::string plan = fmt("P=%d D=%d prefill[splits=%d] decode[splits=%d]", P.prefillCtas, P.decodeCtas,
                                 P.prefill.maxSplits, P.decode.maxSplits);
    auto poison = [&]() {
        out.poison();
        pO.poison();
        pL.poison();
        dO.poison();
        dL.poison();
    };

    // Serial reference run with the same plan.
    poison();
    if (nP) {
        pst::launch(ps_attn_plan::prefill_kernel(s.D, 0, pp.prefill.kvTensorMaps != nullptr),
                    dim3(P.prefill.gridX, P.prefill.gridY), dim3(PS_ATTN_THREADS),
                    pp.prefill, (size_t)P.prefill.smemBytes);
        if (P.prefill.needsMerge()) pst::launch("ps_attention_merge", dim3(P.prefill.rows), dim3(PS_ATTN_THREADS), pp.prefill);
    }
    if (nD) {
        pst::launch(ps_attn_plan::decode_kernel(s.D), dim3(P.decode.gridX, P.decode.gridY), dim3(PS_ATTN_THREADS),
                    pp.decode, (size_t)P.decode.smemBytes);
        if (P.decode.needsMerge()) pst::launch("ps_attention_merge", dim3(P.decode.rows), dim3(PS_ATTN_THREADS), pp.decode);
    }
    const std::vector<uint16_t> serial = out.download();
    const std::string name = fmt("pod %s D=%d Hq=%d Hkv=%d page=%d %dP+%dD %s%s", label.c_str(), s.D, s.Hq, s.Hkv, c.page,
                                 nP, nD, plan.c_str(), base.kvTensorMaps ? " maps" : "");
    std::vector<double> want;
    if (b.T() > 0) {
        want = reference(b, in, s, 1.0 / sqrt((double)s.D), 0, b.R(), stride, 0);
        check_attention(name + " serial vs fp64", serial, want, b.T(), stride, s);
    }

    auto check_log = [&](const std::string& what, int times) {
        std::vector<int32_t> got = ctaLog.download();
        got.resize(P.grid);
        pst::check_ints(what + " ctaLog", got, std::vector<int32_t>(P.grid, times));
        pst::check_ints(what + " counters reset", counters.download(), std::vector<int32_t>(sms + 3, 0));
    };
    for (int policy : {ps_attn_plan::kPodProportional, ps_attn_plan::kPodFiftyFifty, ps_attn_plan::kPodStatic,
                       ps_attn_plan::kPodAuto}) {
        ps_attn_plan::PodLaunch Q = P;
        if (policy == ps_attn_plan::kPodAuto)
            Q = ps_attn_plan::plan_pod(b.qoIndptr.data(), b.kvIndptr.data(), b.lastLen.data(), nP, nD, c.page, s.Hq,
                                       s.Hkv, s.D, sms, ps_attn_plan::kPodAuto);
        else
            Q.policy = policy;
        ps_attn_plan::apply_pod(Q, sms, pp);
        poison();
        ctaLog.poison();
        PS_CUDA_CHECK(cudaMemset(ctaLog.get(), 0, ctaLog.size() * sizeof(int32_t)));
        launch_pod(0, Q, pp, s.D);
        PS_CUDA_CHECK(cudaDeviceSynchronize());
        const std::string what = fmt("%s policy=%s", name.c_str(), ps_attn_plan::pod_policy_name(policy));
        pst::check_bits(what + " == serial", out.download(), serial);
        check_log(what, 1);
    }

    // 4 CTAs per SM: its own plan (64-row prefill items), work items and prefill partials.
    {
        ps_attn_plan::PodLaunch P4 = ps_attn_plan::plan_pod(b.qoIndptr.data(), b.kvIndptr.data(), b.lastLen.data(), nP,
                                                            nD, c.page, s.Hq, s.Hkv, s.D, sms,
                                                            ps_attn_plan::kPodProportional, 0, 0, {}, 4);
        DeviceBuffer<int32_t> items4(P4.prefill.workItems);
        DeviceBuffer<float> pO4(std::max<size_t>(P4.prefill.partialOFloats, 1)),
            pL4(std::max<size_t>(P4.prefill.partialLseFloats, 1));
        DeviceBuffer<int32_t> ctaLog4(std::max(P4.grid, 1u));
        PsPodParams pp4 = pp;
        pp4.prefill.partialO = pO4.get();
        pp4.prefill.partialLse = pL4.get();
        ps_attn_plan::apply(P4.prefill, 0, nP, items4.get(), pp4.prefill);
        pp4.ctaLog = ctaLog4.get();
        const size_t decodeFrom = (size_t)b.qoIndptr[nP] * stride;  // decode rows follow the prefill rows
        const std::vector<uint16_t> serialDecode(serial.begin() + decodeFrom, serial.end());
        for (int policy : {ps_attn_plan::kPodProportional, ps_attn_plan::kPodFiftyFifty, ps_attn_plan::kPodStatic}) {
            ps_attn_plan::PodLaunch Q = P4;
            Q.policy = policy;
            ps_attn_plan::apply_pod(Q, sms, pp4);
            poison();
            pO4.poison();
            pL4.poison();
            PS_CUDA_CHECK(cudaMemset(ctaLog4.get(), 0, ctaLog4.size() * sizeof(int32_t)));
            launch_pod(0, Q, pp4, s.D);
            PS_CUDA_CHECK(cudaDeviceSynchronize());
            const std::string what = fmt("%s ctas/SM=4 P=%d prefill[splits=%d] policy=%s", name.c_str(), Q.prefillCtas,
                                         Q.prefill.maxSplits, ps_attn_plan::pod_policy_name(policy));
            const std::vector<uint16_t> got = out.download();
            if (b.T() > 0) check_attention(what + " vs fp64", got, want, b.T(), stride, s);
            pst::check_bits(what + " decode rows == serial", std::vector<uint16_t>(got.begin() + decodeFrom, got.end()),
                            serialDecode);
            std::vector<int32_t> log = ctaLog4.download();
            log.resize(Q.grid);
            pst::check_ints(what + " ctaLog", log, std::vector<int32_t>(Q.grid, 1));
            pst::check_ints(what + " counters reset", counters.download(), std::vector<int32_t>(sms + 3, 0));
        }
    }
    if (!extras) return;
    ps_attn_plan::apply_pod(P, sms, pp);
    // Two launches in a row on one stream, no host sync: the second relies on the first's reset.
    poison();
    PS_CUDA_CHECK(cudaMemset(ctaLog.get(), 0, ctaLog.size() * sizeof(int32_t)));
    // The poisoning memsets run on the legacy stream, which a non-blocking stream does not wait for:
    // without this sync the log's zeroing could land after the first launch had counted itself.
    PS_CUDA_CHECK(cudaDeviceSynchronize());
    cudaStream_t st;
    PS_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    launch_pod(st, P, pp, s.D);
    launch_pod(st, P, pp, s.D);
    PS_CUDA_CHECK(cudaStreamSynchronize(st));
    pst::check_bits(name + " twice == serial", out.download(), serial);
    check_log(name + " twice", 2);
    // Captured once, replayed twice.
    poison();
    PS_CUDA_CHECK(cudaMemset(ctaLog.get(), 0, ctaLog.size() * sizeof(int32_t)));
    PS_CUDA_CHECK(cudaDeviceSynchronize());
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    PS_CUDA_CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeRelaxed));
    launch_pod(st, P, pp, s.D);
    PS_CUDA_CHECK(cudaStreamEndCapture(st, &graph));
    PS_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    PS_CUDA_CHECK(cudaGraphLaunch(exec, st));
    PS_CUDA_CHECK(cudaGraphLaunch(exec, st));
    PS_CUDA_CHECK(cudaStreamSynchronize(st));
    pst::check_bits(name + " graph x2 == serial", out.download(), serial);
    check_log(name + " graph x2", 2);
    PS_CUDA_CHECK(cudaGraphExecDestroy(exec));
    PS_CUDA_CHECK(cudaGraphDestroy(graph));
    PS_CUDA_CHECK(cudaStreamDestroy(st));
}

// Log-uniform integer in [lo, hi].
int log_uniform(pst::Rng& rng, int lo, int hi) {
    return std::min(hi, (int)exp(rng.uniform(log((double)lo), log((double)hi + 1))));
}

PodCase random_case(pst::Rng& rng, const Shape& s, int page, bool small) {
    PodCase c;
    c.s = s;
    c.page = page;
    const int nP = rng.below(small ? 3 : 9);          // 0..8 chunks
    int rowBudget = small ? 300 : 4096;               // a step's token budget keeps the reference quick
    for (int i = 0; i < nP && rowBudget > 0; ++i) {
        const int chunk = std::min(rowBudget, log_uniform(rng, 1, small ? 200 : 2048));
        const int prefix = rng.below(small ? 600 : 5001);
        rowBudget -= chunk;
        c.prefills.push_back({chunk, prefix + chunk});
    }
    const int nD = rng.below(small ? 21 : 257);       // 0..256 decodes
    long kvBudget = small ? 20000 : 300000;           // KV tokens, for host memory and the reference
    for (int i = 0; i < nD; ++i) {
        int len = (i == 0 && !small && rng.below(2)) ? 16384 : log_uniform(rng, 1, small ? 2000 : 16384);
        len = (int)std::max<long>(1, std::min<long>(len, kvBudget - (nD - i)));
        kvBudget -= len;
        c.decodes.push_back(len);
    }
    return c;
}

}  // namespace

PS_TEST(pod_occupancy) {
    // Each shape's CTAs must co-reside as designed (2 or 4 per SM) at head dims 64 and 128.
    PS_CUDA_CHECK(cudaFree(0));  // the driver calls below need the runtime's context to exist
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult qr;
    PS_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuKernelGetFunction", &fn, 12000, cudaEnableDefault, &qr));
    auto getFunction = reinterpret_cast<CUresult (*)(CUfunction*, CUkernel)>(fn);
    PS_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuOccupancyMaxActiveBlocksPerMultiprocessor", &fn, 12000,
                                                   cudaEnableDefault, &qr));
    auto occupancy = reinterpret_cast<CUresult (*)(int*, CUfunction, int, size_t)>(fn);
    for (int cps : {2, 4}) {
        for (int D : {64, 128}) {
            const int smem = ps_attn_plan::pod_smem(D, cps);
            cudaKernel_t k = pst::kernel(ps_attn_plan::pod_kernel(D, cps), smem);
            CUfunction f;
            int blocks = 0;
            const bool ok = getFunction(&f, (CUkernel)k) == CUDA_SUCCESS &&
                            occupancy(&blocks, f, PS_ATTN_THREADS, (size_t)smem) == CUDA_SUCCESS;
            pst::check(fmt("%s: CTAs per SM >= %d", ps_attn_plan::pod_kernel(D, cps), cps), ok && blocks >= cps,
                       fmt("(%d CTAs/SM at %d B smem)", blocks, smem));
        }
    }
}

PS_TEST(pod_random_batches) {
    pst::Rng rng(606);
    const bool small = pst::sanitizing();
    // GQA 1, 4, 8 at head dims 64 and 128; page sizes 1 and 16.
    const Shape shapes[] = {{4, 4, 128}, {8, 2, 128}, {16, 2, 128}, {4, 4, 64}, {8, 2, 64}, {16, 2, 64}};
    int n = 0;
    for (const Shape& s : shapes) {
        for (int page : {16, 1}) {
            if (small && n >= 2) return;
            PodCase c = random_case(rng, s, page, small);
            run_pod_case(fmt("random#%d", n), c, rng, small || n % 3 == 0);
            ++n;
        }
    }
}

PS_TEST(pod_edge_batches) {
    pst::Rng rng(707);
    const bool small = pst::sanitizing();
    // One phase empty, a single decode beside a long chunk, many tiny prefills, and prefix 5000.
    std::vector<std::pair<std::string, PodCase>> cases;
    cases.push_back({"decode-only", {{8, 2, 128}, 16, {}, {1, 7, 127, 128, 129, 1000, small ? 1500 : 5000}}});
    cases.push_back({"prefill-only", {{8, 2, 128}, 16, {{129, 1000}, {1, 1}}, {}}});
    cases.push_back({"1 decode + long chunk", {{8, 2, 128}, 1, {{small ? 200 : 2048, small ? 700 : 7048}}, {small ? 900 : 16384}}});
    PodCase tiny{{16, 2, 64}, 16, {}, {}};
    for (int i = 0; i < 8; ++i) tiny.prefills.push_back({1 + rng.below(8), 1 + rng.below(small ? 300 : 5000) + 8});
    for (int i = 0; i < (small ? 10 : 64); ++i) tiny.decodes.push_back(1 + rng.below(small ? 500 : 4000));
    cases.push_back({"8 tiny prefills", tiny});
    for (auto& kc : cases) {
        for (auto& pr : kc.second.prefills) pr.second = std::max(pr.second, pr.first);
        run_pod_case(kc.first, kc.second, rng, true);
    }
}
