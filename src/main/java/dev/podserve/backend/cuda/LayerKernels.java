package dev.podserve.backend.cuda;

/**
 * Launchers of cuda-kernels/layers: one method per kernel, each filling its params.h struct field
 * by field. Addresses are device pointers; strides are in elements; shapes as params.h documents.
 * Block sizes follow the header's suggestions.
 */
public final class LayerKernels implements AutoCloseable {

    private final CudaContext ctx;
    private final Kernel embedding;
    private final Kernel addRmsNorm;
    private final Kernel rope;
    private final Kernel siluMul;
    private final Kernel kvAppend;
    private final Kernel gatherLastRows;
    private final Kernel argmax;
    private final Kernel scoreRows;
    private final Kernel draw;
    private final Kernel tokenMask;
    private final Kernel dummyFill;
    private final Kernel ropeAppend;
    /** ps_skinny_gemm_t8, _t16, _silu_t8, _silu_t16: index 2 * silu + (T > 8). */
    private final Kernel[] skinnyGemm = new Kernel[4];
    private final ParamBlock embeddingParams = new ParamBlock(ParamLayouts.EMBEDDING);
    private final ParamBlock normParams = new ParamBlock(ParamLayouts.ADD_RMSNORM);
    private final ParamBlock ropeParams = new ParamBlock(ParamLayouts.ROPE);
    private final ParamBlock siluParams = new ParamBlock(ParamLayouts.SILU_MUL);
    private final ParamBlock skinnyParams = new ParamBlock(ParamLayouts.SKINNY_GEMM);
    private final ParamBlock appendParams = new ParamBlock(ParamLayouts.KV_APPEND);
    private final ParamBlock gatherParams = new ParamBlock(ParamLayouts.GATHER_LAST_ROWS);
    private final ParamBlock argmaxParams = new ParamBlock(ParamLayouts.ARGMAX);
    private final ParamBlock scoreParams = new ParamBlock(ParamLayouts.SCORE_ROWS);
    private final ParamBlock drawParams = new ParamBlock(ParamLayouts.DRAW);
    private final ParamBlock tokenMaskParams = new ParamBlock(ParamLayouts.TOKEN_MASK);
    private final ParamBlock dummyParams = new ParamBlock(ParamLayouts.DUMMY_FILL);
    private final ParamBlock ropeAppendParams = new ParamBlock(ParamLayouts.ROPE_APPEND);

    public LayerKernels(CudaContext ctx, KernelModule module) {
        this.ctx = ctx;
        this.embedding = module.function("ps_embedding");
        this.addRmsNorm = module.function("ps_add_rmsnorm");
        this.rope = module.function("ps_rope");
        this.siluMul = module.function("ps_silu_mul");
        this.kvAppend = module.function("ps_kv_append");
        this.gatherLastRows = module.function("ps_gather_last_rows");
        this.argmax = module.function("ps_argmax");
        this.scoreRows = module.function("ps_score_rows");
        this.draw = module.function("ps_draw");
        this.tokenMask = module.function("ps_token_mask");
        this.dummyFill = module.function("ps_dummy_fill");
        this.ropeAppend = module.function("ps_rope_append");
        this.skinnyGemm[0] = module.function("ps_skinny_gemm_t8");
        this.skinnyGemm[1] = module.function("ps_skinny_gemm_t16");
        this.skinnyGemm[2] = module.function("ps_skinny_gemm_silu_t8");
        this.skinnyGemm[3] = module.function("ps_skinny_gemm_silu_t16");
    }

    /**
     * out bf16 [count] = DummyWeights' draw of one tensor ({@code key} = DummyWeights.tensorKey),
     * rounded to bf16; see params.h.
     */
    public synchronized void dummyFill(long out, long count, long key, float center, float halfWidth) {
        if (count == 0) return;
        dummyParams.clear().ptr("out", out).i64("count", count).i64("key", key).f32("center", center).f32("halfWidth", halfWidth);
        // A grid-stride loop: a few waves of CTAs cover any tensor.
        int blocks = (int) Math.min(4096, (count + 255) / 256);
        dummyFill.launch(ctx, blocks, 1, 256, 0, dummyParams);
    }

    /** out[t] = table[tokenIds[t]]: table bf16 [vocab][hidden], tokenIds int32 [T], out bf16 [T][outStride]. */
    public synchronized void embedding(long table, long tokenIds, long out, long outStride, int T, int hidden, int vocab) {
        embeddingParams.clear().ptr("table", table).ptr("tokenIds", tokenIds).ptr("out", out).i64("outStride", outStride)
                .i32("numTokens", T).i32("hidden", hidden).i32("vocab", vocab);
        embedding.launch(ctx, T, 1, 128, 0, embeddingParams);
    }

    /**
     * residual = bf16(residual + x) (x == 0: plain norm), out = bf16(weight · rmsnorm(residual)).
     * x bf16 [T][xStride] or 0; residual bf16 [T][residualStride]; weight bf16 [hidden]; out bf16 [T][outStride].
     */
    public synchronized void addRmsNorm(long x, long xStride, long residual, long residualStride, long weight, long out,
                                        long outStride, int T, int hidden, float eps) {
        normParams.clear().ptr("x", x).ptr("residual", residual).ptr("weight", weight).ptr("out", out)
                .i64("xStride", xStride).i64("residualStride", residualStride).i64("outStride", outStride)
                .i32("numTokens", T).i32("hidden", hidden).f32("eps", eps);
        addRmsNorm.launchDependent(ctx, T, 1, hidden <= 8192 ? 256 : 1024, 0, normParams);
    }

    /**
     * Rotates q and k in place: q bf16 [T][qStride] (numHeads x headDim), k bf16 [T][kStride]
     * (numKvHeads x headDim), cos/sin fp32 [maxPositions][rotaryDim/2], positions int32 [T].
     */
    public synchronized void rope(long q, long qStride, long k, long kStride, long cos, long sin, long positions, int T,
                                  int numHeads, int numKvHeads, int headDim, int rotaryDim, int maxPositions) {
        ropeParams.clear().ptr("q", q).ptr("k", k).ptr("cos", cos).ptr("sin", sin).ptr("positions", positions)
                .i64("qStride", qStride).i64("kStride", kStride).i32("numTokens", T).i32("numHeads", numHeads)
                .i32("numKvHeads", numKvHeads).i32("headDim", headDim).i32("rotaryDim", rotaryDim)
                .i32("maxPositions", maxPositions);
        rope.launchDependent(ctx, T, 1, 128, 0, ropeParams);
    }

    /** out[t][i] = silu(gateUp[t][i]) * gateUp[t][inter + i]: gateUp bf16 [T][gateUpStride], out bf16 [T][outStride]. */
    public synchronized void siluMul(long gateUp, long gateUpStride, long out, long outStride, int T, int inter) {
        siluParams.clear().ptr("gateUp", gateUp).ptr("out", out).i64("gateUpStride", gateUpStride)
                .i64("outStride", outStride).i32("numTokens", T).i32("inter", inter);
        int block = 256;
        siluMul.launchDependent(ctx, T, (inter + 8 * block - 1) / (8 * block), block, 0, siluParams);
    }

    /**
     * y (+)= x · w^T on ps_skinny_gemm_* (params.h): x bf16 [T][xStride], w bf16 [n][k] ([2n][k] with
     * {@link Projections#SILU_MUL}), y [T][yStride] bf16 or fp32; T at most {@link Projections#MAX_TOKENS}.
     * {@link Projections} decides when it is used.
     */
    public synchronized void skinnyGemm(long x, long xStride, long w, long y, long yStride, int T, int n, int k, int flags) {
        skinnyParams.clear().ptr("x", x).ptr("w", w).ptr("y", y).i64("xStride", xStride).i64("yStride", yStride)
                .i32("numTokens", T).i32("n", n).i32("k", k).i32("flags", flags);
        boolean silu = (flags & Projections.SILU_MUL) != 0;
        int rows = Projections.rowsPerCta(silu);
        skinnyGemm[(silu ? 2 : 0) + (T > 8 ? 1 : 0)].launchDependent(ctx, (n + rows - 1) / rows, 1, Projections.THREADS,
                Projections.smemBytes(T, silu), skinnyParams);
    }

    /**
     * Writes k/v rows (bf16 [T][kStride], [T][vStride]) into one layer's caches, bf16
     * [numPages][numKvHeads][pageSize][headDim] each, at the slots the CSR arrays (int32 device
     * arrays qoIndptr [R+1], kvIndptr [R+1], kvPageIndices [nnz], positions [T]) give.
     */
    public synchronized void kvAppend(long k, long kStride, long v, long vStride, long kCache, long vCache, long qoIndptr,
                                      long kvIndptr, long kvPageIndices, long positions, int T, int R, int numKvHeads,
                                      int headDim, int pageSize, int numPages) {
        appendParams.clear().ptr("k", k).ptr("v", v).ptr("kCache", kCache).ptr("vCache", vCache)
                .ptr("qoIndptr", qoIndptr).ptr("kvIndptr", kvIndptr).ptr("kvPageIndices", kvPageIndices)
                .ptr("positions", positions).i64("kStride", kStride).i64("vStride", vStride).i32("numTokens", T)
                .i32("numRequests", R).i32("numKvHeads", numKvHeads).i32("headDim", headDim).i32("pageSize", pageSize)
                .i32("numPages", numPages);
        kvAppend.launchDependent(ctx, T, 1, 128, 0, appendParams);
    }

    /**
     * {@link #rope} then {@link #kvAppend} of the rotated k (the rows rope rotates) and v, in one
     * launch: the same results, one kernel fewer per layer.
     */
    public synchronized void ropeAppend(long q, long qStride, long k, long kStride, long v, long vStride, long cos, long sin,
                                        long positions, int T, int numHeads, int numKvHeads, int headDim, int rotaryDim,
                                        int maxPositions, long kCache, long vCache, long qoIndptr, long kvIndptr,
                                        long kvPageIndices, int R, int pageSize, int numPages) {
        ropeAppendParams.clear().ptr("rope.q", q).ptr("rope.k", k).ptr("rope.cos", cos).ptr("rope.sin", sin)
                .ptr("rope.positions", positions).i64("rope.qStride", qStride).i64("rope.kStride", kStride)
                .i32("rope.numTokens", T).i32("rope.numHeads", numHeads).i32("rope.numKvHeads", numKvHeads)
                .i32("rope.headDim", headDim).i32("rope.rotaryDim", rotaryDim).i32("rope.maxPositions", maxPositions)
                .ptr("append.k", k).ptr("append.v", v).ptr("append.kCache", kCache).ptr("append.vCache", vCache)
                .ptr("append.qoIndptr", qoIndptr).ptr("append.kvIndptr", kvIndptr).ptr("append.kvPageIndices", kvPageIndices)
                .ptr("append.positions", positions).i64("append.kStride", kStride).i64("append.vStride", vStride)
                .i32("append.numTokens", T).i32("append.numRequests", R).i32("append.numKvHeads", numKvHeads)
                .i32("append.headDim", headDim).i32("append.pageSize", pageSize).i32("append.numPages", numPages);
        ropeAppend.launchDependent(ctx, T, 1, 128, 0, ropeAppendParams);
    }

    /** dst[s] = src[last row of request sampleRequests[s]]: src bf16 [T][srcStride], dst bf16 [S][dstStride]. */
    public synchronized void gatherLastRows(long src, long srcStride, long dst, long dstStride, long qoIndptr,
                                            long sampleRequests, int S, int hidden, int R) {
        gatherParams.clear().ptr("src", src).ptr("dst", dst).ptr("qoIndptr", qoIndptr).ptr("sampleRequests", sampleRequests)
                .i64("srcStride", srcStride).i64("dstStride", dstStride).i32("numSampled", S).i32("hidden", hidden)
                .i32("numRequests", R);
        gatherLastRows.launchDependent(ctx, S, 1, 128, 0, gatherParams);
    }

    /** out[s] = argmax of logits fp32 [S][logitsStride] over the first vocab columns; out int32 [S]. */
    public synchronized void argmax(long logits, long logitsStride, long out, int S, int vocab) {
        argmaxParams.clear().ptr("logits", logits).ptr("out", out).i64("logitsStride", logitsStride).i32("numRows", S)
                .i32("vocab", vocab);
        argmax.launch(ctx, S, 1, 1024, 0, argmaxParams);
    }

    /**
     * Scores S rows of logits fp32 [S][logitsStride] at targets int32 [S] into out int32
     * [S][SCORE_WORDS]: each target's log-probability and rank and the {@code top} likeliest ids
     * with theirs. See params.h, ps_score_rows.
     */
    public synchronized void scoreRows(long logits, long logitsStride, long targets, long out, int S, int vocab, int top) {
        if (S == 0) return;
        scoreParams.clear().ptr("logits", logits).ptr("targets", targets).ptr("out", out).i64("logitsStride", logitsStride)
                .i32("numRows", S).i32("vocab", vocab).i32("top", top).i32("reserved", 0);
        scoreRows.launch(ctx, S, 1, 1024, 0, scoreParams);
    }

    /**
     * out[d] = the token of draw d over logits fp32 [S][logitsStride] (draws: PsDrawRow [numDraws]),
     * or -1 where the host must sample that row; out int32 [numDraws]. See params.h, ps_draw.
     */
    public synchronized void draw(long logits, long logitsStride, long draws, long out, int numDraws, int vocab) {
        if (numDraws == 0) return;
        drawParams.clear().ptr("logits", logits).ptr("draws", draws).ptr("out", out).i64("logitsStride", logitsStride)
                .i32("numDraws", numDraws).i32("vocab", vocab);
        draw.launch(ctx, numDraws, 1, 1024, 0, drawParams);
    }

    /**
     * Sets to -inf, in each of {@code numMasked} rows of logits fp32 [S][logitsStride] (row index
     * rows int32 [numMasked]), every entry whose bit in its mask uint32 [numMasked][maskWords] is
     * clear. See params.h, ps_token_mask.
     */
    public synchronized void tokenMask(long logits, long logitsStride, long masks, long rows, int numMasked, int maskWords, int vocab) {
        if (numMasked == 0) return;
        tokenMaskParams.clear().ptr("logits", logits).ptr("masks", masks).ptr("rows", rows).i64("logitsStride", logitsStride)
                .i32("numMasked", numMasked).i32("maskWords", maskWords).i32("vocab", vocab).i32("reserved", 0);
        tokenMask.launch(ctx, numMasked, 1, 1024, 0, tokenMaskParams);
    }

    @Override
    public void close() {
        for (ParamBlock p : new ParamBlock[] {ropeAppendParams, dummyParams, embeddingParams, normParams, ropeParams, siluParams,
                appendParams, gatherParams, argmaxParams, drawParams, tokenMaskParams, skinnyParams, scoreParams}) {
            p.close();
        }
    }
}
