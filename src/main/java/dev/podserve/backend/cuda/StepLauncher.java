package dev.podserve.backend.cuda;

import org.bytedeco.cuda.cudart.CUevent_st;

import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.HybridBatch;
import dev.podserve.attention.StepAttention;
import dev.podserve.attention.StepAttentionChooser;
import dev.podserve.model.ModelConfig;

/**
 * The forward pass of one step as launches on the stream: it plans the step's attention (the fused
 * kernel, serial, or two streams, as the batch or the configuration chooses), packs and uploads the
 * step's index arrays, and enqueues embedding, every layer, the final norm and the LM head into the
 * logits buffer. A decode-only step whose batch fits a graph bucket is replayed as that CUDA graph.
 *
 * <p>It only enqueues; {@link CudaBackend} owns the device memory and the lifecycle, adds the argmax
 * and draws after the LM head, and waits for the GPU.
 */
final class StepLauncher {

    /** The launchers of every kernel a step uses; {@code graphs} is null when CUDA graphs are off. */
    record Kernels(LayerKernels layers, AttentionKernels attention, Projections proj, DecodeGraphs graphs) {
    }

    /**
     * The fused kernel's settings.
     *
     * @param configured the mode and policy of batches that come without a scheduler's choice (benchmarks, tests)
     * @param plans      the fused plans (static fraction and CTAs per SM included), auto's made once per step
     * @param counters   int32 [smCount + 3] in the arena: per-SM tickets and per-phase counters, zero between launches
     */
    record PodSettings(StepAttentionChooser configured, AutoPodPlans plans, long counters) {
    }

    private final ModelConfig cfg;
    private final CudaContext ctx;
    private final DeviceCopies copies;
    private final CudaWeights weights;
    private final Activations act;
    private final StepInputs inputs;
    private final RopeTables rope;
    private final Kernels k;
    private final PodSettings pod;
    private final int pageSize;
    /** Pages the scheduler owns; the one after them is the scratch page of graph padding. */
    private final int numKvBlocks;
    private final CUevent_st stepStart;
    private final AttentionProfiler profiler;
    /**
     * The standalone decode's merge tickets ({@code act.decodeMergeCounters}): its split rows are
     * merged by the kernel itself. 0 with {@code -Dpodserve.cuda.merge-in-decode=false}, which
     * launches ps_attention_merge after it instead, for comparison.
     */
    private final long decodeMergeCounters;

    /** The step being enqueued: its attention mode and, when fused, its plan. */
    private AttentionMode stepMode = AttentionMode.SERIAL;
    private PodPlan stepPod;

    StepLauncher(ModelConfig cfg, CudaContext ctx, DeviceCopies copies, CudaWeights weights, Activations act, StepInputs inputs,
                 RopeTables rope, Kernels kernels, PodSettings pod, int pageSize, int numKvBlocks, CUevent_st stepStart,
                 AttentionProfiler profiler) {
        this.cfg = cfg;
        this.ctx = ctx;
        this.copies = copies;
        this.weights = weights;
        this.act = act;
        this.inputs = inputs;
        this.rope = rope;
        this.k = kernels;
        this.pod = pod;
        this.pageSize = pageSize;
        this.numKvBlocks = numKvBlocks;
        this.decodeMergeCounters = Boolean.parseBoolean(System.getProperty("podserve.cuda.merge-in-decode", "true"))
                ? act.decodeMergeCounters : 0;
        this.stepStart = stepStart;
        this.profiler = profiler;
    }

    /**
     * Uploads the step's inputs and enqueues its forward pass, recording {@code stepStart} before the
     * first launch.
     *
     * @param t t[1] is set when the launches start
     * @return whether the step was replayed as a CUDA graph
     */
    boolean launch(HybridBatch b, long[] t) {
        int bucket = k.graphs() != null && b.numPrefillRequests() == 0 && b.sampleRequests().length == b.numDecodeRequests()
                ? k.graphs().bucketFor(b.numDecodeRequests()) : -1;
        profiler.arm(bucket <= 0);
        if (bucket > 0) {
            launchCaptured(b, bucket, t);
        } else {
            launchEager(b, t);
        }
        return bucket > 0;
    }

    private void launchEager(HybridBatch b, long[] t) {
        int P = b.numPrefillRequests();
        int D = b.numDecodeRequests();
        // The scheduler's choice for this step, else the configured one. pod: both phases planned
        // together (limited prefill splits); its layers without a sliding window take the fused
        // kernel, windowed layers the two standalone kernels on the same plans. A plan whose auto
        // policy advises against fusing runs as serial.
        StepAttention chosen = b.attention() != null ? b.attention() : pod.configured().choose(b);
        PodPlan fused = chosen.mode() == AttentionMode.POD && P > 0 && D > 0
                ? pod.plans().plan(b.qoIndptr(), b.kvIndptr(), b.kvLastPageLen(), P, D, pageSize, chosen.policy().code())
                : null;
        if (fused != null && !fused.fused()) fused = null;
        stepMode = fused != null ? AttentionMode.POD : chosen.mode() == AttentionMode.STREAMS ? AttentionMode.STREAMS : AttentionMode.SERIAL;
        AttentionPlan prefill = fused != null ? fused.prefill() : P == 0 ? null : AttentionPlan.prefill(b.qoIndptr(), b.kvIndptr(),
                b.kvLastPageLen(), 0, P, pageSize, cfg.numHeads(), cfg.numKvHeads(), cfg.headDim(), ctx.smCount(), 0);
        AttentionPlan decode = fused != null ? fused.decode() : D == 0 ? null : decodePlan(b, P, D);
        stepPod = fused;
        if (prefill != null && prefill.needsMerge()
                && (prefill.partialOFloats() > act.partialOFloats || prefill.partialLseFloats() > act.partialLseFloats)) {
            throw new IllegalStateException("prefill attention partials exceed the workspace: " + prefill);
        }
        if (decode != null && decode.needsMerge()
                && (decode.partialOFloats() > act.decodePartialOFloats || decode.partialLseFloats() > act.decodePartialLseFloats)) {
            throw new IllegalStateException("decode attention partials exceed the workspace: " + decode);
        }
        inputs.pack(b, prefill == null ? new int[0] : prefill.workItems(), null, copies);
        t[1] = System.nanoTime();
        ctx.record(stepStart);
        enqueueStep(b.numTokens(), b.numRequests(), P, D, b.sampleRequests().length, prefill, decode, false);
    }

    private AttentionPlan decodePlan(HybridBatch b, int begin, int count) {
        return AttentionPlan.decode(b.qoIndptr(), b.kvIndptr(), b.kvLastPageLen(), begin, count, pageSize, cfg.numHeads(),
                cfg.numKvHeads(), cfg.headDim(), ctx.smCount(), 0);
    }

    /**
     * A decode-only step through the bucket's CUDA graph: the batch padded to the bucket with
     * requests of one key on the scratch page, the split rule of the real requests written where
     * the captured kernels read it, and one graph launch.
     */
    private void launchCaptured(HybridBatch b, int bucket, long[] t) {
        stepPod = null;
        stepMode = AttentionMode.SERIAL;
        int D = b.numDecodeRequests();
        HybridBatch padded = DecodeGraphs.padDecodes(b, bucket, numKvBlocks);
        // The rule of the real requests; the padding (one key each) is never split by it.
        AttentionPlan real = decodePlan(b, 0, D);
        // The grid and workspace of the padded launch, at the deepest split a replay may use.
        // (Its split fields are not used: the kernels read the real rule from the device.)
        AttentionPlan launch = AttentionPlan.decode(padded.qoIndptr(), padded.kvIndptr(), padded.kvLastPageLen(), 0, bucket,
                pageSize, cfg.numHeads(), cfg.numKvHeads(), cfg.headDim(), ctx.smCount(), real.kvChunkSize());
        if (real.maxSplits() > AttentionPlan.MAX_SPLITS) {
            throw new IllegalStateException("decode plan of " + real.maxSplits() + " splits exceeds the graph's " + AttentionPlan.MAX_SPLITS);
        }
        inputs.pack(padded, new int[0], new int[] {real.kvChunkSize(), real.maxSplits()}, copies);
        t[1] = System.nanoTime();
        ctx.record(stepStart);
        k.graphs().launch(bucket, () -> enqueueStep(bucket, bucket, 0, bucket, bucket, null, launch, true));
    }

    /**
     * Every launch of one step, in order, on the stream: embedding, the layers, the sampled rows'
     * final norm and the LM head into {@code act.logits}. Enqueues only (graph-capturable).
     *
     * @param capturedDecode the decode attention takes its split rule from {@code inputs.splitPlan}
     */
    private void enqueueStep(int T, int R, int P, int D, int S, AttentionPlan prefill, AttentionPlan decode,
                             boolean capturedDecode) {
        int hidden = cfg.hiddenSize();
        k.layers().embedding(weights.embed, inputs.tokenIds, act.residual, hidden, T, hidden, cfg.vocabSize());
        for (int l = 0; l < cfg.numLayers(); l++) layer(l, T, R, P, D, prefill, decode, capturedDecode);
        lmHead(S, R, inputs.qoIndptr, inputs.sampleRequests, act.lastRows);
    }

    /**
     * The final norm and the LM head of S rows into {@code out.logits} [S][vocab]: row s is the last
     * query row of request {@code sampleRequests[s]} by {@code qoIndptr}. The last layer's MLP
     * output is still in mlpOut, so it is added here, to the gathered rows only.
     */
    private void lmHead(int S, int R, long qoIndptr, long sampleRequests, Activations.LmHeadRows out) {
        int hidden = cfg.hiddenSize();
        k.layers().gatherLastRows(act.residual, hidden, out.residual(), hidden, qoIndptr, sampleRequests, S, hidden, R);
        k.layers().gatherLastRows(act.mlpOut, hidden, out.delta(), hidden, qoIndptr, sampleRequests, S, hidden, R);
        k.layers().addRmsNorm(out.delta(), hidden, out.residual(), hidden, weights.finalNorm, out.normed(), hidden, S, hidden,
                cfg.rmsNormEps());
        k.proj().rowMajor(S, cfg.vocabSize(), hidden, out.normed(), hidden, weights.lmHead, out.logits(), cfg.vocabSize(), true, false);
    }

    /**
     * Uploads the chosen rows of the step just run for {@link #enqueueRowGroup}, in groups of at
     * most {@code group} rows; once per call, before the first group.
     */
    void packRows(int[] rows, int group) {
        inputs.packRows(rows, group, copies);
    }

    /**
     * Enqueues the LM head over chosen rows {@code [from, from + count)} of those packed, into
     * {@code out} (count at most its rows): the residual stream and the last MLP output of every row
     * stay in place until the next step. The rows go in as single-row "requests" whose last row is
     * the chosen one, so the sampled rows' own launches serve: the logits equal those of a step that
     * ended at that row, up to the GEMM's choice of tiles.
     */
    void enqueueRowGroup(int from, int count, Activations.LmHeadRows out) {
        lmHead(count, count, inputs.rowIndptr() + 4L * from, inputs.rowIndex(), out);
    }

    private void layer(int l, int T, int R, int P, int D, AttentionPlan prefill, AttentionPlan decode, boolean capturedDecode) {
        CudaWeights.Layer w = weights.layers.get(l);
        LayerKernels layers = k.layers();
        Projections proj = k.proj();
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
        if (w.qkvBias() != 0) proj.broadcastRows(T, qkvRows, w.qkvBias(), act.ones, act.qkv, qkvRows);
        proj.rowMajor(T, qkvRows, hidden, act.normed, hidden, w.qkv(), act.qkv, qkvRows, false, w.qkvBias() != 0);
        long kCol = act.qkv + 2L * qDim;
        long vCol = act.qkv + 2L * (qDim + kvDim);
        long kCache = act.kCache(l);
        long vCache = act.vCache(l);
        // RoPE and the KV append in one launch; numKvBlocks + 1 pages: the scratch page of graph
        // padding is a valid target.
        layers.ropeAppend(act.qkv, qkvRows, kCol, qkvRows, vCol, qkvRows, rope.cos, rope.sin, inputs.positions, T, cfg.numHeads(),
                cfg.numKvHeads(), hd, hd, rope.positions, kCache, vCache, inputs.qoIndptr, inputs.kvIndptr, inputs.kvPageIndices, R,
                pageSize, numKvBlocks + 1);
        AttentionKernels.Buffers bufs = new AttentionKernels.Buffers(act.qkv, qkvRows, kCache, vCache, act.attn, qDim,
                inputs.qoIndptr, inputs.kvIndptr, inputs.kvPageIndices, inputs.kvLastPageLen, act.partialO, act.partialLse, 0);
        AttentionKernels.Buffers decodeBufs = new AttentionKernels.Buffers(act.qkv, qkvRows, kCache, vCache, act.attn, qDim,
                inputs.qoIndptr, inputs.kvIndptr, inputs.kvPageIndices, inputs.kvLastPageLen, act.decodePartialO,
                act.decodePartialLse, decodeMergeCounters);
        profiler.beforeAttention(l);
        if (stepPod != null && !capturedDecode && window == 0) {
            k.attention().pod(bufs, decodeBufs, stepPod, inputs.workItems, pod.counters(), P, D, cfg.numHeads(), cfg.numKvHeads(), hd,
                    pageSize, ctx.smCount());
        } else {
            // streams: the decode attention on the side stream, from the point where this layer's K/V
            // are in the cache, while the prefill runs on the main stream; o_proj waits for both.
            boolean twoStreams = stepMode == AttentionMode.STREAMS && prefill != null && decode != null;
            if (twoStreams) ctx.forkSide();
            if (decode != null) {
                k.attention().decode(decodeBufs, decode, capturedDecode ? inputs.splitPlan : 0, P, D, cfg.numHeads(), cfg.numKvHeads(),
                        hd, pageSize, window, twoStreams);
            }
            if (prefill != null) {
                k.attention().prefill(bufs, prefill, inputs.workItems, 0, P, cfg.numHeads(), cfg.numKvHeads(), hd, pageSize, window);
            }
            if (twoStreams) ctx.joinSide();
        }
        profiler.afterAttention(l);
        proj.rowMajor(T, hidden, qDim, act.attn, qDim, w.wo(), act.attnOut, hidden, false, false);

        layers.addRmsNorm(act.attnOut, hidden, act.residual, hidden, w.postAttnNorm(), act.normed, hidden, T, hidden, cfg.rmsNormEps());
        proj.gateUpSilu(T, inter, hidden, act.normed, hidden, w.gateUp(), act.gateUp, act.mlpAct, inter);
        proj.rowMajor(T, hidden, inter, act.mlpAct, inter, w.down(), act.mlpOut, hidden, false, false);
    }
}
