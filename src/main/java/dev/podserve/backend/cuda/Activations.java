package dev.podserve.backend.cuda;

import dev.podserve.model.ModelConfig;

/**
 * The device buffers of one step, sized for the largest step, carved from the arena once. All
 * activations are bf16 and token-major ({@code [T][width]}, rows contiguous); the KV cache holds
 * every layer's K then V pages.
 */
final class Activations {

    /** bf16 [maxTokens][hidden]: the residual stream, updated in place by add+RMSNorm. */
    final long residual;
    /** bf16 [maxTokens][hidden]: RMSNorm output, the input of the q/k/v and gate/up GEMMs. */
    final long normed;
    /** bf16 [maxTokens][qDim + 2*kvDim]: fused q, k, v rows; RoPE rotates q and k in place. */
    final long qkv;
    /** bf16 [maxTokens][qDim]: attention output, heads concatenated. */
    final long attn;
    /** bf16 [maxTokens][hidden]: o_proj output, added to the residual by the next add+RMSNorm. */
    final long attnOut;
    /** bf16 [maxTokens][2*inter]: gate then up per row. */
    final long gateUp;
    /** bf16 [maxTokens][inter]: silu(gate) * up. */
    final long mlpAct;
    /** bf16 [maxTokens][hidden]: down_proj output, added to the residual by the next layer's (or the final) norm. */
    final long mlpOut;
    /** bf16 [maxTokens] of 1.0: the left factor of the bias broadcast. */
    final long ones;
    /** bf16 [maxSampled][hidden] each: the sampled rows' residual, last MLP output, and final-normed state. */
    final long lastResidual;
    final long lastDelta;
    final long lastNormed;
    /** fp32 [maxSampled][vocab]. */
    final long logits;
    /** int32 [maxSampled]: each sampled row's argmax (greedy sampling on the device). */
    final long argmax;
    /** int32 [maxTokens]: the tokens the rows being scored are scored at (prompt scoring, uploaded once a call). */
    final long scoreTargets;
    /** int32 [maxTokens][SCORE_WORDS]: ps_score_rows' result per scored row. */
    final long scoreOut;
    /**
     * Where the LM head puts a group of rows: bf16 [rows][hidden] residual, last MLP output and
     * normed state, and fp32 [rows][vocab] logits.
     */
    record LmHeadRows(int rows, long residual, long delta, long normed, long logits) {
    }

    /** The sampled rows' buffers (maxSampled rows), also a group of rowLogits. */
    final LmHeadRows lastRows;
    /**
     * A group of rows being scored. After a step its T-row buffers are spent until the next one, and
     * gate_up (fp32-sized for T x intermediate) holds the logits of more rows than the sampled rows'
     * buffer: a group then reads the LM head's weights once for that many rows (228 rows for
     * Llama-3-8B at a 2048-token budget, against 64 sampled rows). Where it holds fewer, or a
     * model's intermediate size is below its hidden size, the sampled rows' buffers serve.
     */
    final LmHeadRows scoreRows;
    /** PsDrawRow [maxSampled] (ParamLayouts.DRAW_ROW): the step's temperature draws, uploaded before it. */
    final long drawRows;
    /** int32 [maxSampled]: the token of each draw, or -1 for a draw handed back to the host. */
    final long drawOut;
    /**
     * uint32 [maxSampled][TokenMasks.words(vocab)]: the step's structured-output masks, one per
     * constrained row, bit t set = token t allowed; uploaded while the step runs.
     */
    final long tokenMasks;
    /** int32 [maxSampled]: the logits row of each mask. */
    final long tokenMaskRows;
    /** fp32 [maxTokens][MAX_SPLITS][numHeads][headDim]: split-KV partial outputs. */
    final long partialO;
    final long partialOFloats;
    /** fp32 [maxTokens][MAX_SPLITS][numHeads]: split-KV partial log-sum-exps. */
    final long partialLse;
    final long partialLseFloats;
    /**
     * fp32 [maxSampled][MAX_SPLITS][numHeads][headDim] and [maxSampled][MAX_SPLITS][numHeads]: the
     * decode launch's own partials, so a decode running beside a prefill (streams, and the fused
     * kernel) never shares the prefill's.
     */
    final long decodePartialO;
    final long decodePartialLse;
    final long decodePartialOFloats;
    final long decodePartialLseFloats;
    /**
     * int32 [maxSampled][numHeads], zero between launches: the standalone decode kernel's merge
     * tickets (AttentionKernels.Buffers#mergeCounters), one per (request, kv head, head chunk) of
     * its grid, at most one per query head.
     */
    final long decodeMergeCounters;
    /** bf16 [numLayers][2][numBlocks][numKvHeads][pageSize][headDim]: per layer the K cache then the V cache. */
    private final long kv;
    private final long cacheBytes;

    static long bytes(ModelConfig c, int maxTokens, int maxSampled) {
        long t = maxTokens;
        long h = c.hiddenSize();
        long perToken = 2 * (4 * h + c.qDim() + 2L * c.kvDim() + c.qDim() + 3L * c.intermediateSize() + 1);
        long sampled = 3 * DeviceArena.aligned(2L * maxSampled * h) + DeviceArena.aligned(4L * maxSampled * c.vocabSize())
                + DeviceArena.aligned(4L * maxSampled) + DeviceArena.aligned((long) ParamLayouts.DRAW_ROW.size() * maxSampled)
                + DeviceArena.aligned(4L * maxSampled)
                + DeviceArena.aligned(4L * maxSampled * TokenMasks.words(c.vocabSize())) + DeviceArena.aligned(4L * maxSampled)
                + DeviceArena.aligned(4L * maxTokens) + DeviceArena.aligned(4L * maxTokens * ParamLayouts.SCORE_WORDS);
        long partials = DeviceArena.aligned(4 * t * AttentionPlan.MAX_SPLITS * c.qDim())
                + DeviceArena.aligned(4 * t * AttentionPlan.MAX_SPLITS * c.numHeads())
                + DeviceArena.aligned(4L * maxSampled * AttentionPlan.MAX_SPLITS * c.qDim())
                + DeviceArena.aligned(4L * maxSampled * AttentionPlan.MAX_SPLITS * c.numHeads())
                + DeviceArena.aligned(4L * maxSampled * c.numHeads());
        return t * perToken + 16L * DeviceArena.ALIGN + sampled + partials;
    }

    Activations(ModelConfig c, DeviceArena arena, int maxTokens, int maxSampled, int numBlocks, int pageSize,
                DeviceCopies copies) {
        long t = maxTokens;
        long h = c.hiddenSize();
        residual = arena.carve("residual", 2 * t * h).address();
        normed = arena.carve("normed", 2 * t * h).address();
        qkv = arena.carve("qkv", 2 * t * (c.qDim() + 2L * c.kvDim())).address();
        attn = arena.carve("attn", 2 * t * c.qDim()).address();
        attnOut = arena.carve("attn_out", 2 * t * h).address();
        gateUp = arena.carve("gate_up", 4 * t * c.intermediateSize()).address();
        mlpAct = arena.carve("mlp_act", 2 * t * c.intermediateSize()).address();
        mlpOut = arena.carve("mlp_out", 2 * t * h).address();
        ones = arena.carve("ones", 2 * t).address();
        float[] one = new float[maxTokens];
        java.util.Arrays.fill(one, 1f);
        copies.bf16(ones, one);
        lastResidual = arena.carve("last_residual", 2L * maxSampled * h).address();
        lastDelta = arena.carve("last_delta", 2L * maxSampled * h).address();
        lastNormed = arena.carve("last_normed", 2L * maxSampled * h).address();
        logits = arena.carve("logits", 4L * maxSampled * c.vocabSize()).address();
        argmax = arena.carve("argmax", 4L * maxSampled).address();
        drawRows = arena.carve("draw_rows", (long) ParamLayouts.DRAW_ROW.size() * maxSampled).address();
        drawOut = arena.carve("draw_out", 4L * maxSampled).address();
        tokenMasks = arena.carve("token_masks", 4L * maxSampled * TokenMasks.words(c.vocabSize())).address();
        tokenMaskRows = arena.carve("token_mask_rows", 4L * maxSampled).address();
        scoreTargets = arena.carve("score_targets", 4L * maxTokens).address();
        scoreOut = arena.carve("score_out", 4L * maxTokens * ParamLayouts.SCORE_WORDS).address();
        lastRows = new LmHeadRows(maxSampled, lastResidual, lastDelta, lastNormed, logits);
        long gateUpRows = Math.min(4L * t * c.intermediateSize() / (4L * c.vocabSize()), maxTokens);
        scoreRows = gateUpRows > maxSampled && c.intermediateSize() >= c.hiddenSize()
                ? new LmHeadRows((int) gateUpRows, normed, attnOut, mlpAct, gateUp) : lastRows;
        partialOFloats = t * AttentionPlan.MAX_SPLITS * c.qDim();
        partialO = arena.carve("partial_o", 4 * partialOFloats).address();
        partialLseFloats = t * AttentionPlan.MAX_SPLITS * c.numHeads();
        partialLse = arena.carve("partial_lse", 4 * partialLseFloats).address();
        decodePartialOFloats = (long) maxSampled * AttentionPlan.MAX_SPLITS * c.qDim();
        decodePartialO = arena.carve("decode_partial_o", 4 * decodePartialOFloats).address();
        decodePartialLseFloats = (long) maxSampled * AttentionPlan.MAX_SPLITS * c.numHeads();
        decodePartialLse = arena.carve("decode_partial_lse", 4 * decodePartialLseFloats).address();
        decodeMergeCounters = arena.carve("decode_merge_counters", 4L * maxSampled * c.numHeads()).address();
        copies.fill(decodeMergeCounters, (byte) 0, 4L * maxSampled * c.numHeads());
        cacheBytes = 2L * numBlocks * pageSize * c.kvDim();
        kv = arena.carve("kv_cache", 2 * cacheBytes * c.numLayers()).address();
    }

    long kCache(int layer) {
        return kv + 2 * cacheBytes * layer;
    }

    long vCache(int layer) {
        return kv + 2 * cacheBytes * layer + cacheBytes;
    }
}
