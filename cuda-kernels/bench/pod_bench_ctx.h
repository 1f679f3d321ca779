// pod_bench's device context: the card, the fatbin (and --ab-fatbin's second build), the KV pool
// and scratch buffers, streams and events, and the timing of a point's launches (Ctx::time_all).
// One translation unit includes it (pod_bench.cu).
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../attention/attention_params.h"
#include "../attention/kv_tensor_maps.h"
#include "bench_device.cuh"
#include "podserve_common.cuh"

namespace pod_bench {

constexpr int kHq = 32, kD = 128, kPage = 16;
inline int kWarm = 3, kReps = 10;  // --point (under ncu): 1 and 1
enum class Timing { Blocked, Interleaved, Shuffled };
inline Timing timing = Timing::Shuffled;  // --timing shuffled (default) | interleaved | blocked

using bench::dalloc;
using bench::fill_random;
inline int32_t* upload(const std::vector<int32_t>& v) {
    int32_t* d = dalloc<int32_t>(v.size());
    if (!v.empty()) PS_CUDA_CHECK(cudaMemcpy(d, v.data(), v.size() * 4, cudaMemcpyHostToDevice));
    return d;
}

struct Model {
    const char* name;
    int hkv;
};

struct Ctx {
    cudaLibrary_t lib;
    cudaLibrary_t libB = nullptr;  // --ab-fatbin: a second build whose kernels the "@B" rows launch
    bool useB = false;
    std::string card;
    int sms;
    size_t totalMem;
    uint16_t *k, *v, *q, *out;
    size_t cacheElems;
    float *pO, *pL, *dO, *dL;   // prefill / decode partials
    size_t partOCap, partLCap;
    int32_t* counters;
    uint8_t* flush;
    cudaStream_t s0, s1, s2;
    cudaEvent_t e0, e1, ea, eb;
    // PS_POD_TMA=1: the prefill gets TMA maps over the pool (one pair per kv-head count, which sets
    // the pool's page count); otherwise it loads with cp.async, as the backend runs it.
    std::vector<std::pair<int, std::unique_ptr<ps_kv_maps::DeviceKvMaps>>> maps;
    const void* kv_maps(int hkv) {
        const char* env = getenv("PS_POD_TMA");
        if (!env || strcmp(env, "1")) return nullptr;
        for (auto& m : maps)
            if (m.first == hkv) return m.second->get();
        const int pages = (int)(cacheElems / ((size_t)hkv * kPage * kD));
        maps.emplace_back(hkv, std::make_unique<ps_kv_maps::DeviceKvMaps>(k, v, pages, hkv, kPage, kD));
        return maps.back().second->get();
    }

    cudaKernel_t kernel(const char* name, int smem) {
        cudaKernel_t k;
        PS_CUDA_CHECK(cudaLibraryGetKernel(&k, useB ? libB : lib, name));
        if (smem > 48 * 1024) PS_CUDA_CHECK(cudaKernelSetAttributeForDevice(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem, 0));
        return k;
    }
    void launch(cudaStream_t st, const char* name, dim3 grid, int smem, void* params) {
        cudaKernel_t k = kernel(name, smem);
        void* args[] = {params};
        PS_CUDA_CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, dim3(PS_ATTN_THREADS), args, smem, st));
    }
    // Median milliseconds of each issue function (3 warm-ups, then 10 timed runs each), every run
    // after a 256 MB memset that evicts the L2. Interleaved runs the functions in turn, one run of
    // each per round, so that a drift in the card's state over a point's runs (clocks under the
    // power limit after long tensor-heavy launches) lands on every mode alike; blocked runs each
    // function's runs back to back, as this benchmark did up to 2026-11-29, which timed identical
    // launches up to 16% apart at the end of a point (../../bench/results/pod-timing-order-h200-2026-11-29.*).
    // Shuffled (the default) is interleaved with each round's order drawn anew (a fixed seed per
    // round): in a fixed order a launch still moved 1-5% with the launch before it, the same one in
    // every round, so the median kept that bias.
    std::vector<double> time_all(const std::vector<std::function<void()>>& issue) {
        std::vector<std::vector<float>> ms(issue.size());
        std::vector<size_t> order(issue.size());
        for (size_t j = 0; j < order.size(); ++j) order[j] = j;
        auto once = [&](size_t j, int i) {
            PS_CUDA_CHECK(cudaMemsetAsync(flush, i & 0xff, 256u << 20, s0));
            PS_CUDA_CHECK(cudaEventRecord(e0, s0));
            issue[j]();
            PS_CUDA_CHECK(cudaEventRecord(e1, s0));
            PS_CUDA_CHECK(cudaEventSynchronize(e1));
            float t;
            PS_CUDA_CHECK(cudaEventElapsedTime(&t, e0, e1));
            if (i >= kWarm) ms[j].push_back(t);
        };
        if (timing != Timing::Blocked) {
            for (int i = 0; i < kWarm + kReps; ++i) {
                if (timing == Timing::Shuffled) {
                    std::mt19937 rng(1000u + (unsigned)i);
                    std::shuffle(order.begin(), order.end(), rng);
                }
                for (size_t j : order) once(j, i);
            }
        } else {
            for (size_t j = 0; j < issue.size(); ++j)
                for (int i = 0; i < kWarm + kReps; ++i) once(j, i);
        }
        std::vector<double> med;
        for (auto& m : ms) {
            std::sort(m.begin(), m.end());
            med.push_back(m[m.size() / 2]);
        }
        return med;
    }
};

// KV tokens (all layers) the card holds after 16 GB weights + 4 GB activations.
inline long kv_tokens(const Ctx& c, const Model& m) {
    const double bytesPerToken = 32.0 * 2 * m.hkv * kD * 2;
    return (long)((double)c.totalMem - 20e9) / (long)bytesPerToken;
}

}  // namespace pod_bench
