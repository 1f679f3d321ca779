// Host-side planning for the attention kernels: the split-KV rule, the prefill work list, grids,
// shared memory and workspace sizes. Header-only C++ for the native tests and the benchmark; the
// Java launcher (backend.cuda) ports these few loops as they are, so every rule is spelled out.
//
// Dispatch: headDim 16, 32, 64, 128 -> *_hd16 .. *_hd128 (template instances inside the .cu files);
// anything else is rejected here. The sliding window is the caller's (PsAttentionParams.window): the
// plans cover the whole context, and CTAs whose split lies wholly before the window exit at once. All kernels take PsAttentionParams (attention_params.h).
#pragma once

#include <stdint.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "attention_params.h"
#include "pod_params.h"

namespace ps_attn_plan {

// Split-KV rule. A "unit" is one CTA's worth of queries before splitting: a (request, kv head,
// head chunk) for decode, a (work item, kv head) for prefill, with unitKeys[u] the keys it reads,
// in launch order. Cutting every unit into kvChunkSize-key pieces trades shorter CTAs for more
// CTAs plus a merge pass. The rule estimates each candidate's time (decode: microseconds; prefill:
// "key steps", one CTA computing one key) and keeps the cheapest, ties to fewer splits.
// Candidates: kvChunkSize = maxKeys / s rounded up to 64 (the prefill key tile), s = 1..16, pieces
// of >= kMinChunk keys.
//
//  decode (bandwidth-bound): the CTAs replayed on the decode kernel's slots (decode_slots_per_sm x
//      numSMs; two per SM at head dim 128), in microseconds (decode_time_us). While CTAs wait for a
//      slot every slot streams at min(one CTA's rate, card / slots) and a CTA takes the slot that
//      frees first; once the last has started, the running ones drain, each at min(one CTA's rate,
//      card / still running). So a launch that ends on a partial round of long CTAs pays for its
//      tail: on the H200 one CTA streams about the card's rate divided by the slots
//      (kDecodeCtaBytesPerUs against kDecodeBytesPerUs / 264), so the few CTAs of a last round
//      stream at their own rate each, a small part of the card. Every CTA adds
//      kDecodeCtaOverheadBytes of streaming time (its start, Q, its partial or output rows) and a
//      split launch kDecodeSplitUs (the partial rows and the last CTA's merge: the decode's own
//      launches merge split rows inside the kernel; the fused kernel's decode, and
//      -Dpodserve.cuda.merge-in-decode=false, launch the merge, which this does not cost apart).
//      Constants: the grid point with the lowest mean (planner / fastest split) on 126 decode
//      batches timed at every split count (B 1-128, 1K-32K keys, and mixed lengths, bench
//      attention_bench --decode-sweep, ../bench/results/decode-split-h200-2026-11-29.*): 1.006x
//      there (worst 1.07x); the same batches timed again, 1.006x (worst 1.08x); its own planner
//      rows in a third run, 1.009x (worst 1.06x). The rule before, 1.033x (worst 1.19x and 1.22x),
//      costed decode as fluid work with one SM streaming up to 1.33x its fair share (fitted on the
//      H100, where one CTA alone does outrun its share of the card). The slots assume Hopper's
//      shared memory per SM.
//  prefill (tensor-bound): the hardware block scheduler replayed on 2 CTA slots per SM (CTAs start
//      in launch order on the first free slot, duration = keys + kCtaOverhead), so wave
//      quantisation counts; a launch of at most numSMs CTAs runs one CTA per SM, kLoneSpeedup
//      faster. Launches of more than 4 waves use the fluid estimate (quantisation fades).
//  prefill merge: a launch (kMergeLaunchUs) plus the fp32 partials written and read (rows * splits
//      * Hq * D * 8 bytes at kMergeBytesPerUs), converted to key steps (a prefill CTA computes a key
//      in kPrefillKeyUs).
// Prefill constants from H200 runs of bench/attention_bench.cu (forced 1/2/4-split rows): C=512
// P=12288 564 us unsplit (128 CTAs, one per SM), 384 us in two splits.
constexpr int kKeyAlign = 64;
constexpr int kMinChunk = 256;
constexpr int kMaxSplits = 16;
constexpr double kCtaOverhead = 48.0;
constexpr double kMergeLaunchUs = 4.0;
constexpr double kMergeBytesPerUs = 3.0e6;
constexpr double kPrefillKeyUs = 1.0 / 20.0;
constexpr double kLoneSpeedup = 1.25;
constexpr double kDecodeBytesPerUs = 4.4032e6;       // the card's rate, fitted (8600 keys/us at d 128)
constexpr double kDecodeCtaBytesPerUs = 16896.0;     // one decode CTA's (33 keys/us at d 128)
constexpr double kDecodeCtaOverheadBytes = 196608.0; // a CTA's fixed cost, as bytes at its rate (384 keys at d 128)
constexpr double kDecodeSplitUs = 8.0;               // a split launch's partial rows and in-kernel merges
constexpr int kDecodeReplayRounds = 8;               // decode_time_us replays up to this many CTAs per slot
constexpr int kSmSharedMemBytes = 233472;            // per SM on Hopper (228 KB), 1 KB of it reserved per CTA

struct SplitChoice {
    int kvChunkSize;  // keys per split, multiple of 64
    int maxSplits;    // splits of the longest unit = grid.y
};

inline int round_up(int x, int m) { return (x + m - 1) / m * m; }

// Finish time of the last CTA when `pieces` (durations, launch order) start on the first of
// `slots` free slots.
inline double list_schedule(const std::vector<double>& pieces, int slots) {
    std::priority_queue<double, std::vector<double>, std::greater<double>> free;  // slot finish times
    for (int i = 0; i < slots; ++i) free.push(0.0);
    double end = 0;
    for (double d : pieces) {
        const double t = free.top() + d;
        free.pop();
        free.push(t);
        end = std::max(end, t);
    }
    return end;
}

inline int decode_smem(int headDim);

// Decode CTAs resident per SM: what their shared memory lets in (the kernels' registers allow more).
inline int decode_slots_per_sm(int headDim) {
    return std::min(16, kSmSharedMemBytes / (decode_smem(headDim) + 1024));
}

// Microseconds for decode CTAs of `pieces` keys each (launch order) on `slots` slots, keys of head
// dim headDim (see the split rule above). Past kDecodeReplayRounds CTAs per slot the replay gives
// way to the fluid estimate plus half a piece, which bounds the host's time (the rule runs on the
// engine thread every step); a last round's share of such a launch is at most an eighth, and on the
// fitting sweep the estimate chose as the replay did everywhere (at 4 rounds it did not: 39 at 16K).
inline double decode_time_us(const std::vector<double>& pieces, int slots, int headDim) {
    const double keyBytes = 4.0 * headDim;  // K and V rows of one kv head, bf16
    const double card = kDecodeBytesPerUs / keyBytes, cta = kDecodeCtaBytesPerUs / keyBytes;
    const double overhead = kDecodeCtaOverheadBytes / keyBytes;
    const double full = std::min(cta, card / slots);  // per CTA while every slot streams
    const size_t n = pieces.size();
    if (n > (size_t)kDecodeReplayRounds * slots) {
        double work = 0, longest = 0;
        for (double k : pieces) {
            work += k + overhead;
            longest = std::max(longest, k);
        }
        return work / (slots * full) + (longest + overhead) / (2 * full);
    }
    // Work (keys) each slot has finished by when the last CTA starts, then what is left of each.
    std::vector<double> left;
    double start = 0;
    if (n <= (size_t)slots) {
        for (double k : pieces) left.push_back(k + overhead);
    } else {
        std::priority_queue<double, std::vector<double>, std::greater<double>> done;  // [slots] work at finish
        for (size_t i = 0; i < (size_t)slots; ++i) done.push(pieces[i] + overhead);
        for (size_t i = slots; i < n; ++i) {
            start = done.top();
            done.pop();
            done.push(start + pieces[i] + overhead);
        }
        for (; !done.empty(); done.pop()) left.push_back(done.top() - start);
    }
    std::sort(left.begin(), left.end());
    // The drain: the CTAs still running share the card, each at most at its own rate.
    double t = start / full, finished = 0;
    for (size_t i = 0; i < left.size(); ++i) {
        const double rate = std::min(cta, card / (double)(left.size() - i));
        t += (left[i] - finished) / rate;
        finished = left[i];
    }
    return t;
}

// The chunk sizes choose_split weighs for units of at most maxKeys keys, fewest splits first:
// maxKeys / s rounded up to kKeyAlign for s = 1..kMaxSplits, each once, none under kMinChunk but
// the first. bench/attention_bench.cu --decode-sweep times exactly these.
inline std::vector<int> split_candidates(int maxKeys) {
    std::vector<int> chunks;
    for (int s = 1; s <= kMaxSplits; ++s) {
        const int chunk = round_up((maxKeys + s - 1) / s, kKeyAlign);
        if (!chunks.empty() && chunk == chunks.back()) continue;
        if (s > 1 && chunk < kMinChunk) break;
        chunks.push_back(chunk);
    }
    return chunks;
}

// bytesPerRowSplit: fp32 partial bytes one query row adds per split (Hq * D * 8, written + read);
// rows: query rows of the launch; headDim sets the decode's key bytes and slots.
inline SplitChoice choose_split(const std::vector<int>& unitKeys, bool decode, int numSms, double rows,
                                double bytesPerRowSplit, int headDim) {
    int maxKeys = 1;
    double total = 0;
    for (int k : unitKeys) {
        maxKeys = std::max(maxKeys, k);
        total += k;
    }
    SplitChoice best = {round_up(maxKeys, kKeyAlign), 1};
    double bestCost = 1e300;
    const int decodeSlots = decode_slots_per_sm(headDim) * numSms;
    // A prefill piece carries its CTA overhead in keys; decode_time_us adds the decode's own.
    const double pieceOverhead = decode ? 0.0 : kCtaOverhead;
    std::vector<double> pieces;
    for (int chunk : split_candidates(maxKeys)) {
        const int splits = (maxKeys + chunk - 1) / chunk;
        // Launch order: grid.y (split) is the slow index, so every unit's piece 0 comes first.
        pieces.clear();
        for (int p = 0; p < splits; ++p)
            for (int k : unitKeys)
                if (k > p * chunk) pieces.push_back(std::min(chunk, k - p * chunk) + pieceOverhead);
        double cost;
        if (decode) {
            // In microseconds, compared only with the other decode candidates.
            cost = decode_time_us(pieces, decodeSlots, headDim) + (splits > 1 ? kDecodeSplitUs : 0.0);
        } else {
            const double ctas = (double)pieces.size();
            if (ctas <= numSms)
                cost = (std::min(chunk, maxKeys) + kCtaOverhead) / kLoneSpeedup;
            else if (ctas <= 4.0 * 2 * numSms)
                cost = list_schedule(pieces, 2 * numSms);
            else
                cost = std::max((double)std::min(chunk, maxKeys), (total + kCtaOverhead * ctas) / (2 * numSms));
            if (splits > 1)
                cost += (kMergeLaunchUs + rows * splits * bytesPerRowSplit / kMergeBytesPerUs) / kPrefillKeyUs;
        }
        if (cost < bestCost) {
            bestCost = cost;
            best = {chunk, splits};
        }
    }
    return best;
}

inline bool supported_head_dim(int headDim) {
    return headDim == 16 || headDim == 32 || headDim == 64 || headDim == 128;
}

inline const char* decode_kernel(int headDim) {
    switch (headDim) {
        case 16: return "ps_attention_decode_hd16";
        case 32: return "ps_attention_decode_hd32";
        case 64: return "ps_attention_decode_hd64";
        default: return "ps_attention_decode_hd128";
    }
}
// A sliding window (window > 0) takes the prefill's windowed instance; decode needs none. tma: the
// launch passes kvTensorMaps, which only the _tma entry points (head dims 64 and 128) read.
inline const char* prefill_kernel(int headDim, int window = 0, bool tma = false) {
    if (tma && window == 0 && (headDim == 64 || headDim == 128))
        return headDim == 64 ? "ps_attention_prefill_tma_hd64" : "ps_attention_prefill_tma_hd128";
    if (window > 0) {
        switch (headDim) {
            case 16: return "ps_attention_prefill_window_hd16";
            case 32: return "ps_attention_prefill_window_hd32";
            case 64: return "ps_attention_prefill_window_hd64";
            default: return "ps_attention_prefill_window_hd128";
        }
    }
    switch (headDim) {
        case 16: return "ps_attention_prefill_hd16";
        case 32: return "ps_attention_prefill_hd32";
        case 64: return "ps_attention_prefill_hd64";
        default: return "ps_attention_prefill_hd128";
    }
}
inline const char* merge_kernel() { return "ps_attention_merge"; }

// grid.y of the merge: head groups of one row, each a CTA whose 128 threads take 8 dims of a head
// (8 heads at head dim 128), so a small decode batch still spreads its merge over many SMs.
inline int merge_grid_y(int numQoHeads, int headDim) {
    const int headsPerCta = std::max(1, PS_ATTN_THREADS / std::max(1, headDim / 8));
    return (numQoHeads + headsPerCta - 1) / headsPerCta;
}

inline int decode_smem(int headDim) {
    switch (headDim) {
        case 16: return PS_ATTN_DECODE_SMEM_HD16;
        case 32: return PS_ATTN_DECODE_SMEM_HD32;
        case 64: return PS_ATTN_DECODE_SMEM_HD64;
        default: return PS_ATTN_DECODE_SMEM_HD128;
    }
}
inline int prefill_smem(int headDim) {
    switch (headDim) {
        case 16: return PS_ATTN_PREFILL_SMEM_HD16;
        case 32: return PS_ATTN_PREFILL_SMEM_HD32;
        case 64: return PS_ATTN_PREFILL_SMEM_HD64;
        default: return PS_ATTN_PREFILL_SMEM_HD128;
    }
}
inline int kv_len(const int32_t* kvIndptr, const int32_t* kvLastPageLen, int r, int pageSize) {
    return (kvIndptr[r + 1] - kvIndptr[r] - 1) * pageSize + kvLastPageLen[r];
}

// A launch over requests [begin, begin + count) of the step's host-side CSR arrays.
struct Launch {
    std::vector<int32_t> workItems;  // prefill: (request, first packed row) pairs
    int kvChunkSize = 0;
    int maxSplits = 1;
    int rows = 0;                    // query rows of the launch (the merge grid)
    unsigned gridX = 0;
    unsigned gridY = 1;
    int smemBytes = 0;
    size_t partialOFloats = 0;       // partialO elements needed when maxSplits > 1
    size_t partialLseFloats = 0;
    bool needsMerge() const { return maxSplits > 1; }
};

// Decode: one CTA per (request, kv head, chunk of <= 16 group heads), split by choose_split over
// the requests' kv lengths. forceChunk > 0 overrides the rule (tests, benchmark sweeps).
inline Launch plan_decode(const int32_t* qoIndptr, const int32_t* kvIndptr, const int32_t* kvLastPageLen, int begin,
                          int count, int pageSize, int numQoHeads, int numKvHeads, int headDim, int numSms,
                          int forceChunk = 0) {
    Launch L;
    const int group = numQoHeads / numKvHeads;
    const int headChunks = (group + PS_ATTN_DECODE_HEADS - 1) / PS_ATTN_DECODE_HEADS;
    std::vector<int> keys;
    int maxKeys = 1;
    for (int r = begin; r < begin + count; ++r) {
        const int k = kv_len(kvIndptr, kvLastPageLen, r, pageSize);
        maxKeys = std::max(maxKeys, k);
        for (int u = 0; u < numKvHeads * headChunks; ++u) keys.push_back(k);
    }
    if (forceChunk > 0) {
        L.kvChunkSize = forceChunk;
        L.maxSplits = (maxKeys + forceChunk - 1) / forceChunk;
    } else {
        SplitChoice c = choose_split(keys, true, numSms, count, 8.0 * numQoHeads * headDim, headDim);
        L.kvChunkSize = c.kvChunkSize;
        L.maxSplits = c.maxSplits;
    }
    L.rows = qoIndptr[begin + count] - qoIndptr[begin];
    L.gridX = (unsigned)(count * numKvHeads * headChunks);
    L.gridY = (unsigned)L.maxSplits;
    L.smemBytes = decode_smem(headDim);
    L.partialOFloats = (size_t)L.rows * L.maxSplits * numQoHeads * headDim;
    L.partialLseFloats = (size_t)L.rows * L.maxSplits * numQoHeads;
    return L;
}

// Prefill: work items of rowsPerItem packed rows (query row i, group head g -> i * group + g) per
// request: PS_ATTN_PREFILL_ROWS (128) for the standalone kernel and the fused kernel at 2 CTAs per
// SM, PS_POD4_PREFILL_ROWS (64) for the fused kernel at 4. Each item reads keys 0 .. the position
// of its last row. Items are ordered by that key count, largest first, so the longest CTAs start in
// the first wave (causal tiles differ by up to a chunk).
inline Launch plan_prefill(const int32_t* qoIndptr, const int32_t* kvIndptr, const int32_t* kvLastPageLen, int begin,
                           int count, int pageSize, int numQoHeads, int numKvHeads, int headDim, int numSms,
                           int forceChunk = 0, int rowsPerItem = PS_ATTN_PREFILL_ROWS) {
    Launch L;
    const int group = numQoHeads / numKvHeads;
    struct Item {
        int r, m0, keys;
    };
    std::vector<Item> items;
    for (int r = begin; r < begin + count; ++r) {
        const int qlen = qoIndptr[r + 1] - qoIndptr[r];
        const int kvLen = kv_len(kvIndptr, kvLastPageLen, r, pageSize);
        for (int m0 = 0; m0 < qlen * group; m0 += rowsPerItem) {
            const int lastRow = std::min(m0 + rowsPerItem, qlen * group) - 1;
            items.push_back({r, m0, kvLen - qlen + lastRow / group + 1});
        }
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.keys > b.keys; });
    std::vector<int> keys;
    int maxKeys = 1;
    for (const Item& it : items) {
        L.workItems.push_back(it.r);
        L.workItems.push_back(it.m0);
        maxKeys = std::max(maxKeys, it.keys);
        for (int u = 0; u < numKvHeads; ++u) keys.push_back(it.keys);
    }
    if (forceChunk > 0) {
        L.kvChunkSize = forceChunk;
    } else {
        L.kvChunkSize = choose_split(keys, false, numSms, qoIndptr[begin + count] - qoIndptr[begin],
                                     8.0 * numQoHeads * headDim, headDim)
                            .kvChunkSize;
    }
    // A request is split when its whole context exceeds the chunk, even if this launch's rows
    // end earlier; maxSplits covers its longest item.
    L.maxSplits = (maxKeys + L.kvChunkSize - 1) / L.kvChunkSize;
    L.rows = qoIndptr[begin + count] - qoIndptr[begin];
    L.gridX = (unsigned)(items.size() * numKvHeads);
    L.gridY = (unsigned)L.maxSplits;
    L.smemBytes = prefill_smem(headDim);
    L.partialOFloats = (size_t)L.rows * L.maxSplits * numQoHeads * headDim;
    L.partialLseFloats = (size_t)L.rows * L.maxSplits * numQoHeads;
    return L;
}

// The fields of PsAttentionParams that come from a plan (pointers and shapes are the caller's).
inline void apply(const Launch& L, int begin, int count, const int32_t* deviceWorkItems, PsAttentionParams& p) {
    p.requestBegin = begin;
    p.numRequests = count;
    p.workItems = deviceWorkItems;
    p.numWorkItems = (int)(L.workItems.size() / 2);
    p.kvChunkSize = L.kvChunkSize;
    p.maxSplits = L.maxSplits;
}

// ---- POD-Attention (pod.cu): one fused launch for both phases -------------------------------
//
// The two phases are planned as for the serial launches, then adjusted for running side by side
// (the paper's section 4.3):
//  - Limited prefill splits. Splitting the prefill's KV makes more, shorter CTAs so a short chunk
//    fills the machine when it runs ALONE; beside decode CTAs that fill the SMs anyway the extra
//    CTAs only add merge traffic and stretch the prefill. So: if the decode's unsplit CTAs alone
//    fill a wave (>= numSms), the prefill is not split at all; otherwise its split CTAs are kept
//    within two waves of one CTA per SM (splits <= 2 * numSms / prefill units). Then the span rule
//    (pod_span_prefill_chunk) splits further where one prefill CTA's walk would outlast the rest
//    of the launch by far: a chunk of 512 late in a long prompt beside 17-48 shorter decodes.
//  - Decode splits raised when the decode CTAs would leave a wave partly empty: with
//    [0.8, 1) x numSms CTAs, one more split (chunk >= kMinChunk) so every SM streams KV.
// Merges: after the fused kernel, ps_attention_merge once per phase that split, each with its
// own PsAttentionParams and its own partial buffers (prefill.partialO/Lse, decode.partialO/Lse).
// The plan with splits raised (never lowered) until units x splits >= rounds x numSms, chunks of at
// least kMinChunk keys; replan(chunk) plans the phase with that forced chunk.
template <class Replan>
inline Launch split_to_rounds(const Launch& L, int units, int maxKeys, int rounds, int numSms, Replan replan) {
    const int want = rounds * numSms;
    if (units <= 0 || units * L.maxSplits >= want) return L;
    const int splits = std::min(kMaxSplits, (want + units - 1) / units);
    const int chunk = std::max(kMinChunk, round_up((maxKeys + splits - 1) / splits, kKeyAlign));
    return chunk < L.kvChunkSize ? replan(chunk) : L;
}

enum PodPolicy { kPodProportional = PS_POD_POLICY_PROPORTIONAL, kPodFiftyFifty = PS_POD_POLICY_FIFTY_FIFTY,
                 kPodStatic = PS_POD_POLICY_STATIC, kPodAuto = 3 };

inline const char* pod_policy_name(int policy) {
    switch (policy) {
        case kPodProportional: return "proportional";
        case kPodFiftyFifty: return "fifty-fifty";
        case kPodStatic: return "static";
        default: return "auto";
    }
}

// ctasPerSm: the co-residence shape, 2 or 4 (pod.cu); tma as for prefill_kernel (2-CTA shape only).
inline const char* pod_kernel(int headDim, int ctasPerSm = 2, bool tma = false) {
    if (tma && ctasPerSm == 2 && (headDim == 64 || headDim == 128))
        return headDim == 64 ? "ps_pod_attention_tma_hd64" : "ps_pod_attention_tma_hd128";
    if (ctasPerSm == 4) {
        switch (headDim) {
            case 16: return "ps_pod4_attention_hd16";
            case 32: return "ps_pod4_attention_hd32";
            case 64: return "ps_pod4_attention_hd64";
            default: return "ps_pod4_attention_hd128";
        }
    }
    switch (headDim) {
        case 16: return "ps_pod_attention_hd16";
        case 32: return "ps_pod_attention_hd32";
        case 64: return "ps_pod_attention_hd64";
        default: return "ps_pod_attention_hd128";
    }
}
inline int pod_smem(int headDim, int ctasPerSm = 2) {
    if (ctasPerSm == 4) {
        switch (headDim) {
            case 16: return PS_POD4_SMEM_HD16;
            case 32: return PS_POD4_SMEM_HD32;
            case 64: return PS_POD4_SMEM_HD64;
            default: return PS_POD4_SMEM_HD128;
        }
    }
    return std::max(decode_smem(headDim), prefill_smem(headDim));
}
inline int pod_prefill_rows(int ctasPerSm) { return ctasPerSm == 4 ? PS_POD4_PREFILL_ROWS : PS_ATTN_PREFILL_ROWS; }

// Rates the planner converts work into time with (H100 SXM, measured with podserve's own kernels:
// prefill 303-334 TFLOP/s at long contexts on mma.sync, decode ~2.9 TB/s). Only their ratio matters,
// and only to the auto rule below: the wgmma prefill (~440 TFLOP/s) makes the true prefill share
// smaller than these estimate it, but re-scoring the rule's thresholds on 777 points timed with the
// wgmma prefill (../bench/results/pod-sweep-h100-2026-11-27-c.*, pod-prefill-heavy-h100-2026-11-27.*)
// found no rate and threshold pair better than this one by more than 0.0002 in mean speedup, so the
// estimates stay as they were tuned.
constexpr double kPodPrefillFlopsPerUs = 320e6;
constexpr double kPodDecodeBytesPerUs = 2.9e6;

struct PodLaunch {
    Launch prefill, decode;   // the two phases' plans (work items, splits, partial sizes, grids)
    int prefillCtas = 0;      // prefill.gridX * prefill.gridY
    int decodeCtas = 0;       // decode.gridX * decode.gridY
    int policy = kPodProportional;  // resolved (never kPodAuto)
    int ctasPerSm = 2;        // resolved co-residence shape, 2 or 4: pod_kernel / pod_smem
    int staticPrefillSms = 0;
    double prefillUs = 0, decodeUs = 0;  // the estimates auto and static work from
    bool fused = true;        // false: auto advises the two standalone kernels instead,
    bool fallbackStreams = false;  // on two streams (true) or one after the other
    unsigned grid = 0;        // prefillCtas + decodeCtas
    int smemBytes = 0;
};

// The `auto` policy. Fused (proportional tickets, or fifty-fifty where choose_pod_policy's replay
// of the launch says so, below) unless the batch is a large prefill beside a
// small decode: an estimated prefill share of the batch's time (prefillUs / (prefillUs + decodeUs),
// the rates below) above kPodMaxPrefillShare AND an estimated decode time under
// kPodSmallDecodeUs; that batch runs the two standalone kernels on two streams
// (PodLaunch::fused false, fallbackStreams true). From the H100 sweeps after the shared-memory
// alignment fix (pod.cu, run(); ../bench/results/pod-sweep-h100-2026-11-26-d.* (560 points of the
// issue's grid) and pod-alignment-h100-2026-11-26.* (217 prefill-heavy points)):
//  - fused was never below 1.007x serial at any share up to 65%, and 1.05-1.08x even below a 5%
//    share (before the fix it lost there, hence the old 5% floor, now 0);
//  - above 65% it still won (1.17-1.19x against 1.02-1.05x on two streams) while the decode had
//    real work (the grid: >= 27 decodes at 16K, ~600 us estimated), but beside one to
//    three decodes (under ~35 us) it fell to 0.94-0.99x and two streams won (1.03-1.37x): the
//    decode cannot hide the prefill and its CTAs still take slots, while on two streams they run
//    on the SMs the prefill's last wave leaves idle. Of the thresholds tried (share 0.60-1.00,
//    decode 0-400 us) this pair scored best on mean and minimum over the 777 points;
//  - fifty-fifty, static, a slot-pairing policy (one prefill beside one decode on every SM, an
//    experiment: 0.98x at 50% shares) and L2 eviction hints on the decode's loads (within 0.5%)
//    lost to proportional on average, so auto takes proportional but where the replay below
//    shows fifty-fifty ending sooner.
// CTAs per SM: see choose_pod_ctas.
constexpr double kPodMinPrefillShare = 0.0;
constexpr double kPodMaxPrefillShare = 0.65;
constexpr double kPodSmallDecodeUs = 50.0;

// CTAs per SM for `auto` (and for a ctasPerSm of 0): 2. The 4-CTA shape (pod.cu) lost at all 560
// points of the H100 sweep, with the prefill on mma.sync and on wgmma alike (1.04x serial against
// 1.23x, worse the larger the prefill share: its 64-row tiles re-read each K/V byte twice as often,
// ../bench/results/pod-sweep-h100-2026-11-27{,-c}.*, pod-ncu-h100-2026-11-27.*).
inline int choose_pod_ctas() { return 2; }

inline bool pod_worth_fusing(double prefillUs, double decodeUs) {
    if (prefillUs <= 0 || decodeUs <= 0 || prefillUs < kPodMinPrefillShare * (prefillUs + decodeUs)) return false;
    return prefillUs <= kPodMaxPrefillShare * (prefillUs + decodeUs) || decodeUs >= kPodSmallDecodeUs;
}

// The fused launch's span with the prefill cut into `prefillChunk`-key pieces, for the span rule
// (PodTuning::prefillRule 3). Each CTA takes keys / (its rate beside a CTA of the other phase) plus
// a fixed cost; the span is the larger of the slot-time over the SMs' two slots and the longest
// CTA, plus the prefill merge when it splits (a launch and the fp32 partials written and read).
// Why: at serving-sized steps (17+ Llama-3-8B decodes, where the limited-split rule keeps the prefill
// whole) the launch ends on one prefill CTA per SM walking the whole context, alone after the
// decode's CTAs are done (H200 trace, chunk 512 after 15,872 keys beside 20 decodes at 16,896: the
// last 112 of 517 us).
// Rates: CTA timelines of the fused kernel on the H200 (pod_bench --modes trace, four serving and
// sweep points, d 128): a 128-row prefill CTA walks ~28 keys/us beside a decode CTA, a decode CTA
// ~58 keys/us (+4 us) beside a prefill CTA; both scale with 1 / head dim.
// The estimate promises ~0.11 more than a split delivers (it ignores that the lone tail runs
// faster and what a split costs beyond its merge): on 11 points where it promised 1.04-1.21x the
// split measured 0.95-1.08x, gaining only where it promised >= 1.13x. Hence kPodSpanMinSpeedup.
// Measured with it (H200; each rule's rows twice a round, in both orders): on a serving grid of
// 12,960 steps (chunk 512/1024/2048 at every 1K of a prompt up to 16.9K, 4-48 decodes at 4K, 8K or
// 16.9K, both models) it splits 934, all chunk 512 beside 17-48 decodes; a random 40 of them measured
// 1.110x (0.989-1.254x), fused over serial 1.049x -> 1.157x, 15 of the 40 from below serial to
// above (../bench/results/pod-span-rule-wide-h200-2026-11-29.*); the first grid's 10 (prompts no
// longer than the decodes' context) 1.040x (1.002-1.080x, pod-span-rule-h200-2026-11-29.*); points
// it leaves 1.000x. No point of the sweep grid changes. Proportional tickets only (the caller
// checks): under fifty-fifty the same splits measured 0.88x.
constexpr double kPodPrefillCtaKeyDimsPerUs = 28.0 * 128;
constexpr double kPodPrefillCtaUs = 3.0;
constexpr double kPodDecodeCtaKeyDimsPerUs = 58.0 * 128;
constexpr double kPodDecodeCtaUs = 4.0;
constexpr int kPodSpanMaxPrefillSplits = 8;
constexpr double kPodSpanMinSpeedup = 1.12;  // what a split plan must promise over the limited plan

// Adds one phase's CTAs to slotUs (their summed time) and longestUs: unitKeys are the keys of each
// (work item or request, kv head[, head chunk]) unit, cut into CTAs of at most `chunk` keys.
inline void pod_span_pieces(const std::vector<int>& unitKeys, int chunk, double keyDimsPerUs, double ctaUs,
                            int headDim, double& slotUs, double& longestUs) {
    for (int keys : unitKeys) {
        const int pieces = (keys + chunk - 1) / chunk;
        slotUs += (double)keys * headDim / keyDimsPerUs + pieces * ctaUs;
        longestUs = std::max(longestUs, (double)std::min(chunk, keys) * headDim / keyDimsPerUs + ctaUs);
    }
}

// decodeSlotUs / decodeLongestUs: pod_span_pieces of the decode, which the candidates share.
// slotBoundUs, if given, receives the first term alone: finer splits only add CTAs, so no split
// plan's span falls below the limited plan's slot-time bound.
inline double pod_span_us(const std::vector<int>& prefillUnits, int prefillChunk, double prefillMergeUs,
                          double decodeSlotUs, double decodeLongestUs, int numSms, int headDim,
                          double* slotBoundUs = nullptr) {
    double slotUs = decodeSlotUs, longestUs = decodeLongestUs;
    pod_span_pieces(prefillUnits, prefillChunk, kPodPrefillCtaKeyDimsPerUs, kPodPrefillCtaUs, headDim, slotUs,
                    longestUs);
    if (slotBoundUs) *slotBoundUs = slotUs / (2.0 * numSms);
    return std::max(slotUs / (2.0 * numSms), longestUs) + prefillMergeUs;
}

// The span rule's choice for a fused launch whose phases are planned (prefill: the limited splits,
// rows packed rows per work item; decode: its final plan): the prefill chunk of the split count
// (above the limited plan's, up to kPodSpanMaxPrefillSplits) with the lowest pod_span_us, if that
// beats the limited plan's estimate by kPodSpanMinSpeedup, else 0 (keep the limited plan).
inline int pod_span_prefill_chunk(const int32_t* qoIndptr, const int32_t* kvIndptr, const int32_t* kvLastPageLen,
                                  int numPrefill, int numDecode, int pageSize, int numQoHeads, int numKvHeads,
                                  int headDim, int numSms, const Launch& prefill, const Launch& decode, int rows) {
    const int group = numQoHeads / numKvHeads;
    const int headChunks = (group + PS_ATTN_DECODE_HEADS - 1) / PS_ATTN_DECODE_HEADS;
    // Units of each phase as the kernels cut them: prefill work items (rows packed rows of one
    // request, keys up to its last row's) per kv head, decode requests per kv head and head chunk.
    std::vector<int> prefillUnits;
    int maxPrefillKv = 1;
    for (int r = 0; r < numPrefill; ++r) {
        const int q = qoIndptr[r + 1] - qoIndptr[r];
        const int kv = kv_len(kvIndptr, kvLastPageLen, r, pageSize);
        maxPrefillKv = std::max(maxPrefillKv, kv);
        for (int m0 = 0; m0 < q * group; m0 += rows) {
            const int lastRow = std::min(m0 + rows, q * group) - 1;
            for (int u = 0; u < numKvHeads; ++u) prefillUnits.push_back(kv - q + lastRow / group + 1);
        }
    }
    std::vector<int> decodeUnits;
    for (int r = numPrefill; r < numPrefill + numDecode; ++r)
        for (int u = 0; u < numKvHeads * headChunks; ++u) decodeUnits.push_back(kv_len(kvIndptr, kvLastPageLen, r, pageSize));
    double decodeSlotUs = 0, decodeLongestUs = 0;
    pod_span_pieces(decodeUnits, decode.kvChunkSize, kPodDecodeCtaKeyDimsPerUs, kPodDecodeCtaUs, headDim, decodeSlotUs,
                    decodeLongestUs);
    // The prefill merge: a launch plus each split request's partials (rows x splits x heads x dims
    // fp32, written and read).
    auto merge_us = [&](int chunk) {
        double bytes = 0;
        for (int r = 0; r < numPrefill; ++r) {
            const int kv = kv_len(kvIndptr, kvLastPageLen, r, pageSize);
            if (kv > chunk)
                bytes += 8.0 * (qoIndptr[r + 1] - qoIndptr[r]) * ((kv + chunk - 1) / chunk) * numQoHeads * headDim;
        }
        return bytes > 0 ? kMergeLaunchUs + bytes / kMergeBytesPerUs : 0.0;
    };
    const int limitedChunk = prefill.kvChunkSize;
    double slotBoundUs = 0;
    const double limitedUs = pod_span_us(prefillUnits, limitedChunk, merge_us(limitedChunk), decodeSlotUs,
                                         decodeLongestUs, numSms, headDim, &slotBoundUs);
    double bestUs = limitedUs / kPodSpanMinSpeedup;
    if (slotBoundUs >= bestUs) return 0;  // the slots bound every split plan: the usual, decode-heavy step
    int bestChunk = 0, lastChunk = 0;
    for (int s = prefill.maxSplits + 1; s <= kPodSpanMaxPrefillSplits; ++s) {
        const int chunk = std::max(kMinChunk, round_up((maxPrefillKv + s - 1) / s, kKeyAlign));
        if (chunk == lastChunk || chunk >= limitedChunk || (maxPrefillKv + chunk - 1) / chunk <= prefill.maxSplits)
            continue;
        lastChunk = chunk;
        const double us =
            pod_span_us(prefillUnits, chunk, merge_us(chunk), decodeSlotUs, decodeLongestUs, numSms, headDim);
        if (us < bestUs) {
            bestUs = us;
            bestChunk = chunk;
        }
    }
    return bestChunk;
}

// auto's SM policy: a replay of the fused launch's tickets (pod_ticket_span_us), proportional or
// fifty-fifty, whichever ends sooner by kPodFiftyFiftyMinSpeedup.
// Why: proportional tickets spread the prefill CTAs evenly over the launch, one prefill ticket per
// floor(D/P) + 1 on every SM. When there are more prefill CTAs than SMs and they are the long ones
// (a chunk of 768 late in a prompt: 192 CTAs each walking 4K-13K keys, beside 8-24 decodes cut into
// 576-1152 short CTAs), a prefill CTA past the first wave starts only after floor(D/P) decodes on its
// SM and the launch ends on its walk. Fifty-fifty alternates, so those CTAs start after one decode.
// H200, pod_bench at 24 serving shapes (chunk 512 and 768 after 0-12K beside 8-24 decodes at
// 16,896 keys, ../bench/results/pod-policy-replay-h200-2026-11-29.*): fifty-fifty 1.10-1.19x as fast
// as proportional at 7 of them, up to 0.89x as slow at others; on the 560-point grid it is at
// best 1.026x and on average 0.964x. Picking by this replay with a 1.03 margin took fifty-fifty at
// exactly those 7 serving shapes (1.155x -> 1.201x over serial, the best of the two 1.201x) and at
// no point of the grid. Out of sample, 128 serving shapes (chunks 512-1536 after 2K-14K keys beside
// 4-32 decodes at 8K or 16.9K keys): 1.143x -> 1.167x serial (the best of the two 1.169x).
// The replay: 2 slots per SM, filled one per SM and then the second, after that each freed slot
// takes the next CTA, which takes its SM's ticket and the policy's operation (with the fall-back) as
// the kernel does. A CTA's work is its keys x head dim plus a fixed cost, done at a rate that
// depends on what shares its SM: a prefill CTA alone, beside another prefill CTA or beside a decode
// CTA; decode CTAs at their own rate while the card's bandwidth, shared by all running decode
// CTAs, allows it. Rates from the fused kernel's CTA timelines (kPodPrefillCtaKeyDimsPerUs,
// kPodDecodeCtaKeyDimsPerUs above) and the prefill alone at one and two CTAs per SM (1.46x the
// throughput with two); the card's decode rate is the H200's ~4.3 TB/s of K/V. Only the ratio
// between the two replays matters.
constexpr double kPodLonePrefillKeyDimsPerUs = 31.0 * 128;
constexpr double kPodPairedPrefillKeyDimsPerUs = 22.5 * 128;
constexpr double kPodCardDecodeKeyDimsPerUs = 8400.0 * 128;
constexpr double kPodFiftyFiftyMinSpeedup = 1.03;

// The operation a ticket asks for, as pod.cu's op_of_ticket (0 prefill, 1 decode), before the
// fall-back.
inline int pod_ticket_op(int policy, int ticket, int P, int D) {
    if (P == 0) return 1;
    if (D == 0) return 0;
    if (policy == kPodFiftyFifty) return ticket & 1;
    if (P <= D) return ticket % (1 + D / P) == 0 ? 0 : 1;
    const int cycle = P / D + 1;
    return ticket % cycle == cycle - 1 ? 1 : 0;
}

// Each logical CTA's work in key-dims (keys x head dim plus its fixed cost at its rate beside the
// other phase), in logical-id order: id = y * gridX + x, x over (unit, kv head[, head chunk]) and
// y the split. unitKeys: the keys of each x.
inline std::vector<double> pod_cta_work(const std::vector<int>& unitKeys, int chunk, int splits, int headDim,
                                        double fixedUs, double keyDimsPerUs) {
    std::vector<double> work;
    work.reserve(unitKeys.size() * splits);
    for (int s = 0; s < splits; ++s)
        for (int keys : unitKeys)
            work.push_back((double)std::max(0, std::min(chunk, keys - s * chunk)) * headDim + fixedUs * keyDimsPerUs);
    return work;
}

// The replayed launch's end in microseconds (see above); pre / dec from pod_cta_work.
inline double pod_ticket_span_us(const std::vector<double>& pre, const std::vector<double>& dec, int numSms,
                                 int policy) {
    const int P = (int)pre.size(), D = (int)dec.size(), total = P + D, slots = 2 * numSms;
    std::vector<int> op(slots, -1), version(slots, 0), tickets(numSms, 0);
    std::vector<double> left(slots, 0), rate(slots, 0), since(slots, 0);
    int next[2] = {0, 0}, launched = 0, decoding = 0;
    double t = 0, done = 0;  // done: key-dims every running decode CTA has streamed since the start
    using Ev = std::pair<double, long long>;  // (time or decode target, slot | version << 20)
    std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> prefillEnds, decodeEnds;
    auto rerate = [&](int s) {  // a prefill CTA's rate follows its SM-mate
        left[s] -= rate[s] * (t - since[s]);
        since[s] = t;
        const int mate = op[s ^ 1];
        rate[s] = mate < 0 ? kPodLonePrefillKeyDimsPerUs
                           : mate == 0 ? kPodPairedPrefillKeyDimsPerUs : kPodPrefillCtaKeyDimsPerUs;
        prefillEnds.push({t + left[s] / rate[s], (long long)s | ((long long)++version[s] << 20)});
    };
    // A prefill CTA is re-rated only when its SM-mate's phase changes: a decode CTA followed by
    // another on the same slot leaves it as it was (most events of a launch).
    auto start = [&](int s) {
        const int sm = s >> 1;
        int o = pod_ticket_op(policy, tickets[sm]++, P, D);
        if (next[o] >= (o == 0 ? P : D)) o ^= 1;
        const int id = next[o]++;
        ++launched;
        op[s] = o;
        if (o == 0) {
            left[s] = pre[id];
            rate[s] = 0;
            since[s] = t;
            rerate(s);
        } else {
            ++decoding;
            decodeEnds.push({done + dec[id], s});
        }
    };
    auto finish = [&](int s) {
        const int was = op[s];
        if (was == 1) --decoding;
        op[s] = -1;
        ++version[s];
        if (launched < total) start(s);
        if (op[s ^ 1] == 0 && op[s] != was) rerate(s ^ 1);
    };
    for (int j = 0; j < 2; ++j)
        for (int sm = 0; sm < numSms && launched < total; ++sm) {
            start(2 * sm + j);
            if (op[2 * sm + (j ^ 1)] == 0) rerate(2 * sm + (j ^ 1));
        }
    const double inf = 1e300;
    for (;;) {
        while (!prefillEnds.empty() && (prefillEnds.top().second >> 20) != version[prefillEnds.top().second & 0xFFFFF])
            prefillEnds.pop();
        const double decodeRate = decoding ? std::min(kPodDecodeCtaKeyDimsPerUs, kPodCardDecodeKeyDimsPerUs / decoding) : 0;
        const double tp = prefillEnds.empty() ? inf : prefillEnds.top().first;
        const double td = decoding ? t + (decodeEnds.top().first - done) / decodeRate : inf;
        if (tp == inf && td == inf) return t;
        const double nt = std::min(tp, td);
        done += decodeRate * (nt - t);
        t = nt;
        int s;
        if (tp <= td) {
            s = (int)(prefillEnds.top().second & 0xFFFFF);
            prefillEnds.pop();
        } else {
            s = (int)decodeEnds.top().second;
            decodeEnds.pop();
        }
        finish(s);
    }
}

// auto's policy for a fused launch whose phases are planned (the limited prefill splits and the
// decode's final plan, 2 CTAs per SM): fifty-fifty where the replay ends sooner by
// kPodFiftyFiftyMinSpeedup, else proportional. With no more prefill CTAs than SMs both policies
// start every prefill CTA in the first wave, one per SM, and replay the same; so do they with
// P <= D < 2P, where proportional's cycle is two tickets. Neither is replayed.
inline int choose_pod_policy(const int32_t* qoIndptr, const int32_t* kvIndptr, const int32_t* kvLastPageLen,
                             int numPrefill, int numDecode, int pageSize, int numQoHeads, int numKvHeads, int headDim,
                             int numSms, const Launch& prefill, const Launch& decode, int rows) {
    const int prefillCtas = numPrefill > 0 ? (int)(prefill.gridX * prefill.gridY) : 0;
    const int decodeCtas = numDecode > 0 ? (int)(decode.gridX * decode.gridY) : 0;
    // With P <= D < 2P proportional tickets alternate too: the same launch.
    if (numDecode == 0 || prefillCtas <= numSms || (decodeCtas >= prefillCtas && decodeCtas < 2 * prefillCtas))
        return kPodProportional;
    const int group = numQoHeads / numKvHeads;
    const int headChunks = (group + PS_ATTN_DECODE_HEADS - 1) / PS_ATTN_DECODE_HEADS;
    std::vector<int> prefillUnits, decodeUnits;
    for (size_t i = 0; i + 1 < prefill.workItems.size(); i += 2) {
        const int r = prefill.workItems[i], m0 = prefill.workItems[i + 1];
        const int q = qoIndptr[r + 1] - qoIndptr[r];
        const int lastRow = std::min(m0 + rows, q * group) - 1;
        const int keys = kv_len(kvIndptr, kvLastPageLen, r, pageSize) - q + lastRow / group + 1;
        for (int u = 0; u < numKvHeads; ++u) prefillUnits.push_back(keys);
    }
    for (int r = numPrefill; r < numPrefill + numDecode; ++r)
        for (int u = 0; u < numKvHeads * headChunks; ++u) decodeUnits.push_back(kv_len(kvIndptr, kvLastPageLen, r, pageSize));
    const std::vector<double> pre = pod_cta_work(prefillUnits, prefill.kvChunkSize, (int)prefill.gridY, headDim,
                                                 kPodPrefillCtaUs, kPodPrefillCtaKeyDimsPerUs);
    const std::vector<double> dec = pod_cta_work(decodeUnits, decode.kvChunkSize, (int)decode.gridY, headDim,
                                                 kPodDecodeCtaUs, kPodDecodeCtaKeyDimsPerUs);
    const double proportional = pod_ticket_span_us(pre, dec, numSms, kPodProportional);
    const double fiftyFifty = pod_ticket_span_us(pre, dec, numSms, kPodFiftyFifty);
    return fiftyFifty * kPodFiftyFiftyMinSpeedup < proportional ? kPodFiftyFifty : kPodProportional;
}

// How finely plan_pod cuts each phase (bench/pod_bench.cu sweeps variants; the defaults are the
// rule the sweep chose: decode >= 8 rounds, the paper's limited prefill splits (and since
// 2026-11-29 the span rule after them, which changes no plan of the sweep's grid); H100 exploration
// run of 280 points, ../bench/results/pod-tuning-h100-2026-11-26.*: mean 1.127x serial with
// proportional against 1.092x for the paper's rule alone, worst point 0.942x against 0.886x; any
// extra prefill split lost, its merge traffic costing more than the balance it buys).
// decodeRounds > 0: split the decode until it has at least decodeRounds x numSms CTAs (chunks >=
// kMinChunk), so that when it shares every SM with prefill tiles, about one slot each, the per-SM
// tickets can still balance it instead of ending on a partial round of long CTAs.
// smallDecodeRounds replaces decodeRounds when the unsplit decode has fewer (request, kv head)
// units than SMs, i.e. the serving-sized batches the sweep's grid (decodes at 90-100% of the KV
// capacity, >= 224 units) never has: there 8 rounds cut each decode into 16 short splits whose merge
// and tails cost more than they balance. H200, 16 such points (chunks 512-2048 after 1K-7K beside
// 7-15 decodes at 4K-8K, ../bench/results/pod-small-batches-h200-2026-11-27.*): proportional 1.174x
// serial with 4 rounds against 1.135x with 8, better at 14 of 16; on the grid (every point
// >= 224 units) 8 rounds stay ahead, 1.180x against 1.144x (pod-tuning-h200-2026-11-27.*). prefillRule: 0 = the paper's limited splits (above);
// 1 = the standalone plan's splits; 2 = the limited splits, then raised until prefillRounds x
// numSms CTAs, like the decode; 3 (the default) = the limited splits, then the span rule
// (pod_span_prefill_chunk, 2-CTA shape only).
struct PodTuning {
    int decodeRounds = 8;
    int smallDecodeRounds = 4;
    int prefillRule = 3;
    int prefillRounds = 2;
};

// Requests [0, numPrefill) are the prefill group, [numPrefill, numPrefill + numDecode) the decode
// group (ARCHITECTURE.md's order: prefills first). forcePrefillChunk / forceDecodeChunk > 0 override
// the split rules (tests). policy may be kPodAuto. ctasPerSm: 2 or 4, or 0 for choose_pod_ctas
// (which kPodAuto also uses).
inline PodLaunch plan_pod(const int32_t* qoIndptr, const int32_t* kvIndptr, const int32_t* kvLastPageLen,
                          int numPrefill, int numDecode, int pageSize, int numQoHeads, int numKvHeads, int headDim,
                          int numSms, int policy, int forcePrefillChunk = 0, int forceDecodeChunk = 0,
                          const PodTuning& tuning = PodTuning(), int ctasPerSm = 2) {
    PodLaunch P;
    const int group = numQoHeads / numKvHeads;
    const int headChunks = (group + PS_ATTN_DECODE_HEADS - 1) / PS_ATTN_DECODE_HEADS;
    // Decode first: its unsplit CTA count decides whether the prefill may split.
    int maxDecodeKeys = 1;
    double decodeBytes = 0;
    for (int r = numPrefill; r < numPrefill + numDecode; ++r) {
        const int k = kv_len(kvIndptr, kvLastPageLen, r, pageSize);
        maxDecodeKeys = std::max(maxDecodeKeys, k);
        decodeBytes += 4.0 * numKvHeads * headDim * k + 4.0 * numQoHeads * headDim;
    }
    const int decodeUnits = numDecode * numKvHeads * headChunks;
    if (numDecode > 0) {
        P.decode = plan_decode(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads,
                               numKvHeads, headDim, numSms, forceDecodeChunk);
        const int ctas = (int)(P.decode.gridX * P.decode.gridY);
        // One split more fills a wave that is 80-100% full; never past kMaxSplits, which the
        // partial buffers and a graph's grid are sized for.
        if (forceDecodeChunk == 0 && ctas >= 0.8 * numSms && ctas < numSms && P.decode.maxSplits < kMaxSplits) {
            const int chunk = round_up((maxDecodeKeys + P.decode.maxSplits) / (P.decode.maxSplits + 1), kKeyAlign);
            if (chunk >= kMinChunk && chunk < P.decode.kvChunkSize)
                P.decode = plan_decode(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads,
                                       numKvHeads, headDim, numSms, chunk);
        }
        const int rounds = decodeUnits < numSms ? tuning.smallDecodeRounds : tuning.decodeRounds;
        if (forceDecodeChunk == 0 && rounds > 0)
            P.decode = split_to_rounds(P.decode, decodeUnits, maxDecodeKeys, rounds, numSms, [&](int chunk) {
                return plan_decode(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads,
                                   numKvHeads, headDim, numSms, chunk);
            });
    }
    double prefillFlops = 0;
    int maxPrefillKv = 1;
    for (int r = 0; r < numPrefill; ++r) {
        const int q = qoIndptr[r + 1] - qoIndptr[r];
        const int kv = kv_len(kvIndptr, kvLastPageLen, r, pageSize);
        maxPrefillKv = std::max(maxPrefillKv, kv);
        prefillFlops += 4.0 * numQoHeads * headDim * ((double)q * (kv - q) + (double)q * (q + 1) / 2);
    }
    P.prefillUs = prefillFlops / kPodPrefillFlopsPerUs;
    P.decodeUs = decodeBytes / kPodDecodeBytesPerUs;
    P.ctasPerSm = ctasPerSm == 2 || ctasPerSm == 4 ? ctasPerSm : choose_pod_ctas();
    const int rows = pod_prefill_rows(P.ctasPerSm);
    if (numPrefill > 0) {
        P.prefill = plan_prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize, numQoHeads, numKvHeads,
                                 headDim, numSms, forcePrefillChunk, rows);
        if (forcePrefillChunk == 0 && tuning.prefillRule != 1 && P.prefill.maxSplits > 1) {
            const int units = (int)P.prefill.gridX;
            const int cap = decodeUnits >= numSms ? 1 : std::max(1, 2 * numSms / std::max(units, 1));
            if (P.prefill.maxSplits > cap) {
                const int chunk = round_up((maxPrefillKv + cap - 1) / cap, kKeyAlign);
                P.prefill = plan_prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize, numQoHeads,
                                         numKvHeads, headDim, numSms, chunk, rows);
            }
        }
    }
    // auto's policy, from the phases as planned so far. The span rule assumes proportional tickets:
    // under fifty-fifty the extra prefill CTAs each take a decode's turn on their SM, and the same
    // splits measured 0.88x.
    const int resolvedPolicy = policy != kPodAuto ? policy
                               : P.ctasPerSm == 2 && numPrefill > 0 && numDecode > 0
                                   ? choose_pod_policy(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize,
                                                       numQoHeads, numKvHeads, headDim, numSms, P.prefill, P.decode, rows)
                                   : kPodProportional;
    if (numPrefill > 0 && numDecode > 0 && forcePrefillChunk == 0 && tuning.prefillRule == 3 && P.ctasPerSm == 2 &&
        resolvedPolicy == kPodProportional) {
        const int chunk = pod_span_prefill_chunk(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize,
                                                 numQoHeads, numKvHeads, headDim, numSms, P.prefill, P.decode, rows);
        if (chunk > 0)
            P.prefill = plan_prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize, numQoHeads,
                                     numKvHeads, headDim, numSms, chunk, rows);
    }
    if (numPrefill > 0 && forcePrefillChunk == 0 && tuning.prefillRule == 2)
        P.prefill = split_to_rounds(P.prefill, (int)P.prefill.gridX, maxPrefillKv, tuning.prefillRounds, numSms,
                                    [&](int chunk) {
                                        return plan_prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize,
                                                            numQoHeads, numKvHeads, headDim, numSms, chunk, rows);
                                    });
    P.prefillCtas = numPrefill > 0 ? (int)(P.prefill.gridX * P.prefill.gridY) : 0;
    P.decodeCtas = numDecode > 0 ? (int)(P.decode.gridX * P.decode.gridY) : 0;
    P.policy = resolvedPolicy;
    P.fused = policy != kPodAuto || pod_worth_fusing(P.prefillUs, P.decodeUs);
    P.fallbackStreams = !P.fused && P.prefillUs > kPodMaxPrefillShare * (P.prefillUs + P.decodeUs);
    // static: prefill gets the share of SMs its estimated time asks for, at least one when it has
    // work.
    const double share = P.prefillUs + P.decodeUs > 0 ? P.prefillUs / (P.prefillUs + P.decodeUs) : 0.5;
    P.staticPrefillSms = P.prefillCtas == 0 ? 0 : std::min(numSms, std::max(1, (int)(share * numSms + 0.5)));
    P.grid = (unsigned)(P.prefillCtas + P.decodeCtas);
    P.smemBytes = pod_smem(headDim, P.ctasPerSm);
    return P;
}

// The PsPodParams fields that come from the plan; p.prefill / p.decode must already be filled
// (pointers, shapes, apply() of each phase's Launch), counters and ctaLog are the caller's.
inline void apply_pod(const PodLaunch& P, int numSms, PsPodParams& p) {
    p.prefillCtas = P.prefillCtas;
    p.decodeCtas = P.decodeCtas;
    p.prefillGridX = P.prefillCtas ? (int)P.prefill.gridX : 1;
    p.decodeGridX = P.decodeCtas ? (int)P.decode.gridX : 1;
    p.policy = P.policy;
    p.numSms = numSms;
    p.staticPrefillSms = P.staticPrefillSms;
    p.reserved = 0;
}

}  // namespace ps_attn_plan
