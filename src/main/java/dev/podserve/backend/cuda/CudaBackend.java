package dev.podserve.backend.cuda;

import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.podserve.attention.PodPolicyAdvisor;
import dev.podserve.attention.SmPolicy;
import dev.podserve.attention.StepAttentionChooser;
import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;
import dev.podserve.sampling.DeviceDraw;

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

    private final ModelConfig cfg;
    private final int pageSize;
    private final int numKvBlocks;
    private final CudaContext ctx;
    private final DeviceArena arena;
    private final DeviceCopies copies;
    private final Activations act;
    /** Positions the RoPE tables cover: a step's positions must be below. */
    private final int ropePositions;
    private final LayerKernels layers;
    /** Null when CUDA graphs are off. */
    private final DecodeGraphs graphs;
    private final int maxBatchTokens;
    private final int maxSampled;
    private final StepLauncher launcher;
    /** Recorded on the stream around each step's work, so a benchmark can tell GPU time from host time. */
    private final org.bytedeco.cuda.cudart.CUevent_st stepStart;
    private final org.bytedeco.cuda.cudart.CUevent_st stepEnd;
    private final AttentionProfiler profiler;
    private final PodPolicyAdvisor podAdvisor;
    private volatile StepProfile lastProfile;
    private volatile StepTiming lastStep = new StepTiming(0, 0, 0, 0, 0, false);
    private boolean lastCaptured;
    /**
     * {@code -Dpodserve.cuda.host-scoring=true}: prompt rows are scored on the host over copied
     * logits (the slow reference path), to measure what the device scoring saves.
     */
    private static final boolean HOST_SCORING = Boolean.getBoolean("podserve.cuda.host-scoring");
    /**
     * {@code -Dpodserve.cuda.host-masks=true} leaves structured-output masks to the host (rows copied
     * back or fetched late, as before ps_token_mask), to measure what masking on the device saves.
     */
    private static final boolean HOST_MASKS = Boolean.getBoolean("podserve.cuda.host-masks");

    private final LogitsReadback logits;
    /** Query rows of the last step, whose hidden states {@link #rowLogits} reads; -1 before any or after a failed one. */
    private int lastStepTokens = -1;
    private final DrawRows drawRows;
    private final TokenMasks tokenMasks;
    /** What the constructor took, released by close (or by the constructor itself when it fails). */
    private final Releases releases = new Releases();
    private boolean closed;

    /**
     * Where the last {@link #forward} spent its time, in order.
     *
     * @param prepNanos    validation, planning and the index upload
     * @param enqueueNanos the launches, or the graph launch
     * @param waitNanos    waiting for the GPU to finish the step
     * @param copyNanos    the logits back into Java arrays
     * @param gpuMillis    GPU time from the first to the last launch (CUDA events)
     * @param captured     whether the step ran as a CUDA graph
     */
    public record StepTiming(long prepNanos, long enqueueNanos, long waitNanos, long copyNanos, double gpuMillis,
                             boolean captured) {
        public long totalNanos() {
            return prepNanos + enqueueNanos + waitNanos + copyNanos;
        }
    }

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

    /** The model of {@code w}, uploaded once as bf16. */
    public CudaBackend(ModelConfig cfg, ModelWeights w, CudaOptions o) {
        this(cfg, w, 0, o);
    }

    /**
     * The dummy-weight model of {@code seed} (bit for bit DummyWeights' values rounded to bf16),
     * generated on the device: no host copy of the weights is ever made.
     */
    public static CudaBackend withDummyWeights(ModelConfig cfg, long seed, CudaOptions o) {
        return new CudaBackend(cfg, null, seed, o);
    }

    private CudaBackend(ModelConfig cfg, ModelWeights w, long dummySeed, CudaOptions o) {
        unsupportedReason(cfg).ifPresent(r -> {
            throw new IllegalArgumentException("the CUDA backend cannot run this model: " + r);
        });
        if (w != null) cfg.requireSameShapeAs(w.config());
        this.cfg = cfg;
        this.pageSize = o.pageSize();
        this.maxBatchTokens = o.maxBatchTokens();
        this.maxSampled = Math.min(o.maxSampled(), o.maxBatchTokens());
        this.ctx = CudaContext.open(o.device());
        releases.add(ctx::close);
        try {
            long t0 = System.nanoTime();
            KernelModule module = KernelModule.load();
            releases.add(module::close);
            long fixed = CudaWeights.bytes(cfg) + Activations.bytes(cfg, maxBatchTokens, maxSampled) + RopeTables.bytes(cfg)
                    + DeviceArena.aligned(4L * inputInts()) + DeviceArena.aligned(CublasGemm.WORKSPACE_BYTES)
                    + DeviceArena.aligned(4L * (ctx.smCount() + 3));
            long perBlock = kvBytesPerBlock();
            // One page more than the scheduler gets: the scratch page.
            long room = (ctx.freeMemory() - HEADROOM - fixed) / perBlock - 1;
            long blocks = o.numBlocks() > 0 ? o.numBlocks() : Math.min(o.kvMemoryBytes() / perBlock, room);
            if (blocks < 1 || blocks > room) {
                throw new CudaException(String.format("%s has %.2f GiB free: weights and activations take %.2f GiB, leaving room"
                        + " for %d KV blocks of %d bytes (%d asked)", ctx.name(), ctx.freeMemory() / 1073741824.0,
                        fixed / 1073741824.0, Math.max(room, 0), perBlock, blocks));
            }
            this.numKvBlocks = (int) Math.min(blocks, Integer.MAX_VALUE / Math.max(1, pageSize) - 1);
            this.arena = new DeviceArena(fixed + DeviceArena.aligned(perBlock * (numKvBlocks + 1L)) + 64L * DeviceArena.ALIGN);
            releases.add(arena::close);
            this.copies = new DeviceCopies(ctx);
            releases.add(copies::close);
            this.layers = new LayerKernels(ctx, module);
            releases.add(layers::close);
            long tw = System.nanoTime();
            CudaWeights weights = w != null ? new CudaWeights(w, arena, copies) : new CudaWeights(cfg, dummySeed, arena, layers);
            ctx.synchronize();
            long weightMs = (System.nanoTime() - tw) / 1_000_000;
            // numKvBlocks + 1 pages: the last is the scratch page that graph padding writes and reads.
            this.act = new Activations(cfg, arena, maxBatchTokens, maxSampled, numKvBlocks + 1, pageSize, copies);
            StepInputs inputs = new StepInputs(arena.carve("step inputs", 4L * inputInts()), maxBatchTokens, maxSampled, maxWorkItems());
            RopeTables rope = new RopeTables(cfg, arena, copies);
            this.ropePositions = rope.positions;
            AttentionKernels attention = new AttentionKernels(ctx, module);
            releases.add(attention::close);
            attention.prepare(cfg.headDim());
            CublasGemm gemm = new CublasGemm(ctx, arena.carve("cublas workspace", CublasGemm.WORKSPACE_BYTES).address(),
                    CublasGemm.WORKSPACE_BYTES);
            releases.add(gemm::close);
            // The skinny GEMM was measured against cuBLAS on Hopper only (and its shared memory does
            // not fit every later card's per-block limit): other cards keep cuBLAS.
            int skinnyRows = ctx.computeMajor() == 9 ? o.skinnyGemmRows() : 0;
            this.graphs = o.cudaGraphs() ? new DecodeGraphs(ctx, maxSampled) : null;
            if (graphs != null) releases.add(graphs::close);
            int podCtas = podCtasPerSmFor(cfg, o.podCtasPerSm());
            int sms = ctx.smCount();
            // auto's tickets for a fused step: the planner's replay of this very launch (PodTicketReplay).
            AutoPodPlans autoPlans = new AutoPodPlans(cfg.numHeads(), cfg.numKvHeads(), cfg.headDim(), sms, o.podStaticFraction(),
                    podCtas);
            this.podAdvisor = autoPlans;
            StepAttentionChooser ownAttention = new StepAttentionChooser(o.attentionMode(), SmPolicy.ofCode(o.podPolicy()), cfg.numHeads(), cfg.numKvHeads(),
                    cfg.headDim()).withAdvisor(podAdvisor);
            long podCounters = arena.carve("pod counters", 4L * (ctx.smCount() + 3)).address();
            copies.fill(podCounters, (byte) 0, 4L * (ctx.smCount() + 3));
            this.logits = new LogitsReadback(copies, act.logits, maxSampled, cfg.vocabSize());
            this.drawRows = new DrawRows(maxSampled, cfg.vocabSize());
            this.tokenMasks = new TokenMasks(maxSampled, cfg.vocabSize());
            releases.add(tokenMasks::close);
            this.stepStart = ctx.newEvent();
            releases.add(() -> ctx.destroyEvent(stepStart));
            this.stepEnd = ctx.newEvent();
            releases.add(() -> ctx.destroyEvent(stepEnd));
            this.profiler = new AttentionProfiler(ctx, cfg.numLayers());
            releases.add(profiler::close);
            this.launcher = new StepLauncher(cfg, ctx, copies, weights, act, inputs, rope,
                    new StepLauncher.Kernels(layers, attention, new Projections(gemm, layers, skinnyRows), graphs),
                    new StepLauncher.PodSettings(ownAttention, autoPlans, podCounters),
                    pageSize, numKvBlocks, stepStart, profiler);
            ctx.synchronize();
            log.info("CUDA backend on {}: arena {} MB ({} MB weights, {} in {} ms), {} KV blocks x {} tokens, CUDA graphs {},"
                            + " hybrid-step attention {}, skinny GEMM {}, pinned staging {}, ready in {} ms", ctx.describe(),
                    arena.capacity() >> 20, CudaWeights.bytes(cfg) >> 20, w != null ? "uploaded" : "generated on the device", weightMs,
                    numKvBlocks, pageSize, graphs != null ? "on for decode-only steps" : "off",
                    ownAttention.mode().name().toLowerCase(java.util.Locale.ROOT),
                    skinnyRows > 0 ? "up to " + skinnyRows + " rows" : "off", copies.pinned(), (System.nanoTime() - t0) / 1_000_000);
        } catch (RuntimeException | Error e) {
            // Half built: give back what was taken (the arena alone is nearly all of the card).
            releases.releaseAllAfter(e);
            throw e;
        }
    }

    /**
     * The fused kernel's shape for this model, decided once. Windowed layers run the standalone
     * prefill on the pod plan's work items, and that kernel covers 128 rows an item: on the 64-row
     * items of the 4-CTA shape it would compute every row twice. A model with any windowed layer keeps 2.
     */
    private static int podCtasPerSmFor(ModelConfig cfg, int configured) {
        if (configured == 2) return 2;
        for (int l = 0; l < cfg.numLayers(); l++) {
            if (cfg.windowOf(l) > 0) return 2;
        }
        return configured;
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
        long pagesPerRequest = (cfg.maxContextLength() + pageSize - 1) / pageSize;
        return StepInputs.fixedInts(maxBatchTokens, maxSampled, maxWorkItems()) + (long) maxSampled * pagesPerRequest;
    }

    private int maxWorkItems() {
        return maxWorkItems(maxBatchTokens, cfg.groupSize(), maxSampled);
    }

    /**
     * Prefill work items a step can need: its packed rows (tokens x query heads per KV head) in
     * items of the smallest size any plan uses (the fused kernel's at 4 CTAs per SM, 64 rows; the
     * others take 128), plus one partial item per request. Sized for 128 rows, a 4-CTA plan of a
     * long chunk beside decodes overflowed the slot and failed the whole step.
     */
    static int maxWorkItems(int maxBatchTokens, int groupSize, int maxSampled) {
        return (int) ((long) maxBatchTokens * groupSize / AttentionPlan.POD4_PREFILL_ROWS + maxSampled + 1);
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

    /** Decode buckets whose CUDA graph has been captured so far (0 with graphs off). */
    public int capturedGraphs() {
        return graphs == null ? 0 : graphs.captured();
    }

    @Override
    public synchronized float[][] forward(HybridBatch b) {
        requireOpen();
        long[] t = enqueue(b, false, null, null);
        float[][] rows = logits.all(b.sampleRequests().length);
        t[4] = System.nanoTime();
        lastStep = timing(t);
        return rows;
    }

    /**
     * The step with each sampled row's argmax taken on the device (ps_argmax over the fp32 logits),
     * and only the rows the caller needs copied back: a batch of plain greedy requests moves S ints
     * instead of S x vocab floats (33 MB at batch 64 of a 128K vocabulary).
     */
    @Override
    public synchronized StepOutput forwardForSampling(HybridBatch b, boolean[] needLogits) {
        return forwardForSampling(b, needLogits, null);
    }

    /** Draws on the device with ps_draw: a temperature-sampled row moves one int, not its logits. */
    @Override
    public boolean drawsOnDevice() {
        return true;
    }

    /**
     * As {@link #forwardForSampling(HybridBatch, boolean[])}, with each row that has a draw sampled by
     * ps_draw over the same fp32 logits after the argmax; a draw the kernel hands back (-1) leaves its
     * row to be fetched late.
     */
    @Override
    public synchronized StepOutput forwardForSampling(HybridBatch b, boolean[] needLogits, DeviceDraw[] draws) {
        return forwardForSampling(b, needLogits, draws, null);
    }

    /** Applies structured-output masks with ps_token_mask before the argmax and the draws. */
    @Override
    public boolean masksOnDevice() {
        return !HOST_MASKS;
    }

    /**
     * As {@link #forwardForSampling(HybridBatch, boolean[], DeviceDraw[])}, with each row's mask from
     * {@code masks} (asked for once the step is queued, so the host works them out while the GPU runs
     * the step) applied by ps_token_mask to the logits before ps_argmax and ps_draw read them. A row
     * copied back, with the step or late, comes back masked.
     */
    @Override
    public synchronized StepOutput forwardForSampling(HybridBatch b, boolean[] needLogits, DeviceDraw[] draws,
                                                      java.util.function.Supplier<long[][]> masks) {
        requireOpen();
        int S = b.sampleRequests().length;
        if (needLogits.length != S || (draws != null && draws.length != S)) {
            throw new IllegalArgumentException(needLogits.length + " logits flags and " + (draws == null ? 0 : draws.length)
                    + " draws for " + S + " sampled rows");
        }
        long[] t = enqueue(b, true, draws, masks);
        int[] argmax = copies.readInts(act.argmax, S);
        int[] drawn = null;
        int numDraws = drawRows.count();
        if (numDraws > 0) {
            int[] out = copies.readInts(act.drawOut, numDraws);
            drawn = new int[S];
            java.util.Arrays.fill(drawn, -1);
            for (int d = 0; d < numDraws; d++) drawn[drawRows.row(d)] = out[d];
        }
        float[][] rows = new float[S][];
        for (int s = 0; s < S; s++) {
            if (needLogits[s]) rows[s] = logits.row(s);
        }
        t[4] = System.nanoTime();
        lastStep = timing(t);
        logits.fetchableUntilNextStep(S);
        return new StepOutput(rows, argmax, this::lateLogitsRow, drawn);
    }

    /**
     * Each group of up to maxSampled rows goes through the sampled rows' own final norm and LM head
     * ({@code StepLauncher.enqueueRowGroup}) into the logits buffer and is copied back in as few
     * transfers as the staging buffer allows; the step's hidden states stay on the device until the
     * next step.
     */
    @Override
    public synchronized void rowLogits(int[] rows, RowLogitsSink sink) {
        requireOpen();
        ComputeBackend.requireRowsOfStep(rows, lastStepTokens);
        ctx.makeCurrent();
        // The groups overwrite the step's logits on the device: no late fetch of them from here on.
        logits.stepStarts();
        launcher.packRows(rows, maxSampled);
        for (int from = 0; from < rows.length; from += maxSampled) {
            int g = Math.min(maxSampled, rows.length - from);
            launcher.enqueueRowGroup(from, g, act.lastRows);
            ctx.synchronize();
            sink.accept(from, logits.all(g));
        }
    }

    /**
     * Each group of rows ({@code act.scoreRows}: as many as the spent gate_up buffer holds logits
     * for, at least maxSampled) goes through the LM head as in {@link #rowLogits} and is scored there
     * by ps_score_rows, all groups queued back to back: the call uploads its rows and targets once
     * and copies back {@link ParamLayouts#SCORE_WORDS} words a row once, not vocab-wide logits, and
     * no softmax runs on the host.
     */
    @Override
    public synchronized RowScore[] scoreRows(int[] rows, int[] targets, int top) {
        requireOpen();
        if (HOST_SCORING) return dev.podserve.backend.HostRowScores.score(this, rows, targets, top);
        ComputeBackend.requireScoring(rows, targets, top, cfg.vocabSize());
        // The kernel's output rows hold SCORE_MAX_TOP alternatives.
        if (top > ParamLayouts.SCORE_MAX_TOP) throw new IllegalArgumentException("top " + top + " exceeds ps_score_rows' " + ParamLayouts.SCORE_MAX_TOP);
        ComputeBackend.requireRowsOfStep(rows, lastStepTokens);
        ctx.makeCurrent();
        logits.stepStarts();
        int vocab = cfg.vocabSize();
        int listed = Math.min(top, vocab);
        RowScore[] out = new RowScore[rows.length];
        if (rows.length == 0) return out;
        Activations.LmHeadRows group = act.scoreRows;
        launcher.packRows(rows, group.rows());
        copies.ints(act.scoreTargets, targets, targets.length);
        for (int from = 0; from < rows.length; from += group.rows()) {
            int g = Math.min(group.rows(), rows.length - from);
            launcher.enqueueRowGroup(from, g, group);
            layers.scoreRows(group.logits(), vocab, act.scoreTargets + 4L * from,
                    act.scoreOut + 4L * ParamLayouts.SCORE_WORDS * from, g, vocab, listed);
        }
        int[] words = copies.readInts(act.scoreOut, rows.length * ParamLayouts.SCORE_WORDS);
        for (int i = 0; i < rows.length; i++) {
            int at = i * ParamLayouts.SCORE_WORDS;
            int rank = words[at + 1];
            if (rank < 0) continue;  // no distribution in this row: null, its request alone fails
            int[] ids = new int[listed];
            float[] lps = new float[listed];
            for (int k = 0; k < listed; k++) {
                ids[k] = words[at + 2 + k];
                lps[k] = Float.intBitsToFloat(words[at + 2 + ParamLayouts.SCORE_MAX_TOP + k]);
            }
            out[i] = new RowScore(Float.intBitsToFloat(words[at]), rank, ids, lps);
        }
        return out;
    }

    /** Row s of the last step's logits, fetched after it (see {@link StepOutput#lateRow}). */
    private synchronized float[] lateLogitsRow(int s) {
        requireOpen();
        ctx.makeCurrent();  // the engine calls on the thread that ran the step, but a copy must not depend on it
        return logits.late(s);
    }

    /**
     * Validates, plans, uploads and launches one step (and the argmax when asked), and waits for the
     * GPU. Returns the phase timestamps t[0..3]; t[4] is for the caller, after its copies.
     */
    private long[] enqueue(HybridBatch b, boolean argmax, DeviceDraw[] draws, java.util.function.Supplier<long[][]> masks) {
        long[] t = new long[5];
        t[0] = System.nanoTime();
        validate(b);
        logits.stepStarts();
        lastStepTokens = -1;
        ctx.makeCurrent();
        // Uploaded (and waited for) before the step's own inputs use the staging buffer; the GPU is
        // idle here anyway, between steps.
        int numDraws = drawRows.pack(draws);
        if (numDraws > 0) copies.ints(act.drawRows, drawRows.words(), drawRows.wordCount());
        boolean captured = launcher.launch(b, t);
        int S = b.sampleRequests().length;
        if (masks != null) {
            // Queued behind the step: the copies wait for nothing on the host but the masks themselves.
            try {
                long[][] rowMasks = masks.get();
                if (rowMasks != null && rowMasks.length != S) throw new IllegalArgumentException(rowMasks.length + " masks for " + S + " rows");
                int numMasked = tokenMasks.upload(ctx, rowMasks, act.tokenMasks, act.tokenMaskRows);
                layers.tokenMask(act.logits, cfg.vocabSize(), act.tokenMasks, act.tokenMaskRows, numMasked,
                        TokenMasks.words(cfg.vocabSize()), cfg.vocabSize());
            } catch (RuntimeException e) {
                // The step is queued: let it finish before the caller fails the batch, so nothing
                // still runs on buffers the next step fills.
                ctx.synchronize();
                throw e;
            }
        }
        if (argmax) layers.argmax(act.logits, cfg.vocabSize(), act.argmax, S, cfg.vocabSize());
        layers.draw(act.logits, cfg.vocabSize(), act.drawRows, act.drawOut, numDraws, cfg.vocabSize());
        ctx.record(stepEnd);
        t[2] = System.nanoTime();
        ctx.synchronize();
        t[3] = System.nanoTime();
        lastCaptured = captured;
        lastStepTokens = b.numTokens();
        lastProfile = profiler.read(stepStart, stepEnd);
        return t;
    }

    private StepTiming timing(long[] t) {
        return new StepTiming(t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], ctx.elapsedMillis(stepStart, stepEnd),
                lastCaptured);
    }

    /**
     * Times each layer's attention launches with CUDA events in steps launched kernel by kernel
     * ({@code podserve.attention.profile}): two events per layer, read after the step, so
     * {@link #lastStepProfile()} gives the attention's share of the step. Graph-replayed decode
     * steps are not profiled. The events cost a few microseconds a step; off by default.
     */
    public synchronized void profileAttention(boolean on) {
        if (on) ctx.makeCurrent();
        profiler.enable(on);
    }

    /** The forward pass waits on the GPU; the host's cores are free beside it. */
    @Override
    public boolean usesHostCores() {
        return false;
    }

    /**
     * {@code auto}'s tickets for the steps a scheduler fuses, as this backend would plan their launch:
     * give it to the scheduler's {@link StepAttentionChooser} so the step's label names the policy that runs.
     */
    public PodPolicyAdvisor podPolicyAdvisor() {
        return podAdvisor;
    }

    @Override
    public StepProfile lastStepProfile() {
        return lastProfile;
    }

    public StepTiming lastStepTiming() {
        return lastStep;
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
            if (p < 0 || p >= ropePositions) throw new IllegalArgumentException("position " + p + " is outside 0.." + (ropePositions - 1));
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        // Wait for the last step's work before freeing what it uses; after a kernel fault this
        // throws, and everything is still released.
        RuntimeException failed = null;
        try {
            ctx.makeCurrent();
            ctx.synchronize();
        } catch (RuntimeException e) {
            failed = e;
        }
        try {
            releases.releaseAll();
        } catch (RuntimeException e) {
            if (failed == null) failed = e;
            else failed.addSuppressed(e);
        }
        if (failed != null) throw failed;
    }

    /** A step on a closed backend would touch freed device and pinned memory: refuse it instead. */
    private void requireOpen() {
        if (closed) throw new IllegalStateException("the CUDA backend is closed");
    }
}
