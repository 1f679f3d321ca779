// Sampling at a temperature on the GPU: the host sampler's draw (params.h, ps_draw), so a sampled
// step copies one int per row back instead of a 0.5 MB logits row, and the host does not spend a
// millisecond per row on exponentials.
//
// One CTA per draw. Pass 1 takes the max over the unbanned logits and checks for NaN and +inf.
// Without top-k and top-p the draw is in id order:
//   2. each warp sums the weights of its own contiguous stretch of ids;
//   3. the warp whose stretch holds uniform * total walks it, 32 ids at a time with a warp prefix
//      sum, to the first id whose running sum exceeds that target.
// Contiguous stretches keep the id order of the running sum; inside a stretch the lanes still read
// adjacent ids, so every load is coalesced.
// With top-k or top-p the draw is in rank order, which needs a sort, but only of the few ids that
// can matter:
//   2. a histogram of counts and weights by distance from the max (eighths of a nat of weight, up
//      to 12 nats, then one far bucket) gives the last bucket the top-k or the nucleus can reach;
//   3. the ids up to that bucket are gathered as rank keys and sorted in shared memory (bitonic);
//   4. one warp walks them best first: top-k (with the ties of its k-th), then the nucleus, then
//      min-p, then the draw.
#include "../include/params.h"
#include "../include/podserve_common.cuh"

namespace draw {

struct Spec {
    double inverseTemperature;
    double minP;
    double topP;
    int topK;
    int numBanned;
    int banned[PS_DRAW_MAX_BANNED];
};

// Buckets of an eighth of a nat of weight below the max, up to 12 nats (weights down to e^-12 of the
// best); everything further is one "far" bucket, counted in registers rather than by atomics: it
// holds most of a vocabulary, and a nucleus or a top-k that reaches it takes the whole row anyway.
constexpr int kNearBuckets = 96;
constexpr int kHistCopies = 8;  // warps w, w+8, ... share a copy: fewer collisions on the atomics

__device__ __forceinline__ bool is_banned(const Spec& s, int i) {
    bool hit = false;
#pragma unroll
    for (int b = 0; b < PS_DRAW_MAX_BANNED; ++b) hit |= b < s.numBanned && s.banned[b] == i;
    return hit;
}

__device__ __forceinline__ double tempered(const Spec& s, float v, float max) {
    return exp(((double)v - (double)max) * s.inverseTemperature);
}

// The host's weight of id i in the id-order draw (TruncatedDistribution: temper, then dropBelow),
// 0 for banned ids.
__device__ __forceinline__ double weight(const Spec& s, const float* row, int i, float max) {
    const float v = __ldg(row + i);
    if (v == -INFINITY || is_banned(s, i)) return 0.0;
    const double w = tempered(s, v, max);
    return w < s.minP ? 0.0 : w;
}

// Distance from the max in eighths of a nat of weight, kNearBuckets for the far bucket; never
// decreases as the logit falls, so the ids of buckets 0..b are a best-first prefix of the ranking.
__device__ __forceinline__ int bucket(const Spec& s, float v, float max) {
    const double d = ((double)max - (double)v) * s.inverseTemperature * 8.0;
    return d >= kNearBuckets ? kNearBuckets : (int)d;
}

// RankKeys.key of the Java sampler: ascending order = higher logit first, then lower id.
__device__ __forceinline__ long long rank_key(float v, int id) {
    const int bits = __float_as_int(v + 0.0f);  // -0.0 and 0.0 tie
    const int ascending = bits < 0 ? bits ^ 0x7fffffff : bits;
    return (long long)((unsigned long long)(unsigned)~ascending << 32 | (unsigned)id);
}

__device__ __forceinline__ float key_logit(long long key) {
    const int ascending = ~(int)(key >> 32);
    return __int_as_float(ascending < 0 ? ascending ^ 0x7fffffff : ascending);
}

__device__ __forceinline__ int key_token(long long key) {
    return (int)(key & 0xffffffffll);
}

// Inclusive prefix sum across the warp's lanes, lane order.
__device__ __forceinline__ double warp_inclusive_scan(double v, int lane) {
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const double up = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += up;
    }
    return v;
}

// One warp, over sorted keys[0, count): the first j whose running sum of weights reaches target
// (sum >= target; sum > target when strictly), or count if none does. *sum gets the sum over
// [0, count) when target is +inf.
__device__ int first_reaching(const Spec& s, const long long* keys, int count, float max, double target,
                              bool strictly, double* sum, int lane) {
    double before = 0.0;
    for (int base = 0; base < count; base += 32) {
        const int j = base + lane;
        const double w = j < count ? tempered(s, key_logit(keys[j]), max) : 0.0;
        const double upTo = before + warp_inclusive_scan(w, lane);
        const unsigned hit = __ballot_sync(0xffffffffu, j < count && (strictly ? target < upTo : upTo >= target));
        if (hit) return base + __ffs(hit) - 1;
        before = __shfl_sync(0xffffffffu, upTo, 31);
    }
    *sum = before;
    return count;
}

// One warp: how many of sorted keys[0, count) weigh at least threshold (a prefix: weights fall).
__device__ int count_at_least(const Spec& s, const long long* keys, int count, float max, double threshold, int lane) {
    for (int base = 0; base < count; base += 32) {
        const int j = base + lane;
        const unsigned below = __ballot_sync(0xffffffffu, j < count && tempered(s, key_logit(keys[j]), max) < threshold);
        if (below) return base + __ffs(below) - 1;
    }
    return count;
}


// Shared memory of one CTA, reused draw after draw.
struct DrawShared {
    Spec spec;  // the draw's numbers, read by every thread (kept out of registers)
    float warpMax[32];
    int warpBad[32];
    double warpMass[32];
    int warpLast[32];
    // Id-order draw, set by warp 0 after pass 2: the owning warp (-1: none, rounding put the target
    // past the total), the mass before its stretch, the target, the last id of positive weight.
    int ownerWarp;
    double ownerBase;
    double target;
    int lastPositive;
    // Rank-order draw: counts and weights per near bucket, kHistCopies copies, and per warp the far
    // bucket's count; the cut bucket (-1: too many candidates), the candidates gathered so far, and
    // their rank keys.
    int histCount[kHistCopies][kNearBuckets];
    double histMass[kHistCopies][kNearBuckets];
    int warpFar[32];
    int cut;
    int numCandidates;
    long long keys[PS_DRAW_MAX_CANDIDATES];
};

// The id-order draw (no top-k, no top-p); every thread calls it, thread 0 or the owner writes *out.
__device__ void draw_in_id_order(const Spec& s, const float* row, int vocab, float m, double uniform, DrawShared& sh,
                                 int32_t* out) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int numWarps = blockDim.x >> 5;
    // Pass 2: warp w sums ids [begin, end), a stretch whose length is a multiple of 32.
    const int stretch = ((vocab + numWarps - 1) / numWarps + 31) / 32 * 32;
    const int begin = min(warp * stretch, vocab);
    const int end = min(begin + stretch, vocab);
    double mass = 0.0;
    int last = -1;
    for (int i = begin + lane; i < end; i += 32) {
        const double w = weight(s, row, i, m);
        mass += w;
        if (w > 0.0) last = i;
    }
    mass = ps::warp_sum(mass);
    last = ps::warp_max(last);
    if (lane == 0) {
        sh.warpMass[warp] = mass;
        sh.warpLast[warp] = last;
    }
    __syncthreads();
    if (warp == 0) {
        const double own = lane < numWarps ? sh.warpMass[lane] : 0.0;
        const double upTo = warp_inclusive_scan(own, lane);
        const double total = __shfl_sync(0xffffffffu, upTo, 31);
        const double t = uniform * total;
        const unsigned past = __ballot_sync(0xffffffffu, lane < numWarps && own > 0.0 && t < upTo);
        const int lastAll = ps::warp_max(lane < numWarps ? sh.warpLast[lane] : -1);
        if (lane == 0) {
            sh.ownerWarp = past ? __ffs(past) - 1 : -1;
            sh.target = t;
            sh.lastPositive = lastAll;
        }
        if (past && lane == __ffs(past) - 1) sh.ownerBase = upTo - own;
    }
    __syncthreads();
    // Pass 3: the owning warp walks its stretch in id order.
    const int owner = sh.ownerWarp;
    if (owner < 0) {
        if (threadIdx.x == 0) *out = sh.lastPositive;
    } else if (warp == owner) {
        double before = sh.ownerBase;
        const double t = sh.target;
        int token = -1;
        for (int base = begin; base < end && token < 0; base += 32) {
            const int i = base + lane;
            const double w = i < end ? weight(s, row, i, m) : 0.0;
            const double upTo = before + warp_inclusive_scan(w, lane);
            const unsigned hit = __ballot_sync(0xffffffffu, w > 0.0 && t < upTo);
            if (hit) token = base + __ffs(hit) - 1;
            before = __shfl_sync(0xffffffffu, upTo, 31);
        }
        // Summed in another order, the walk can end a hair short of the target: the stretch's
        // last positive id is then the host's answer too (it would be the next one's first
        // only if the target sat on that boundary to within rounding).
        if (lane == 0) *out = token >= 0 ? token : sh.warpLast[owner];
    }
}

// The rank-order draw (top-k or top-p); every thread calls it, warp 0 writes *out.
__device__ void draw_in_rank_order(const Spec& s, const float* row, int vocab, float m, double uniform, DrawShared& sh,
                                   int32_t* out) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int numWarps = blockDim.x >> 5;
    for (int i = threadIdx.x; i < kNearBuckets; i += blockDim.x) {
        for (int k = 0; k < kHistCopies; ++k) {
            sh.histCount[k][i] = 0;
            sh.histMass[k][i] = 0.0;
        }
    }
    if (threadIdx.x == 0) sh.numCandidates = 0;
    __syncthreads();
    // Pass 2: counts and weights by bucket, and the whole row's weight (top-p without top-k
    // measures its nucleus against it).
    double mass = 0.0;
    int far = 0;
    const int copy = warp % kHistCopies;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        const float v = __ldg(row + i);
        if (v == -INFINITY || is_banned(s, i)) continue;
        const double w = tempered(s, v, m);
        const int b = bucket(s, v, m);
        mass += w;
        if (b == kNearBuckets) {
            ++far;
        } else {
            atomicAdd(&sh.histCount[copy][b], 1);
            atomicAdd(&sh.histMass[copy][b], w);
        }
    }
    mass = ps::warp_sum(mass);
    far = __reduce_add_sync(0xffffffffu, far);
    if (lane == 0) {
        sh.warpMass[warp] = mass;
        sh.warpFar[warp] = far;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double total = 0.0;
        for (int w = 0; w < numWarps; ++w) total += sh.warpMass[w];
        sh.target = total;  // the row's weight, for the nucleus below
        // The last bucket the top-k (by count) or the nucleus (by weight, with a margin far above
        // the rounding of these sums) can reach; everything up to it is a candidate.
        const double needed = s.topP * total * (1.0 + 1e-9);
        int count = 0, cut = kNearBuckets;
        double reached = 0.0;
        for (int b = 0; b < kNearBuckets; ++b) {
            int c = 0;
            double w = 0.0;
            for (int k = 0; k < kHistCopies; ++k) {
                c += sh.histCount[k][b];
                w += sh.histMass[k][b];
            }
            count += c;
            reached += w;
            if (s.topK > 0 ? count >= s.topK : reached >= needed) {
                cut = b;
                break;
            }
        }
        if (cut == kNearBuckets) {  // the far bucket too: every finite unbanned id
            for (int w = 0; w < numWarps; ++w) count += sh.warpFar[w];
        }
        sh.cut = count > PS_DRAW_MAX_CANDIDATES ? -1 : cut;
    }
    __syncthreads();
    const int cut = sh.cut;
    if (cut < 0) {
        if (threadIdx.x == 0) *out = -1;  // the host ranks this one
        return;
    }
    // Pass 3: gather the candidates' rank keys, pad to a power of two, sort ascending (best first).
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        const float v = __ldg(row + i);
        if (v == -INFINITY || is_banned(s, i) || bucket(s, v, m) > cut) continue;
        sh.keys[atomicAdd(&sh.numCandidates, 1)] = rank_key(v, i);
    }
    __syncthreads();
    const int n = sh.numCandidates;
    int padded = 1;
    while (padded < n) padded <<= 1;
    for (int i = n + threadIdx.x; i < padded; i += blockDim.x) sh.keys[i] = 0x7fffffffffffffffll;
    __syncthreads();
    for (int k = 2; k <= padded; k <<= 1) {
        for (int j = k >> 1; j > 0; j >>= 1) {
            for (int i = threadIdx.x; i < padded; i += blockDim.x) {
                const int partner = i ^ j;
                if (partner > i) {
                    const long long a = sh.keys[i], b = sh.keys[partner];
                    if ((a > b) == ((i & k) == 0)) {
                        sh.keys[i] = b;
                        sh.keys[partner] = a;
                    }
                }
            }
            __syncthreads();
        }
    }
    // Pass 4: warp 0 walks the ranking as TruncatedDistribution does.
    if (warp != 0) return;
    double sum = 0.0;
    int kept = s.topK > 0 ? min(s.topK, n) : n;
    // Tokens tied with the k-th stay, as the host's top-k keeps them (equal high words, equal logits);
    // a tie has the k-th's bucket, so it is among the candidates.
    if (s.topK > 0) {
        while (kept < n && (sh.keys[kept] >> 32) == (sh.keys[kept - 1] >> 32)) ++kept;
    }
    if (s.topP < 1.0) {
        double base = sh.target;  // the whole row's weight; or what top-k kept
        if (s.topK > 0) draw::first_reaching(s, sh.keys, kept, m, INFINITY, false, &base, lane);
        const int j = draw::first_reaching(s, sh.keys, kept, m, s.topP * base, false, &sum, lane);
        if (j < kept) kept = j + 1;
    }
    // min-p against the best token, whose weight is exp(0) = 1.
    if (s.minP > 0.0) kept = max(1, draw::count_at_least(s, sh.keys, kept, m, s.minP, lane));
    double keptMass = 0.0;
    draw::first_reaching(s, sh.keys, kept, m, INFINITY, false, &keptMass, lane);
    const int j = draw::first_reaching(s, sh.keys, kept, m, uniform * keptMass, true, &sum, lane);
    if (lane == 0) *out = draw::key_token(sh.keys[j < kept ? j : kept - 1]);
}

}  // namespace draw

extern "C" __global__ void __launch_bounds__(1024) ps_draw(const PsDrawParams p) {
    __shared__ draw::DrawShared sh;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int numWarps = blockDim.x >> 5;
    for (int d = blockIdx.x; d < p.numDraws; d += gridDim.x) {
        const PsDrawRow* r = p.draws + d;
        if (threadIdx.x == 0) {
            draw::Spec& t = sh.spec;
            t.inverseTemperature = r->inverseTemperature;
            t.minP = r->minP;
            t.topP = r->topP;
            t.topK = r->topK > 0 && r->topK < p.vocab ? r->topK : 0;
            t.numBanned = min(max(r->numBanned, 0), PS_DRAW_MAX_BANNED);
            for (int b = 0; b < PS_DRAW_MAX_BANNED; ++b) t.banned[b] = r->banned[b];
        }
        __syncthreads();
        const draw::Spec& s = sh.spec;
        const double uniform = r->uniform;
        const float* row = p.logits + (int64_t)r->row * p.logitsStride;  // [vocab]

        // Pass 1: max over the unbanned logits; NaN and +inf are checked on the raw row, as the
        // host does before it applies any mask.
        float m = -INFINITY;
        int bad = 0;
        for (int i = threadIdx.x; i < p.vocab; i += blockDim.x) {
            const float v = __ldg(row + i);
            if (v != v || v == INFINITY) bad = 1;
            else if (v > m && !draw::is_banned(s, i)) m = v;
        }
        m = ps::warp_max(m);
        bad = ps::warp_max(bad);
        if (lane == 0) {
            sh.warpMax[warp] = m;
            sh.warpBad[warp] = bad;
        }
        __syncthreads();
        m = -INFINITY;
        bad = 0;
        for (int w = 0; w < numWarps; ++w) {
            m = fmaxf(m, sh.warpMax[w]);
            bad |= sh.warpBad[w];
        }
        __syncthreads();  // warpMax is rewritten below
        if (bad || m == -INFINITY) {
            if (threadIdx.x == 0) p.out[d] = -1;
        } else if (s.topK > 0 || s.topP < 1.0) {
            draw::draw_in_rank_order(s, row, p.vocab, m, uniform, sh, p.out + d);
        } else {
            draw::draw_in_id_order(s, row, p.vocab, m, uniform, sh, p.out + d);
        }
        __syncthreads();  // the shared slots are rewritten by the next draw
    }
}
