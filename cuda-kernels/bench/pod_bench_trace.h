// pod_bench's mode "trace": one fused launch of a plan on a fatbin built with -DPS_POD_TRACE, each
// CTA's SM, work and start / end times (pod.cu's ps_pod_trace) written as one CSV
// (bench/pod_trace.py reads it). One translation unit includes it (pod_bench.cu).
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "../attention/attention_plan.h"
#include "pod_bench_ctx.h"

namespace pod_bench {

// launch issues plan Q's fused kernel (and its merges) on c.s0. The file's directory is created if
// it is missing; a plan auto runs unfused, or a grid past the trace buffer, writes nothing.
inline void write_pod_trace(Ctx& c, const std::string& file, const ps_attn_plan::PodLaunch& Q,
                            const std::function<void()>& launch) {
    void* trace = nullptr;
    size_t traceBytes = 0;  // [kTraceCtas][start, end, sm, work], 8 bytes each
    PS_CUDA_CHECK(cudaLibraryGetGlobal(&trace, &traceBytes, c.lib, "ps_pod_trace"));
    if (!Q.fused || (size_t)Q.grid * 32 > traceBytes) return;
    launch();  // warm
    PS_CUDA_CHECK(cudaMemsetAsync(c.flush, 1, 256u << 20, c.s0));
    PS_CUDA_CHECK(cudaMemsetAsync(trace, 0, (size_t)Q.grid * 32, c.s0));
    launch();
    std::vector<unsigned long long> t((size_t)Q.grid * 4);
    PS_CUDA_CHECK(cudaStreamSynchronize(c.s0));
    PS_CUDA_CHECK(cudaMemcpy(t.data(), trace, t.size() * 8, cudaMemcpyDeviceToHost));
    unsigned long long t0 = ~0ull;
    for (unsigned b = 0; b < Q.grid; ++b) t0 = std::min(t0, t[4 * b]);
    const size_t slash = file.rfind('/');
    if (slash != std::string::npos) mkdir(file.substr(0, slash).c_str(), 0755);  // EEXIST is fine
    FILE* f = fopen(file.c_str(), "w");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", file.c_str());
        exit(2);
    }
    fprintf(f,
            "# %s policy=%s prefill_ctas=%d decode_ctas=%d prefill_splits=%d decode_splits=%d "
            "prefill_chunk=%d decode_chunk=%d sms=%d\n",
            c.card.c_str(), ps_attn_plan::pod_policy_name(Q.policy), Q.prefillCtas, Q.decodeCtas, Q.prefill.maxSplits,
            Q.decode.maxSplits, Q.prefill.kvChunkSize, Q.decode.kvChunkSize, c.sms);
    fprintf(f, "cta,sm,op,id,start_ns,end_ns\n");
    for (unsigned b = 0; b < Q.grid; ++b) {
        const unsigned long long w = t[4 * b + 3];
        fprintf(f, "%u,%llu,%s,%llu,%llu,%llu\n", b, t[4 * b + 2], (w >> 30) ? "decode" : "prefill",
                w & ((1u << 30) - 1), t[4 * b] - t0, t[4 * b + 1] - t0);
    }
    fclose(f);
}

}  // namespace pod_bench
