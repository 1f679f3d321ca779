// Benchmark of the standalone attention kernels with Llama-3-8B shapes (32 query heads, 8 kv heads,
// head dim 128, bf16, page 16), loaded from build/podserve.fatbin as the Java side loads them.
//
//   decode  B in {16, 32, 64, 128} x L in {1024, 4096, 8192}: TB/s of K/V + q/o bytes
//   prefill C in {512, 1024, 2048} x P in {0, 4096, 12288}:    TFLOP/s, causal FLOPs
//           4 * Hq * d * (C * P + C (C + 1) / 2)
// Each row is the planner's choice (attention_plan.h); forced split variants follow as extra rows
// so the split rule can be checked against measurements. Time = median of 30 event-timed runs
// after 3 warm-ups, attention kernel plus merge when split. Runs rotate over 3 disjoint page sets
// so a repeat never finds its K/V in the 50 MB L2.
//
// Usage: attention_bench [--fatbin build/podserve.fatbin] [--json out.json] [--only decode|prefill]
//                        [--tag NAME]   (NAME is appended to the kernel column, for variant builds)
//                        [--decode-sweep]
// --decode-sweep: the data the decode split rule is fitted to instead. Decode batches of B requests
// at L keys (B 1-128, L 1K-32K, B x L <= 2M keys) and of B requests at lengths drawn from [128, 2L)
// ("mixed"), each timed at every split count the planner considers (1-16, pieces >= 256 keys) and
// at the planner's own choice, with split rows merged inside the decode kernel as the backend runs
// it (mergeCounters). 15 timed runs per row. --only does not apply to it.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../attention/attention_params.h"
#include "../attention/attention_plan.h"
#include "bench_device.cuh"
#include "podserve_common.cuh"

namespace {

constexpr int kHq = 32, kHkv = 8, kD = 128, kPage = 16;
constexpr int kSets = 3, kWarm = 3, kReps = 30;
constexpr int kCounters = 1024;  // --decode-sweep's merge counters: one per decode CTA column (128 requests x 8 kv heads)

using bench::dalloc;
using bench::fill_random;

struct Kernels {
    cudaLibrary_t lib;
    cudaKernel_t get(const char* name, int smem) {
        cudaKernel_t k;
        PS_CUDA_CHECK(cudaLibraryGetKernel(&k, lib, name));
        if (smem > 48 * 1024) {
            PS_CUDA_CHECK(cudaKernelSetAttributeForDevice(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem, 0));
        }
        return k;
    }
};

void launch(cudaKernel_t k, dim3 grid, int smem, PsAttentionParams p) {
    void* args[] = {&p};
    PS_CUDA_CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, dim3(PS_ATTN_THREADS), args, smem, 0));
}

struct Row {
    std::string config, kernel, variant;
    double ms, rate;  // rate: TB/s (decode) or TFLOP/s (prefill)
    bool planner;
};

struct Bench {
    Kernels ks;
    std::string card;
    int sms;
    // Shared pool: kSets disjoint page sets, each large enough for the biggest configuration.
    int pagesPerSet;
    uint16_t *kCache, *vCache, *q, *out;
    float *partialO, *partialLse;
    size_t partialOCap, partialLseCap;
    int32_t* mergeCounters = nullptr;  // int32 [kCounters] zeroed; non-null: decode merges in-kernel
    int reps = kReps;
    std::vector<Row> rows;
    std::mt19937 rng{7};

    // Times one phase over a single-kind batch of `reqs` (qlen, kvLen); forceChunk as in the planner.
    double time_phase(bool decode, const std::vector<std::pair<int, int>>& reqs, int forceChunk, std::string* plan) {
        std::vector<int32_t> qo{0}, kvp{0}, last;
        int pages = 0;
        for (auto& r : reqs) {
            qo.push_back(qo.back() + r.first);
            const int n = (r.second + kPage - 1) / kPage;
            pages += n;
            kvp.push_back(pages);
            last.push_back(r.second - (n - 1) * kPage);
        }
        if (pages > pagesPerSet) {
            fprintf(stderr, "page pool too small\n");
            exit(2);
        }
        const int R = (int)reqs.size();
        ps_attn_plan::Launch L =
            decode ? ps_attn_plan::plan_decode(qo.data(), kvp.data(), last.data(), 0, R, kPage, kHq, kHkv, kD, sms,
                                               forceChunk)
                   : ps_attn_plan::plan_prefill(qo.data(), kvp.data(), last.data(), 0, R, kPage, kHq, kHkv, kD, sms,
                                                forceChunk);
        if (L.needsMerge() && (L.partialOFloats > partialOCap || L.partialLseFloats > partialLseCap)) {
            fprintf(stderr, "partial workspace too small\n");
            exit(2);
        }
        *plan = fmt_plan(L);
        // One shuffled page table per set; the sets never share a page.
        std::vector<int32_t*> dPages(kSets);
        for (int s = 0; s < kSets; ++s) {
            std::vector<int32_t> perm(pagesPerSet);
            std::iota(perm.begin(), perm.end(), s * pagesPerSet);
            std::shuffle(perm.begin(), perm.end(), rng);
            dPages[s] = dalloc<int32_t>(pages);
            PS_CUDA_CHECK(cudaMemcpy(dPages[s], perm.data(), pages * sizeof(int32_t), cudaMemcpyHostToDevice));
        }
        int32_t* dQo = upload(qo);
        int32_t* dKvp = upload(kvp);
        int32_t* dLast = upload(last);
        int32_t* dItems = upload(L.workItems);
        PsAttentionParams p = {};
        p.q = q;
        p.kCache = kCache;
        p.vCache = vCache;
        p.out = out;
        p.qoIndptr = dQo;
        p.kvIndptr = dKvp;
        p.kvLastPageLen = dLast;
        p.partialO = partialO;
        p.partialLse = partialLse;
        p.qStride = kHq * kD;
        p.outStride = kHq * kD;
        p.numQoHeads = kHq;
        p.numKvHeads = kHkv;
        p.headDim = kD;
        p.pageSize = kPage;
        p.smScale = 1.0f / sqrtf((float)kD);
        ps_attn_plan::apply(L, 0, R, dItems, p);
        cudaKernel_t main = ks.get(decode ? ps_attn_plan::decode_kernel(kD) : ps_attn_plan::prefill_kernel(kD),
                                   L.smemBytes);
        cudaKernel_t merge = ks.get(ps_attn_plan::merge_kernel(), 0);
        cudaEvent_t e0, e1;
        PS_CUDA_CHECK(cudaEventCreate(&e0));
        PS_CUDA_CHECK(cudaEventCreate(&e1));
        std::vector<float> ms;
        const bool inKernel = decode && mergeCounters != nullptr;
        if (inKernel && L.gridX > (unsigned)kCounters) {
            fprintf(stderr, "merge counters too few for %u decode columns\n", L.gridX);
            exit(2);
        }
        if (inKernel) p.mergeCounters = mergeCounters;
        for (int i = 0; i < kWarm + reps; ++i) {
            p.kvPageIndices = dPages[i % kSets];
            PS_CUDA_CHECK(cudaEventRecord(e0));
            launch(main, dim3(L.gridX, L.gridY), L.smemBytes, p);
            if (L.needsMerge() && !inKernel) launch(merge, dim3(L.rows, ps_attn_plan::merge_grid_y(p.numQoHeads, p.headDim)), 0, p);
            PS_CUDA_CHECK(cudaEventRecord(e1));
            PS_CUDA_CHECK(cudaEventSynchronize(e1));
            PS_CUDA_CHECK(cudaGetLastError());
            float t;
            PS_CUDA_CHECK(cudaEventElapsedTime(&t, e0, e1));
            if (i >= kWarm) ms.push_back(t);
        }
        std::sort(ms.begin(), ms.end());
        for (auto d : dPages) cudaFree(d);
        cudaFree(dQo);
        cudaFree(dKvp);
        cudaFree(dLast);
        cudaFree(dItems);
        cudaEventDestroy(e0);
        cudaEventDestroy(e1);
        return ms[ms.size() / 2];
    }

    static std::string fmt_plan(const ps_attn_plan::Launch& L) {
        char buf[96];
        snprintf(buf, sizeof buf, "chunk=%d splits=%d ctas=%u", L.kvChunkSize, L.maxSplits, L.gridX * L.gridY);
        return buf;
    }

    static int32_t* upload(const std::vector<int32_t>& v) {
        int32_t* d = dalloc<int32_t>(v.size());
        if (!v.empty()) PS_CUDA_CHECK(cudaMemcpy(d, v.data(), v.size() * sizeof(int32_t), cudaMemcpyHostToDevice));
        return d;
    }

    void decode(int B, int L) {
        const double bytes = (double)B * (2.0 * kHkv * L * kD * 2 + 2.0 * kHq * kD * 2);
        std::vector<std::pair<int, int>> reqs(B, {1, L});
        char config[64];
        snprintf(config, sizeof config, "decode B=%d L=%d", B, L);
        std::vector<int> forced = {0};
        for (int s : {1, 2, 4}) forced.push_back(ps_attn_plan::round_up((L + s - 1) / s, 64));
        for (size_t i = 0; i < forced.size(); ++i) {
            std::string plan;
            const double ms = time_phase(true, reqs, forced[i], &plan);
            rows.push_back({config, ps_attn_plan::decode_kernel(kD), (i == 0 ? "planner " : "forced ") + plan, ms,
                            bytes / (ms * 1e-3) / 1e12, i == 0});
        }
    }

    void prefill(int C, int P) {
        const double flops = 4.0 * kHq * kD * ((double)C * P + (double)C * (C + 1) / 2);
        std::vector<std::pair<int, int>> reqs = {{C, P + C}};
        char config[64];
        snprintf(config, sizeof config, "prefill C=%d P=%d", C, P);
        std::vector<int> forced = {0, 1 << 30};
        for (int s : {2, 4}) forced.push_back(ps_attn_plan::round_up((P + C + s - 1) / s, 64));
        for (size_t i = 0; i < forced.size(); ++i) {
            std::string plan;
            const double ms = time_phase(false, reqs, forced[i], &plan);
            rows.push_back({config, ps_attn_plan::prefill_kernel(kD), (i == 0 ? "planner " : "forced ") + plan, ms,
                            flops / (ms * 1e-3) / 1e12, i == 0});
        }
    }

    // --decode-sweep: one batch (reqs, all decodes) at every split count choose_split considers and
    // at its own choice. config names the batch; rows carry the plan so the fit can rebuild it.
    void decode_splits(const std::string& config, const std::vector<std::pair<int, int>>& reqs) {
        int maxKeys = 1;
        double bytes = 0;
        for (auto& r : reqs) {
            maxKeys = std::max(maxKeys, r.second);
            bytes += 2.0 * kHkv * r.second * kD * 2 + 2.0 * kHq * kD * 2;
        }
        std::vector<int> forced = {0};  // 0: the planner's choice, then every candidate it weighs
        for (int chunk : ps_attn_plan::split_candidates(maxKeys)) forced.push_back(chunk);
        for (size_t i = 0; i < forced.size(); ++i) {
            std::string plan;
            const double ms = time_phase(true, reqs, forced[i], &plan);
            rows.push_back({config, ps_attn_plan::decode_kernel(kD), (i == 0 ? "planner " : "forced ") + plan, ms,
                            bytes / (ms * 1e-3) / 1e12, i == 0});
        }
    }

    void decode_sweep() {
        const int bs[] = {1, 2, 4, 6, 8, 12, 16, 20, 24, 28, 32, 39, 48, 64, 96, 128};
        const int ls[] = {1024, 2048, 4096, 8192, 16384, 32768};
        for (int L : ls)
            for (int B : bs) {
                if ((long)B * L > 2L * 1024 * 1024) continue;
                char config[64];
                snprintf(config, sizeof config, "decode B=%d L=%d", B, L);
                decode_splits(config, std::vector<std::pair<int, int>>(B, {1, L}));
            }
        // Mixed lengths, as a serving batch has: each drawn from [128, 2L).
        for (int L : {2048, 8192})
            for (int B : bs) {
                std::uniform_int_distribution<int> len(128, 2 * L - 1);
                std::vector<std::pair<int, int>> reqs;
                std::string lens;
                for (int i = 0; i < B; ++i) {
                    reqs.push_back({1, len(rng)});
                    lens += (i ? ":" : "") + std::to_string(reqs.back().second);
                }
                decode_splits("decode mixed B=" + std::to_string(B) + " L=" + std::to_string(L) + " lens=" + lens, reqs);
            }
    }
};

}  // namespace

int main(int argc, char** argv) {
    const char* fatbin = "build/podserve.fatbin";
    const char* json = nullptr;
    std::string only, tag;
    bool sweep = false;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--fatbin") && i + 1 < argc) fatbin = argv[++i];
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--tag") && i + 1 < argc) tag = argv[++i];
        else if (!strcmp(argv[i], "--decode-sweep")) sweep = true;
        else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    cudaDeviceProp prop;
    PS_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    Bench b;
    b.card = prop.name;
    b.sms = prop.multiProcessorCount;
    PS_CUDA_CHECK(cudaLibraryLoadFromFile(&b.ks.lib, fatbin, nullptr, nullptr, 0, nullptr, nullptr, 0));
    printf("device: %s (%d SMs), fatbin %s\n", prop.name, b.sms, fatbin);

    // Largest set: 128 decodes x 8192 keys = 65536 pages (the sweep: 2M keys, 131072 pages); each
    // page is Hkv x 16 x 128 bf16 = 32 KB.
    b.pagesPerSet = (sweep ? 2 * 1024 * 1024 : 128 * 8192) / kPage;
    const size_t cacheElems = (size_t)kSets * b.pagesPerSet * kHkv * kPage * kD;
    b.kCache = dalloc<uint16_t>(cacheElems);
    b.vCache = dalloc<uint16_t>(cacheElems);
    const size_t qElems = (size_t)2048 * kHq * kD;
    b.q = dalloc<uint16_t>(qElems);
    b.out = dalloc<uint16_t>(qElems);
    b.partialOCap = (size_t)2048 * 8 * kHq * kD;
    b.partialLseCap = (size_t)2048 * 8 * kHq;
    b.partialO = dalloc<float>(b.partialOCap);
    b.partialLse = dalloc<float>(b.partialLseCap);
    fill_random<<<4096, 256>>>(b.kCache, cacheElems, 1);
    fill_random<<<4096, 256>>>(b.vCache, cacheElems, 2);
    fill_random<<<1024, 256>>>(b.q, qElems, 3);
    PS_CUDA_CHECK(cudaGetLastError());
    PS_CUDA_CHECK(cudaDeviceSynchronize());

    if (sweep) {
        // int32 [kCounters], zeroed once; the kernel leaves them at zero.
        b.mergeCounters = dalloc<int32_t>(kCounters);
        PS_CUDA_CHECK(cudaMemset(b.mergeCounters, 0, kCounters * sizeof(int32_t)));
        b.reps = 15;
        b.decode_sweep();
    }
    if (only != "prefill" && !sweep)
        for (int B : {16, 32, 64, 128})
            for (int L : {1024, 4096, 8192}) b.decode(B, L);
    if (only != "decode" && !sweep)
        for (int C : {512, 1024, 2048})
            for (int P : {0, 4096, 12288}) b.prefill(C, P);
    if (!tag.empty())
        for (Row& r : b.rows) r.kernel += "[" + tag + "]";

    printf("\n%-26s %-36s %9s %9s  %s\n", "config", "kernel", "ms", "rate", "plan");
    for (const Row& r : b.rows) {
        const bool dec = r.config.rfind("decode", 0) == 0;
        printf("%-26s %-36s %9.4f %6.2f %s  %s\n", r.config.c_str(), r.kernel.c_str(), r.ms, r.rate,
               dec ? "TB/s" : "TF/s", r.variant.c_str());
    }
    printf("\nplanner choices only:\n");
    for (const Row& r : b.rows) {
        if (!r.planner) continue;
        const bool dec = r.config.rfind("decode", 0) == 0;
        printf("%-26s %-36s %9.4f ms %7.2f %s\n", r.config.c_str(), r.kernel.c_str(), r.ms, r.rate,
               dec ? "TB/s" : "TFLOP/s");
    }
    if (json) {
        FILE* f = fopen(json, "w");
        if (!f) {
            fprintf(stderr, "cannot write %s\n", json);
            return 2;
        }
        fprintf(f, "[\n");
        for (size_t i = 0; i < b.rows.size(); ++i) {
            const Row& r = b.rows[i];
            const bool dec = r.config.rfind("decode", 0) == 0;
            fprintf(f,
                    "  {\"config\": \"%s\", \"kernel\": \"%s\", \"variant\": \"%s\", \"planner\": %s, \"ms\": %.5f, "
                    "\"%s\": %.4f, \"card\": \"%s\"}%s\n",
                    r.config.c_str(), r.kernel.c_str(), r.variant.c_str(), r.planner ? "true" : "false", r.ms,
                    dec ? "tbps" : "tflops", r.rate, b.card.c_str(), i + 1 < b.rows.size() ? "," : "");
        }
        fprintf(f, "]\n");
        fclose(f);
        printf("wrote %s\n", json);
    }
    PS_CUDA_CHECK(cudaLibraryUnload(b.ks.lib));
    return 0;
}
