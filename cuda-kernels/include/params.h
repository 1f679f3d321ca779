/*
 * Parameter structs of the layer kernels: one plain-data struct per kernel, passed BY VALUE as the
 * kernel's only argument (cuLaunchKernel's kernelParams = { &params }).
 *
 * Plain C so that the Java side (JavaCPP, or a raw ByteBuffer) can fill it. Layout rule: x86-64 /
 * LP64 natural alignment, no hidden padding except at the end; fields are ordered pointers first
 * (8 bytes each), then int64 strides, then 4-byte ints and floats, so offsets are a running sum.
 * The sizes are asserted below; a Java mirror must match them.
 *
 * Conventions for every struct:
 *  - bf16 buffers are typed ps_bf16_t (the raw 16-bit pattern); floats are fp32, ids int32.
 *  - Activations are token-major: row t of a [T][width] buffer starts at t * stride elements, with
 *    stride >= width (a stride lets a kernel read q, k or v in place inside a fused qkv row, or
 *    gate/up inside a fused gate_up row). Strides are in ELEMENTS, not bytes.
 *  - Within a row, heads are contiguous: head h, dim d is element h * headDim + d.
 *  - Kernels take the fast 16-byte path when every row start of a buffer is 16-byte aligned
 *    (pointer % 16 == 0, stride % 8 == 0, width % 8 == 0) and fall back to a scalar path
 *    otherwise; both give identical results.
 *  - Ids or positions outside their tables are never dereferenced: the affected output row is
 *    written as NaN (or, for the cache append, the write is skipped), so a malformed batch shows up
 *    instead of reading foreign memory. The host validates batches before launching.
 *  - Launch shapes are given per struct. "block: any multiple of 32 up to 1024" means the kernel
 *    loops over its work with a block stride, so the block size is a tuning choice only.
 *
 * The paged KV layout and the batch's CSR arrays are described in paged_kv.cuh.
 */
#ifndef PODSERVE_PARAMS_H
#define PODSERVE_PARAMS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One bf16 value as its raw bits (sign, 8 exponent bits, 7 mantissa bits). */
typedef uint16_t ps_bf16_t;

/*
 * ps_embedding: out[t] = table[tokenIds[t]].
 * grid (T), block: any multiple of 32 up to 1024 (128 suggested), no shared memory.
 * An id outside [0, vocab) gives a NaN row.
 */
typedef struct PsEmbeddingParams {
    const ps_bf16_t* table;   /* [vocab][hidden], row-major, rows contiguous */
    const int32_t* tokenIds;  /* [T] */
    ps_bf16_t* out;           /* [T][outStride]; first `hidden` elements of each row written */
    int64_t outStride;        /* elements between rows of out, >= hidden */
    int32_t numTokens;        /* T */
    int32_t hidden;           /* row width */
    int32_t vocab;            /* rows in table */
} PsEmbeddingParams;

/*
 * ps_add_rmsnorm: for each token row,
 *     residual = bf16(residual + x)                         (skipped when x == NULL)
 *     out      = bf16(weight * residual * rsqrt(mean(residual^2) + eps))
 * in fp32, using the ROUNDED new residual, so the result equals a separate add then norm and
 * matches what the next layer adds to. x == NULL is the plain norm (first layer, final norm).
 * out may alias x (each row is read before any of it is written); out must not alias residual.
 * grid (T), block: any multiple of 32 up to 1024; rows with hidden <= 32 * blockDim.x stay in
 * registers (256 for hidden <= 8192, 1024 up to 32768), longer rows take a two-pass path.
 */
typedef struct PsAddRmsNormParams {
    const ps_bf16_t* x;       /* [T][xStride], or NULL */
    ps_bf16_t* residual;      /* [T][residualStride], read and written in place */
    const ps_bf16_t* weight;  /* [hidden] */
    ps_bf16_t* out;           /* [T][outStride] */
    int64_t xStride;          /* elements between rows of x (ignored when x == NULL) */
    int64_t residualStride;   /* elements between rows of residual */
    int64_t outStride;        /* elements between rows of out */
    int32_t numTokens;        /* T */
    int32_t hidden;           /* row width */
    float eps;                /* rms_norm_eps from config.json */
} PsAddRmsNormParams;

/*
 * ps_rope: rotary embedding in place on q and k, HF "rotate_half" convention: within the first
 * rotaryDim dims of every head, dim i pairs with i + rotaryDim/2 (i < rotaryDim/2) and
 *     x1' = x1 * cos - x2 * sin,   x2' = x2 * cos + x1 * sin
 * with cos/sin of row positions[t] of the tables (fp32 math, one bf16 rounding). Dims from
 * rotaryDim to headDim are left as they are (rotaryDim == headDim for Llama, Qwen2, Mistral).
 * The tables hold cos/sin of position * invFreq[i], built host-side, so every rope scaling type
 * (linear, dynamic NTK, llama3, yarn) is a table choice; yarn's attention factor (mscale) is
 * multiplied into both tables.
 * grid (T), block: any multiple of 32 up to 1024 (128 suggested). A position outside
 * [0, maxPositions) writes NaN into that token's q and k heads.
 */
typedef struct PsRopeParams {
    ps_bf16_t* q;             /* [T][qStride]: numHeads x headDim at the start of each row */
    ps_bf16_t* k;             /* [T][kStride]: numKvHeads x headDim at the start of each row */
    const float* cos;         /* [maxPositions][rotaryDim/2] */
    const float* sin;         /* [maxPositions][rotaryDim/2] */
    const int32_t* positions; /* [T]: absolute position of each token */
    int64_t qStride;          /* elements between rows of q (e.g. qDim + 2 * kvDim in a fused qkv) */
    int64_t kStride;          /* elements between rows of k */
    int32_t numTokens;        /* T */
    int32_t numHeads;         /* query heads */
    int32_t numKvHeads;       /* key heads (0: q only) */
    int32_t headDim;
    int32_t rotaryDim;        /* even, <= headDim */
    int32_t maxPositions;     /* rows in the tables */
} PsRopeParams;

/*
 * ps_silu_mul: out[t][i] = silu(gate[t][i]) * up[t][i], silu(g) = g / (1 + e^-g), fp32 math with
 * an accurate exp, one bf16 rounding.
 * grid (T, ceil(inter / (8 * blockDim.x))), block: any multiple of 32 up to 1024 (256 suggested).
 */
typedef struct PsSiluMulParams {
    const ps_bf16_t* gateUp;  /* [T][gateUpStride]: gate at cols [0, inter), up at [inter, 2*inter) */
    ps_bf16_t* out;           /* [T][outStride], inter elements per row */
    int64_t gateUpStride;     /* elements between rows of gateUp, >= 2 * inter */
    int64_t outStride;        /* elements between rows of out, >= inter */
    int32_t numTokens;        /* T */
    int32_t inter;            /* intermediate_size */
} PsSiluMulParams;

/*
 * ps_kv_append: writes this step's K and V rows (after RoPE) into one layer's paged cache. Token t
 * of request r = request_of_row(qoIndptr, t) goes to page kvPageIndices[kvIndptr[r] +
 * positions[t] / pageSize], slot positions[t] % pageSize (paged_kv.cuh). The slots are derived on
 * the GPU from the batch's CSR arrays, so no per-step slot mapping has to be built and copied.
 * A token whose position falls outside its request's page list, or whose page id is outside
 * [0, numPages), is skipped.
 * grid (T), block: any multiple of 32 up to 1024 (128 suggested).
 */
typedef struct PsKvAppendParams {
    const ps_bf16_t* k;            /* [T][kStride]: numKvHeads x headDim per row */
    const ps_bf16_t* v;            /* [T][vStride]: numKvHeads x headDim per row */
    ps_bf16_t* kCache;             /* [numPages][numKvHeads][pageSize][headDim] of this layer */
    ps_bf16_t* vCache;             /* [numPages][numKvHeads][pageSize][headDim] of this layer */
    const int32_t* qoIndptr;       /* [R+1] */
    const int32_t* kvIndptr;       /* [R+1] */
    const int32_t* kvPageIndices;  /* [kvIndptr[R]] */
    const int32_t* positions;      /* [T] */
    int64_t kStride;               /* elements between rows of k */
    int64_t vStride;               /* elements between rows of v */
    int32_t numTokens;             /* T */
    int32_t numRequests;           /* R */
    int32_t numKvHeads;
    int32_t headDim;
    int32_t pageSize;
    int32_t numPages;              /* pages in each cache buffer */
} PsKvAppendParams;

/*
 * ps_gather_last_rows: dst[s] = src[qoIndptr[sampleRequests[s] + 1] - 1], the last query row of
 * each sampled request, packed so the final norm and LM head run on S rows instead of T.
 * A request index outside [0, numRequests) gives a NaN row.
 * grid (S), block: any multiple of 32 up to 1024 (128 suggested).
 */
typedef struct PsGatherLastRowsParams {
    const ps_bf16_t* src;           /* [T][srcStride] */
    ps_bf16_t* dst;                 /* [S][dstStride] */
    const int32_t* qoIndptr;        /* [R+1] */
    const int32_t* sampleRequests;  /* [S], request indices */
    int64_t srcStride;              /* elements between rows of src */
    int64_t dstStride;              /* elements between rows of dst */
    int32_t numSampled;             /* S */
    int32_t hidden;                 /* row width */
    int32_t numRequests;            /* R */
} PsGatherLastRowsParams;

/*
 * ps_argmax: out[s] = index of the largest logit of row s; ties go to the lowest index, NaN never
 * wins, a row of -inf gives 0, a row of only NaN gives -1 (the host treats it as a broken step).
 * grid (S), block: any multiple of 32 up to 1024 (1024 suggested: one row is vocab x 4 bytes,
 * 0.5 MB for a 128K vocabulary, read by a single CTA).
 */
typedef struct PsArgmaxParams {
    const float* logits;      /* [S][logitsStride] fp32 */
    int32_t* out;             /* [S] */
    int64_t logitsStride;     /* elements between rows, >= vocab */
    int32_t numRows;          /* S */
    int32_t vocab;            /* columns examined per row */
} PsArgmaxParams;

/*
 * ps_token_mask: a structured output's rule applied where the logits are, before ps_argmax and
 * ps_draw read them, so that a constrained row needs neither its logits copied back nor a late
 * fetch. For mask k, row r = rows[k]: logits[r][t] = -inf for every t < vocab whose bit
 * (masks[k][t / 32] >> (t % 32)) & 1 is clear; allowed entries are left as they are.
 * grid (numMasked), block: any multiple of 32 up to 1024.
 */
typedef struct PsTokenMaskParams {
    float* logits;            /* [S][logitsStride] fp32, written in place */
    const uint32_t* masks;    /* [numMasked][maskWords]: bit t % 32 of word t / 32 set = token t allowed */
    const int32_t* rows;      /* [numMasked]: the logits row of each mask */
    int64_t logitsStride;     /* elements between rows, >= vocab */
    int32_t numMasked;
    int32_t maskWords;        /* words between masks, >= ceil(vocab / 32) */
    int32_t vocab;
    int32_t reserved;
} PsTokenMaskParams;

/*
 * ps_score_rows: prompt scoring where the logits are (a request's prompt log-probabilities), so a
 * scored row copies back PS_SCORE_WORDS 32-bit words instead of its vocab-wide fp32 row. For row s,
 * with x its logits and t = targets[s], the host sampler's numbers (Sampler.score, Sampler.rank):
 *   lse = max x + log(sum_i exp(x_i - max x))       (the sum accumulated in double)
 *   out[s][0] = x_t - lse as fp32 bits;  out[s][1] = #{i : x_i >= x_t}, its rank (1 for a clear argmax);
 *   out[s][2 + k], out[s][2 + PS_SCORE_MAX_TOP + k] for k < top: the k-th likeliest id (higher logit,
 *   then lower id) and its x - lse as fp32 bits. Words past top are left as they were.
 * A row holding a NaN or +inf, or nothing but -inf, has no distribution: its rank word is -1 and
 * the host refuses it, as its sampler refuses such a row.
 * grid (S), block: any multiple of 32 up to 1024 (1024 suggested: one CTA streams a row three times,
 * or top + 3 times when more than PS_SCORE_CANDIDATES entries tie at or above the row's bound).
 */
#define PS_SCORE_MAX_TOP 20
#define PS_SCORE_WORDS (2 + 2 * PS_SCORE_MAX_TOP)
/* Entries at or above a row's top-th bound that ps_score_rows ranks in shared memory; more (many
 * ties at the bound) and it ranks the whole row instead, top passes over it. */
#define PS_SCORE_CANDIDATES 2048
typedef struct PsScoreRowsParams {
    const float* logits;      /* [S][logitsStride] fp32 */
    const int32_t* targets;   /* [S] token ids in [0, vocab) */
    int32_t* out;             /* [S][PS_SCORE_WORDS] */
    int64_t logitsStride;     /* elements between rows, >= vocab */
    int32_t numRows;          /* S */
    int32_t vocab;            /* columns examined per row */
    int32_t top;              /* 0..PS_SCORE_MAX_TOP */
    int32_t reserved;         /* 0 */
} PsScoreRowsParams;

/*
 * ps_draw: one token per draw row for a request sampled at a temperature, drawn where the logits
 * are with the host sampler's rules (Sampler, TruncatedDistribution), so such a step copies one int
 * per row back instead of a vocab-wide fp32 row:
 *   x_i = logits[row][i], or -inf for the row's banned ids (EOS and stop ids below min_tokens);
 *   w_i = exp(((double) x_i - max x) * inverseTemperature).
 * Without top-k and top-p: w_i = 0 where w_i < minP, and the token is the first id, in id order,
 * whose running sum of w exceeds uniform * sum(w).
 * With either: the finite ids ranked best first (higher logit, then lower id); the best topK of
 * them and every id tied with the topK-th; of those, the shortest best-first prefix whose mass reaches topP times the mass of what
 * top-k kept (of the whole row without top-k); of that, the prefix with w >= minP (at least one);
 * the token is the first in that order whose running sum exceeds uniform * the prefix's mass.
 * Ranking happens over a candidate set gathered by a coarse histogram of the weights, at most
 * PS_DRAW_MAX_CANDIDATES ids; a row whose top-k or nucleus needs more is handed back.
 * out[d] = -1 when the host must sample row d instead: a NaN or +inf logit (a broken step, which
 * the host reports), every logit banned (the host then retries without the bans), or too many
 * candidates. Sums are in double, as on the host, so the token equals the host's except where a
 * target falls within rounding (about 1e-16 relative) of a boundary.
 * grid (any; blocks loop over draws), block: a multiple of 32 from 64 to 1024 (1024 suggested).
 */
#define PS_DRAW_MAX_BANNED 8
#define PS_DRAW_MAX_CANDIDATES 4096

typedef struct PsDrawRow {
    double inverseTemperature;          /* 1 / T, T > 0 */
    double minP;                        /* 0: off */
    double topP;                        /* 1: off */
    double uniform;                     /* in [0, 1): the request's number for this step */
    int32_t row;                        /* logits row s */
    int32_t numBanned;                  /* entries of banned used, <= PS_DRAW_MAX_BANNED */
    int32_t topK;                       /* 0: off (or >= vocab) */
    int32_t banned[PS_DRAW_MAX_BANNED]; /* token ids in [0, vocab) */
} PsDrawRow;

typedef struct PsDrawParams {
    const float* logits;      /* [S][logitsStride] fp32 */
    const PsDrawRow* draws;   /* [numDraws] */
    int32_t* out;             /* [numDraws]: the token of draw d, or -1 */
    int64_t logitsStride;     /* elements between rows, >= vocab */
    int32_t numDraws;
    int32_t vocab;            /* columns of a row */
} PsDrawParams;

/*
 * ps_rope_append: ps_rope then ps_kv_append in one launch, token by token (rope.numTokens must
 * equal append.numTokens, and append.k must point at the rows rope rotates). grid (T), block as for
 * ps_rope.
 */
typedef struct PsRopeAppendParams {
    PsRopeParams rope;
    PsKvAppendParams append;
} PsRopeAppendParams;

/*
 * ps_dummy_fill: random weights drawn on the device, equal to the Java generator's
 * (dev.podserve.model.DummyWeights) rounded to bf16, so a dummy-weight model is ready in a fraction
 * of a second instead of being made and converted on the host:
 *   out[i] = bf16_rn(center + halfWidth * u(i)) for i < count, in fp32 with the product and the sum
 *   each rounded (no fused multiply-add), u(i) = (bits - 2^23) / 2^23 with bits = the top 24 bits of
 *   splitmix64(key + i * 0x9E3779B97F4A7C15) (64-bit wrap-around arithmetic).
 * grid: any (grid-stride loop), block: any multiple of 32.
 */
typedef struct PsDummyFillParams {
    ps_bf16_t* out;           /* [count] */
    int64_t count;
    int64_t key;              /* DummyWeights.tensorKey(seed, tensorId), as a two's-complement uint64 */
    float center;
    float halfWidth;
} PsDummyFillParams;

/*
 * ps_skinny_gemm: the projections of a step with few token rows (decode batches), where streaming
 * the weight is the whole cost: y[t][n] = sum_k x[t][k] * w[n][k] for t < numTokens, n < n, bf16
 * inputs, fp32 accumulation, with the sum over k in an order of the kernel's own (so results equal
 * cuBLAS's up to rounding, not bit for bit).
 *   flags PS_SKINNY_FP32_OUT:   y is fp32 (logits), else bf16 rounded to nearest even;
 *   flags PS_SKINNY_ACCUMULATE: y's current value is added to the fp32 sum before the one rounding
 *                               (the bias written first, as cuBLAS's beta = 1);
 *   flags PS_SKINNY_SILU_MUL:   w is the fused gate_up weight [2n][k] (gate rows, then up rows) and
 *                               y[t][i] = bf16(silu(g) * u) with g, u the two products each rounded
 *                               to bf16 first: exactly the gate_up GEMM then ps_silu_mul, one launch.
 * Requirements (the host falls back to cuBLAS otherwise): 1 <= numTokens <= PS_SKINNY_MAX_TOKENS,
 * k % 8 == 0, xStride % 8 == 0, x and w 16-byte aligned; SILU_MUL excludes the other two flags.
 * Entry points: ps_skinny_gemm_t8 (numTokens <= 8) and ps_skinny_gemm_t16 (<= 16), and
 * ps_skinny_gemm_silu_t8 / _t16 for SILU_MUL.
 * grid (ceil(n / PS_SKINNY_ROWS_PER_CTA(silu))), block PS_SKINNY_THREADS, dynamic shared memory
 * PS_SKINNY_SMEM_BYTES(numTokens, silu).
 */
#define PS_SKINNY_MAX_TOKENS 16
#define PS_SKINNY_THREADS 256
#define PS_SKINNY_FP32_OUT 1
#define PS_SKINNY_ACCUMULATE 2
#define PS_SKINNY_SILU_MUL 4
/* Tiling: 16-row weight tiles per CTA (outputs = 16 * tiles per CTA; with SILU_MUL as many gate
 * tiles plus the matching up tiles), and the 32-element k chunks each warp's shared-memory ring
 * holds. Overridable at compile time for tuning (bench/skinny_variants.sh); the Java side
 * (Projections) mirrors the defaults and StructLayoutTest checks it. */
#ifndef PS_SKINNY_TILES
#define PS_SKINNY_TILES 1
#endif
#ifndef PS_SKINNY_STAGES
#define PS_SKINNY_STAGES 4
#endif
#ifndef PS_SKINNY_SILU_TILES
#define PS_SKINNY_SILU_TILES 2
#endif
#ifndef PS_SKINNY_SILU_STAGES
#define PS_SKINNY_SILU_STAGES 2
#endif
/* Outputs per CTA, and the dynamic shared memory: the warps' rings, 16-byte slots [8 warps][stages]
 * [2 per weight tile + one per 8 tokens][32 lanes], then the fp32 partial sums [8 warps][weight
 * tiles][16 rows][8 * ceil(T / 8) + 1]. */
#define PS_SKINNY_ROWS_PER_CTA(silu) (16 * ((silu) ? PS_SKINNY_SILU_TILES : PS_SKINNY_TILES))
#define PS_SKINNY_WEIGHT_TILES(silu) ((silu) ? 2 * PS_SKINNY_SILU_TILES : PS_SKINNY_TILES)
#define PS_SKINNY_SMEM_BYTES(numTokens, silu)                                                              \
    (8 * ((silu) ? PS_SKINNY_SILU_STAGES : PS_SKINNY_STAGES) *                                             \
         (2 * PS_SKINNY_WEIGHT_TILES(silu) + ((numTokens) + 7) / 8) * 32 * 16 +                            \
     8 * PS_SKINNY_WEIGHT_TILES(silu) * 16 * (8 * (((numTokens) + 7) / 8) + 1) * 4)

typedef struct PsSkinnyGemmParams {
    const ps_bf16_t* x;       /* [T][xStride] activations, k used per row */
    const ps_bf16_t* w;       /* [n][k], rows contiguous ([2n][k] with SILU_MUL) */
    void* y;                  /* [T][yStride]: bf16, or fp32 with FP32_OUT; n written per row */
    int64_t xStride;          /* elements */
    int64_t yStride;          /* elements */
    int32_t numTokens;        /* T */
    int32_t n;                /* outputs per row (the intermediate size with SILU_MUL) */
    int32_t k;                /* reduction length */
    int32_t flags;            /* PS_SKINNY_* */
} PsSkinnyGemmParams;

#ifdef __cplusplus
}  /* extern "C" */

/* The byte sizes a Java mirror must reproduce (x86-64). */
static_assert(sizeof(PsEmbeddingParams) == 48, "PsEmbeddingParams layout");
static_assert(sizeof(PsAddRmsNormParams) == 72, "PsAddRmsNormParams layout");
static_assert(sizeof(PsRopeParams) == 80, "PsRopeParams layout");
static_assert(sizeof(PsSiluMulParams) == 40, "PsSiluMulParams layout");
static_assert(sizeof(PsKvAppendParams) == 104, "PsKvAppendParams layout");
static_assert(sizeof(PsGatherLastRowsParams) == 64, "PsGatherLastRowsParams layout");
static_assert(sizeof(PsArgmaxParams) == 32, "PsArgmaxParams layout");
static_assert(sizeof(PsTokenMaskParams) == 48, "PsTokenMaskParams layout");
static_assert(sizeof(PsScoreRowsParams) == 48, "PsScoreRowsParams layout");
static_assert(sizeof(PsDrawRow) == 80, "PsDrawRow layout");
static_assert(sizeof(PsDrawParams) == 40, "PsDrawParams layout");
static_assert(sizeof(PsDummyFillParams) == 32, "PsDummyFillParams layout");
static_assert(sizeof(PsRopeAppendParams) == 184, "PsRopeAppendParams layout");
static_assert(sizeof(PsSkinnyGemmParams) == 56, "PsSkinnyGemmParams layout");
#endif

#endif /* PODSERVE_PARAMS_H */
