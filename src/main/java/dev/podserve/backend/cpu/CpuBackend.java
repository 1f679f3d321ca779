package dev.podserve.backend.cpu;

import java.util.Arrays;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.LayerWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

/**
 * The pure-Java backend: a Llama-family decoder in fp32 over a paged KV cache.
 *
 * <p>One step: gather the embeddings of all T query rows; per layer RMSNorm, fused q/k/v projection
 * (plus its bias, Qwen2), RoPE, append K/V to the slots the batch assigns, paged causal attention
 * (within the layer's sliding window, Mistral), output projection into the residual, RMSNorm,
 * SwiGLU MLP into the residual; then the final norm and LM head for only the last row of each
 * sampled request.
 *
 * <p>Batch invariance: every kernel computes each output element with an operation order fixed by
 * the model's shapes alone (see {@link CpuKernels}), so a request's logits are bit-identical whether
 * it runs alone or beside others, in one prefill chunk or token by token, on any thread count.
 */
public final class CpuBackend implements ComputeBackend {

    /** Rough flops of one SwiGLU element (exp polynomial, divide, multiply), to weigh it against a matmul. */
    private static final int SILU_FLOPS = 16;

    private final ModelConfig cfg;
    private final ModelWeights weights;
    private final int numKvBlocks;
    private final int pageSize;
    private final CpuKernels kernels;
    private final WorkerPool pool;
    private final CpuMatmul matmul;
    private final long minParallelFlops;
    private final KvCache cache;
    private final RopeTable rope;
    private final PagedAttention attention;
    private final Activations act;
    /** Query rows of the last step, whose final hidden states {@link #rowLogits} reads; -1 before any or after a failed one. */
    private int lastStepTokens = -1;

    /** The most KV blocks this backend can hold for a model of {@code kvDim} at this page size (one Java array a layer). */
    public static int maxKvBlocks(int pageSize, int kvDim) {
        return KvCache.maxBlocks(pageSize, kvDim);
    }

    public CpuBackend(ModelConfig cfg, ModelWeights w, int numKvBlocks, int pageSize, int threads) {
        this(cfg, w, numKvBlocks, pageSize, threads, KernelSelector.best(), CpuMatmul.DEFAULT_MIN_PARALLEL_FLOPS);
    }

    /** With chosen kernels, and the flop count under which work stays on the calling thread (0: always split). */
    CpuBackend(ModelConfig cfg, ModelWeights w, int numKvBlocks, int pageSize, int threads, CpuKernels kernels,
               long minParallelFlops) {
        cfg.requireSameShapeAs(w.config());
        this.cfg = cfg;
        this.weights = w;
        this.numKvBlocks = numKvBlocks;
        this.pageSize = pageSize;
        this.kernels = kernels;
        this.pool = new WorkerPool(threads, kernels);
        this.minParallelFlops = minParallelFlops;
        this.matmul = new CpuMatmul(pool, kernels, minParallelFlops, false);
        this.cache = new KvCache(cfg.numLayers(), numKvBlocks, pageSize, cfg.kvDim());
        this.rope = new RopeTable(cfg);
        this.attention = new PagedAttention(cfg);
        this.act = new Activations(cfg);
    }

    @Override
    public ModelConfig config() {
        return cfg;
    }

    @Override
    public int numKvBlocks() {
        return numKvBlocks;
    }

    @Override
    public int pageSize() {
        return pageSize;
    }

    @Override
    public String describe() {
        return "cpu (" + matmul.describe() + ")";
    }

    @Override
    public synchronized float[][] forward(HybridBatch b) {
        validate(b);
        int T = b.numTokens();
        int hidden = cfg.hiddenSize();
        act.ensure(T);
        int maxPosition = 0;
        for (int r = 0; r < b.numRequests(); r++) {
            for (int t = b.qoIndptr()[r]; t < b.qoIndptr()[r + 1]; t++) {
                act.rowRequest[t] = r;
                maxPosition = Math.max(maxPosition, b.positions()[t]);
            }
        }
        rope.ensure(maxPosition + 1);
        for (int t = 0; t < T; t++) {
            System.arraycopy(weights.embed(), b.tokenIds()[t] * hidden, act.hiddenState, t * hidden, hidden);
        }
        lastStepTokens = -1;
        for (int l = 0; l < cfg.numLayers(); l++) layer(l, b, T);
        lastStepTokens = T;
        return logits(b);
    }

    private void layer(int l, HybridBatch b, int T) {
        LayerWeights lw = weights.layer(l);
        int hidden = cfg.hiddenSize();
        int qDim = cfg.qDim();
        int kvDim = cfg.kvDim();
        int headDim = cfg.headDim();
        int inter = cfg.intermediateSize();
        int qkvRows = lw.qkvRows();

        RmsNorm.apply(act.hiddenState, lw.inputNorm(), cfg.rmsNormEps(), T, hidden, act.normed);
        matmul.multiply(act.normed, T, hidden, lw.qkv(), qkvRows, act.qkv);
        float[] bias = lw.qkvBias();
        if (bias != null) {
            for (int t = 0; t < T; t++) {
                for (int n = 0; n < qkvRows; n++) act.qkv[t * qkvRows + n] += bias[n];
            }
        }
        for (int t = 0; t < T; t++) {
            int row = t * qkvRows;
            int pos = b.positions()[t];
            for (int h = 0; h < cfg.numHeads(); h++) rope.rotate(act.qkv, row + h * headDim, pos);
            for (int h = 0; h < cfg.numKvHeads(); h++) rope.rotate(act.qkv, row + qDim + h * headDim, pos);
            cache.append(l, b.slot(act.rowRequest[t], pos), kvDim, act.qkv, row + qDim, row + qDim + kvDim);
        }
        attention.run(b, act.qkv, cache.keys[l], cache.values[l], act.attn, pool, kernels,
                minParallelFlops, cfg.windowOf(l));
        matmul.multiplyAdd(act.attn, T, qDim, lw.wo(), hidden, act.hiddenState);

        RmsNorm.apply(act.hiddenState, lw.postAttnNorm(), cfg.rmsNormEps(), T, hidden, act.normed);
        matmul.multiply(act.normed, T, hidden, lw.gateUp(), 2 * inter, act.gateUp);
        if ((long) T * inter * SILU_FLOPS < minParallelFlops) {
            for (int t = 0; t < T; t++) kernels.siluMul(act.gateUp, t * 2 * inter, inter, act.act, t * inter);
        } else {
            pool.forEach(T, (worker, t) -> kernels.siluMul(act.gateUp, t * 2 * inter, inter, act.act, t * inter));
        }
        matmul.multiplyAdd(act.act, T, inter, lw.down(), hidden, act.hiddenState);
    }

    /** Final norm and LM head over the last row of each sampled request only. */
    private float[][] logits(HybridBatch b) {
        int S = b.sampleRequests().length;
        int hidden = cfg.hiddenSize();
        int vocab = cfg.vocabSize();
        // act.normed reused as [S][hidden]: the final-normed last rows, S <= T.
        for (int s = 0; s < S; s++) {
            int row = b.qoIndptr()[b.sampleRequests()[s] + 1] - 1;
            RmsNorm.row(act.hiddenState, row * hidden, weights.finalNorm(), cfg.rmsNormEps(), hidden, act.normed, s * hidden);
        }
        float[] flat = act.logits(S);
        matmul.multiply(act.normed, S, hidden, weights.lmHead(), vocab, flat);
        float[][] out = new float[S][];
        for (int s = 0; s < S; s++) out[s] = Arrays.copyOfRange(flat, s * vocab, (s + 1) * vocab);
        return out;
    }

    /**
     * Rows at most this many at a time through the LM head: large enough that the matmul streams the
     * LM head's weights once for many rows, small enough that [group][vocab] stays a few tens of MB.
     */
    private static final int ROW_LOGITS_GROUP = 32;

    /**
     * The final norm and LM head over chosen rows of the last step's hidden states, which stay in
     * {@code act.hiddenState} until the next step. Each row goes through the same matmul as a sampled
     * row does, so its logits equal those a step ending at that row would sample from.
     */
    @Override
    public synchronized void rowLogits(int[] rows, RowLogitsSink sink) {
        ComputeBackend.requireRowsOfStep(rows, lastStepTokens);
        int hidden = cfg.hiddenSize();
        int vocab = cfg.vocabSize();
        for (int from = 0; from < rows.length; from += ROW_LOGITS_GROUP) {
            int g = Math.min(ROW_LOGITS_GROUP, rows.length - from);
            // act.normed reused as [g][hidden] (g <= T rows fit); the logits [g][vocab].
            for (int i = 0; i < g; i++) {
                RmsNorm.row(act.hiddenState, rows[from + i] * hidden, weights.finalNorm(), cfg.rmsNormEps(), hidden, act.normed,
                        i * hidden);
            }
            float[] flat = act.logits(g);
            matmul.multiply(act.normed, g, hidden, weights.lmHead(), vocab, flat);
            float[][] group = new float[g][];
            for (int i = 0; i < g; i++) group[i] = Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
            sink.accept(from, group);
        }
    }

    private void validate(HybridBatch b) {
        if (b.pageSize() != pageSize) {
            throw new IllegalArgumentException("batch page size " + b.pageSize() + " differs from the backend's " + pageSize);
        }
        for (int p : b.kvPageIndices()) {
            if (p < 0 || p >= numKvBlocks) throw new IllegalArgumentException("KV page " + p + " is outside 0.." + (numKvBlocks - 1));
        }
        for (int id : b.tokenIds()) {
            if (id < 0 || id >= cfg.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary");
        }
        for (int p : b.positions()) {
            if (p < 0 || p >= cfg.maxContextLength()) {
                throw new IllegalArgumentException("position " + p + " is outside 0.." + (cfg.maxContextLength() - 1));
            }
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
