package dev.podserve.backend.cuda;

import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

/**
 * The Llama-family decoder on one CUDA device: bf16 weights and paged KV cache, fp32 accumulation,
 * the cuda-kernels layer and attention kernels and cuBLAS GEMMs, with CpuBackend's semantics
 * (RMSNorm, fused q/k/v with Qwen2's bias, rotate-half RoPE from {@link RopeTables}, causal paged
 * attention, SwiGLU, final norm and LM head on the sampled rows only).
 *
 * <p>Numerics differ from the fp32 CPU backend by bf16 storage of weights and activations: every
 * kernel output is rounded to bf16 once; the logits come back as fp32.
 */
public final class CudaBackend implements ComputeBackend {

    private static final Logger log = LoggerFactory.getLogger(CudaBackend.class);
    /** Device memory left to cuBLAS, the driver and other users beyond what the arena takes. */
    private static final long HEADROOM = 512L << 20;

    /**
     * @param maxBatchTokens largest T of a step (the scheduler's token budget)
     * @param maxSampled     most requests in a step, so also the most sampled rows (the scheduler's max-num-seqs)
     * @param numBlocks      exact KV page count, or 0 to derive it from {@code kvMemoryBytes}
     * @param kvMemoryBytes  bf16 K+V memory of all layers when {@code numBlocks} is 0; capped by free device memory
     */
    public record Options(int maxBatchTokens, int maxSampled, int pageSize, int numBlocks, long kvMemoryBytes, int device) {
    }

    private final ModelConfig cfg;
    private final int pageSize;
    private final int numKvBlocks;
    private final CudaContext ctx;
    private final KernelModule module;
    private final DeviceArena arena;
    private final DeviceCopies copies;
    private final CudaWeights weights;
    private final Activations act;
    private final StepInputs inputs;
    private final RopeTables rope;
    private final LayerKernels layers;
    private final AttentionKernels attention;
    private final CublasGemm gemm;
    private final int maxBatchTokens;
    private final int maxSampled;

    /** Why the CUDA backend cannot run this model (the kernels' limits), or empty when it can. Touches no native code. */
    public static Optional<String> unsupportedReason(ModelConfig cfg) {
        if (!AttentionPlan.supportedHeadDim(cfg.headDim())) {
            return Optional.of("head_dim " + cfg.headDim() + " (the attention kernels are built for 16, 32, 64 and 128)");
        }
        return Optional.empty();
    }

    /** Whether a device and the packaged kernels are there; loads the CUDA natives only where a driver is present. */
    public static Optional<String> unavailableReason() {
        if (!KernelModule.fatbinPresent()) return Optional.of("no " + KernelModule.RESOURCE + " on the class path");
        if (!CudaContext.driverPresent()) return Optional.of("no NVIDIA driver on this machine");
        if (CudaContext.deviceCount() == 0) return Optional.of("the CUDA driver reports no device (or its libraries do not load)");
        return Optional.empty();
    }

    public CudaBackend(ModelConfig cfg, ModelWeights w, Options o) {
        unsupportedReason(cfg).ifPresent(r -> {
            throw new IllegalArgumentException("the CUDA backend cannot run this model: " + r);
        });
        ModelConfig wc = w.config();
        boolean same = wc.vocabSize() == cfg.vocabSize() && wc.hiddenSize() == cfg.hiddenSize()
                && wc.intermediateSize() == cfg.intermediateSize() && wc.numLayers() == cfg.numLayers()
                && wc.numHeads() == cfg.numHeads() && wc.numKvHeads() == cfg.numKvHeads() && wc.headDim() == cfg.headDim()
                && wc.tieWordEmbeddings() == cfg.tieWordEmbeddings() && wc.qkvBias() == cfg.qkvBias();
        if (!same) throw new IllegalArgumentException("weights were made for a different model shape than the config");
        this.cfg = cfg;
        this.pageSize = o.pageSize();
        this.maxBatchTokens = o.maxBatchTokens();
        this.maxSampled = Math.min(o.maxSampled(), o.maxBatchTokens());
        this.ctx = CudaContext.open(o.device());
        long t0 = System.nanoTime();
        this.module = KernelModule.load();
        long fixed = CudaWeights.bytes(cfg) + Activations.bytes(cfg, maxBatchTokens, maxSampled) + RopeTables.bytes(cfg)
                + DeviceArena.aligned(4L * inputInts());
        long perBlock = kvBytesPerBlock();
        long room = (ctx.freeMemory() - HEADROOM - fixed) / perBlock;
        long blocks = o.numBlocks() > 0 ? o.numBlocks() : Math.min(o.kvMemoryBytes() / perBlock, room);
        if (blocks < 1 || blocks > room) {
            throw new CudaException(String.format("%s has %.2f GiB free: weights and activations take %.2f GiB, leaving room"
                    + " for %d KV blocks of %d bytes (%d asked)", ctx.name(), ctx.freeMemory() / 1073741824.0,
                    fixed / 1073741824.0, Math.max(room, 0), perBlock, blocks));
        }
        this.numKvBlocks = (int) Math.min(blocks, Integer.MAX_VALUE / Math.max(1, pageSize));
        this.arena = new DeviceArena(fixed + DeviceArena.aligned(perBlock * numKvBlocks) + 64L * DeviceArena.ALIGN);
        this.copies = new DeviceCopies(ctx);
        this.weights = new CudaWeights(w, arena, copies);
        this.act = new Activations(cfg, arena, maxBatchTokens, maxSampled, numKvBlocks, pageSize, copies);
        this.inputs = new StepInputs(arena.carve("step inputs", 4L * inputInts()));
        this.rope = new RopeTables(cfg, arena, copies);
        this.layers = new LayerKernels(ctx, module);
        this.attention = new AttentionKernels(ctx, module);
        this.gemm = new CublasGemm(ctx);
        ctx.synchronize();
        log.info("CUDA backend on {}: arena {} MB ({} MB weights), {} KV blocks x {} tokens, ready in {} ms", ctx.describe(),
                arena.capacity() >> 20, CudaWeights.bytes(cfg) >> 20, numKvBlocks, pageSize, (System.nanoTime() - t0) / 1_000_000);
    }

    /** bf16 K and V of one page in every layer. */
    private long kvBytesPerBlock() {
        return 2L * 2 * cfg.numLayers() * pageSize * cfg.kvDim();
    }

    /**
     * int32 capacity for a step's index arrays: T-sized, R-sized (R &lt;= maxSampled, every request of a
     * step is a running one), each request's page list up to the longest context, and the work items.
     */
    private long inputInts() {
        long t = maxBatchTokens;
        long r = maxSampled;
        long pagesPerRequest = (cfg.maxContextLength() + pageSize - 1) / pageSize;
        long workItems = 2 * (t * cfg.groupSize() / AttentionPlan.PREFILL_ROWS + r + 1);
        return 2 * t + 3 * (r + 1) + r + r * pagesPerRequest + workItems + 64;
    }

    public CudaContext context() {
        return ctx;
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
        return "cuda (" + ctx.describe() + ")";
    }

    @Override
    public synchronized float[][] forward(HybridBatch b) {
        validate(b);
        ctx.makeCurrent();
        int T = b.numTokens();
        int P = b.numPrefillRequests();
        int D = b.numDecodeRequests();
        int R = b.numRequests();
        int S = b.sampleRequests().length;
        int H = cfg.numHeads();
        int KVH = cfg.numKvHeads();
        int hd = cfg.headDim();
        int hidden = cfg.hiddenSize();
        AttentionPlan prefill = P == 0 ? null : AttentionPlan.prefill(b.qoIndptr(), b.kvIndptr(), b.kvLastPageLen(), 0, P,
                pageSize, H, KVH, hd, ctx.smCount(), 0);
        AttentionPlan decode = D == 0 ? null : AttentionPlan.decode(b.qoIndptr(), b.kvIndptr(), b.kvLastPageLen(), P, D,
                pageSize, H, KVH, hd, ctx.smCount(), 0);
        for (AttentionPlan p : new AttentionPlan[] {prefill, decode}) {
            if (p != null && p.needsMerge() && (p.partialOFloats() > act.partialOFloats || p.partialLseFloats() > act.partialLseFloats)) {
                throw new IllegalStateException("attention partials exceed the workspace: " + p);
            }
        }
        inputs.pack(b, prefill == null ? new int[0] : prefill.workItems(), copies);

        layers.embedding(weights.embed, inputs.tokenIds, act.residual, hidden, T, hidden, cfg.vocabSize());
        for (int l = 0; l < cfg.numLayers(); l++) layer(l, T, R, P, D, prefill, decode);

        // The last layer's MLP output is still in mlpOut: add it and norm only the S sampled rows.
        layers.gatherLastRows(act.residual, hidden, act.lastResidual, hidden, inputs.qoIndptr, inputs.sampleRequests, S, hidden, R);
        layers.gatherLastRows(act.mlpOut, hidden, act.lastDelta, hidden, inputs.qoIndptr, inputs.sampleRequests, S, hidden, R);
        layers.addRmsNorm(act.lastDelta, hidden, act.lastResidual, hidden, weights.finalNorm, act.lastNormed, hidden, S, hidden,
                cfg.rmsNormEps());
        gemm.rowMajor(S, cfg.vocabSize(), hidden, act.lastNormed, hidden, weights.lmHead, act.logits, cfg.vocabSize(), true, false);
        float[][] out = new float[S][cfg.vocabSize()];
        for (int s = 0; s < S; s++) copies.readFloats(act.logits + 4L * s * cfg.vocabSize(), out[s], 0, cfg.vocabSize());
        return out;
    }

    private void layer(int l, int T, int R, int P, int D, AttentionPlan prefill, AttentionPlan decode) {
        CudaWeights.Layer w = weights.layers.get(l);
        int hidden = cfg.hiddenSize();
        int qDim = cfg.qDim();
        int kvDim = cfg.kvDim();
        int qkvRows = qDim + 2 * kvDim;
        int inter = cfg.intermediateSize();
        int hd = cfg.headDim();
        int window = cfg.windowOf(l);

        // Layer 0 norms the embeddings; later layers first add the previous layer's MLP output.
        layers.addRmsNorm(l == 0 ? 0 : act.mlpOut, hidden, act.residual, hidden, w.inputNorm(), act.normed, hidden, T, hidden,
                cfg.rmsNormEps());
        if (w.qkvBias() != 0) gemm.broadcastRows(T, qkvRows, w.qkvBias(), act.ones, act.qkv, qkvRows);
        gemm.rowMajor(T, qkvRows, hidden, act.normed, hidden, w.qkv(), act.qkv, qkvRows, false, w.qkvBias() != 0);
        long k = act.qkv + 2L * qDim;
        long v = act.qkv + 2L * (qDim + kvDim);
        layers.rope(act.qkv, qkvRows, k, qkvRows, rope.cos, rope.sin, inputs.positions, T, cfg.numHeads(), cfg.numKvHeads(), hd,
                hd, rope.positions);
        long kCache = act.kCache(l);
        long vCache = act.vCache(l);
        layers.kvAppend(k, qkvRows, v, qkvRows, kCache, vCache, inputs.qoIndptr, inputs.kvIndptr, inputs.kvPageIndices,
                inputs.positions, T, R, cfg.numKvHeads(), hd, pageSize, numKvBlocks);
        AttentionKernels.Buffers bufs = new AttentionKernels.Buffers(act.qkv, qkvRows, kCache, vCache, act.attn, qDim,
                inputs.qoIndptr, inputs.kvIndptr, inputs.kvPageIndices, inputs.kvLastPageLen, act.partialO, act.partialLse);
        if (prefill != null) attention.prefill(bufs, prefill, inputs.workItems, 0, P, cfg.numHeads(), cfg.numKvHeads(), hd, pageSize, window);
        if (decode != null) attention.decode(bufs, decode, P, D, cfg.numHeads(), cfg.numKvHeads(), hd, pageSize, window);
        gemm.rowMajor(T, hidden, qDim, act.attn, qDim, w.wo(), act.attnOut, hidden, false, false);

        layers.addRmsNorm(act.attnOut, hidden, act.residual, hidden, w.postAttnNorm(), act.normed, hidden, T, hidden, cfg.rmsNormEps());
        gemm.rowMajor(T, 2 * inter, hidden, act.normed, hidden, w.gateUp(), act.gateUp, 2 * inter, false, false);
        layers.siluMul(act.gateUp, 2L * inter, act.mlpAct, inter, T, inter);
        gemm.rowMajor(T, hidden, inter, act.mlpAct, inter, w.down(), act.mlpOut, hidden, false, false);
    }

    private void validate(HybridBatch b) {
        if (b.pageSize() != pageSize) {
            throw new IllegalArgumentException("batch page size " + b.pageSize() + " differs from the backend's " + pageSize);
        }
        if (b.numTokens() > maxBatchTokens || b.numRequests() > maxSampled) {
            throw new IllegalArgumentException("batch of " + b.numTokens() + " tokens and " + b.sampleRequests().length
                    + " sampled rows (" + b.numRequests() + " requests) exceeds the backend's " + maxBatchTokens + " / " + maxSampled);
        }
        for (int p : b.kvPageIndices()) {
            if (p < 0 || p >= numKvBlocks) throw new IllegalArgumentException("KV page " + p + " is outside 0.." + (numKvBlocks - 1));
        }
        for (int id : b.tokenIds()) {
            if (id < 0 || id >= cfg.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary");
        }
        for (int p : b.positions()) {
            if (p < 0 || p >= rope.positions) throw new IllegalArgumentException("position " + p + " is outside 0.." + (rope.positions - 1));
        }
    }

    @Override
    public synchronized void close() {
        ctx.makeCurrent();
        ctx.synchronize();
        gemm.close();
        attention.close();
        layers.close();
        copies.close();
        arena.close();
        module.close();
        ctx.close();
    }
}
