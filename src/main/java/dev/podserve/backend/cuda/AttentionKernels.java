package dev.podserve.backend.cuda;

/**
 * Launchers of cuda-kernels/attention: decode, prefill and the split-KV merge, all over one
 * {@code PsAttentionParams}. The caller plans ({@link AttentionPlan}), uploads the plan's work items
 * and hands over a workspace large enough for its partials.
 */
public final class AttentionKernels implements AutoCloseable {

    /**
     * Device views of one layer and step.
     *
     * @param q           bf16 [T][qStride], numQoHeads x headDim per row (RoPE applied)
     * @param kCache      bf16 [numPages][numKvHeads][pageSize][headDim] of the layer; vCache the same
     * @param out         bf16 [T][outStride]
     * @param qoIndptr    int32 [R+1]; kvIndptr int32 [R+1]; kvPageIndices int32 [nnz]; kvLastPageLen int32 [R]
     * @param partialO    fp32 [rows][maxSplits][numQoHeads][headDim] workspace; partialLse fp32 [rows][maxSplits][numQoHeads]
     * @param mergeCounters decode only: int32 [at least the decode grid's x: requests x kv heads x head
     *                    chunks], zeroed once, with which the decode kernel merges its split rows itself
     *                    (no merge launch; the kernel leaves it zero); 0 for a merge launch
     */
    public record Buffers(long q, long qStride, long kCache, long vCache, long out, long outStride, long qoIndptr,
                          long kvIndptr, long kvPageIndices, long kvLastPageLen, long partialO, long partialLse,
                          long mergeCounters) {
    }

    private final CudaContext ctx;
    private final KernelModule module;
    private final Kernel merge;
    private final ParamBlock params = new ParamBlock(ParamLayouts.ATTENTION);
    private final ParamBlock podParams = new ParamBlock(ParamLayouts.POD);

    public AttentionKernels(CudaContext ctx, KernelModule module) {
        this.ctx = ctx;
        this.module = module;
        this.merge = module.function("ps_attention_merge");
    }

    /**
     * Resolves the head dim's kernels and raises their shared memory caps now: a CUDA graph capture
     * may be the first launch, and driver calls other than launches are best kept out of it.
     */
    public void prepare(int headDim) {
        module.function(kernelName("decode", headDim)).allowDynamicSmem(AttentionPlan.decodeSmem(headDim));
        module.function(kernelName("prefill", headDim)).allowDynamicSmem(AttentionPlan.prefillSmem(headDim));
        module.function(kernelName("prefill_window", headDim)).allowDynamicSmem(AttentionPlan.prefillSmem(headDim));
        for (int ctas : new int[] {2, 4}) {
            module.function(podKernelName(headDim, ctas)).allowDynamicSmem(AttentionPlan.podSmem(headDim, ctas));
        }
    }

    /** {@code params} for one launch; {@code mergeCounters} as in {@link Buffers}, 0 for every kernel but the decode. */
    private void fill(Buffers b, AttentionPlan plan, long workItems, long splitPlan, int begin, int count, int numQoHeads,
                      int numKvHeads, int headDim, int pageSize, int window, long mergeCounters) {
        params.clear();
        fill(params, "", b, plan, workItems, splitPlan, begin, count, numQoHeads, numKvHeads, headDim, pageSize, window,
                mergeCounters);
    }

    /** One PsAttentionParams, at {@code prefix} inside {@code block} ("" for the struct itself, "prefill." in PsPodParams). */
    private static void fill(ParamBlock block, String prefix, Buffers b, AttentionPlan plan, long workItems, long splitPlan,
                             int begin, int count, int numQoHeads, int numKvHeads, int headDim, int pageSize, int window,
                             long mergeCounters) {
        boolean partials = plan.needsMerge() || splitPlan != 0;
        block.ptr(prefix + "q", b.q()).ptr(prefix + "kCache", b.kCache()).ptr(prefix + "vCache", b.vCache())
                .ptr(prefix + "out", b.out()).ptr(prefix + "qoIndptr", b.qoIndptr()).ptr(prefix + "kvIndptr", b.kvIndptr())
                .ptr(prefix + "kvPageIndices", b.kvPageIndices()).ptr(prefix + "kvLastPageLen", b.kvLastPageLen())
                .ptr(prefix + "workItems", workItems)
                .ptr(prefix + "partialO", partials ? b.partialO() : 0).ptr(prefix + "partialLse", partials ? b.partialLse() : 0)
                .ptr(prefix + "splitPlan", splitPlan)
                // No TMA maps: the prefill's TMA loads measured slower than its cp.async ones on the
                // H100 (cuda-kernels/attention/README.md), so the backend keeps cp.async.
                .ptr(prefix + "kvTensorMaps", 0)
                .ptr(prefix + "mergeCounters", mergeCounters)
                .i64(prefix + "qStride", b.qStride()).i64(prefix + "outStride", b.outStride()).i32(prefix + "requestBegin", begin)
                .i32(prefix + "numRequests", count).i32(prefix + "numWorkItems", plan.numWorkItems())
                .i32(prefix + "numQoHeads", numQoHeads).i32(prefix + "numKvHeads", numKvHeads).i32(prefix + "headDim", headDim)
                .i32(prefix + "pageSize", pageSize).i32(prefix + "kvChunkSize", plan.kvChunkSize())
                .i32(prefix + "maxSplits", plan.maxSplits()).f32(prefix + "smScale", (float) (1.0 / Math.sqrt(headDim)))
                .i32(prefix + "window", window);
    }

    /**
     * The fused POD-Attention launch of a hybrid step (requests 0 .. numPrefill-1 prefill, then
     * numDecode decodes), then the split-KV merge of each phase that split. The phases must not
     * share partial buffers; {@code counters} is int32 [numSms + 3], zero before the first launch
     * (the kernel leaves it zero again), and one launch at a time may use it. No sliding window
     * (the fused kernel has no windowed instance).
     */
    public synchronized void pod(Buffers prefillBufs, Buffers decodeBufs, PodPlan plan, long workItems, long counters,
                                 int numPrefill, int numDecode, int numQoHeads, int numKvHeads, int headDim, int pageSize,
                                 int numSms) {
        podParams.clear();
        // The fused kernel's decode leaves its split rows to the merge launched below (no counters).
        fill(podParams, "prefill.", prefillBufs, plan.prefill(), workItems, 0, 0, numPrefill, numQoHeads, numKvHeads, headDim,
                pageSize, 0, 0);
        fill(podParams, "decode.", decodeBufs, plan.decode(), 0, 0, numPrefill, numDecode, numQoHeads, numKvHeads, headDim,
                pageSize, 0, 0);
        podParams.ptr("counters", counters).ptr("ctaLog", 0).i32("prefillCtas", plan.prefillCtas())
                .i32("decodeCtas", plan.decodeCtas())
                .i32("prefillGridX", plan.prefillCtas() > 0 ? plan.prefill().gridX() : 1)
                .i32("decodeGridX", plan.decodeCtas() > 0 ? plan.decode().gridX() : 1)
                .i32("policy", plan.policy()).i32("numSms", numSms).i32("staticPrefillSms", plan.staticPrefillSms())
                .i32("reserved", 0);
        module.function(podKernelName(headDim, plan.ctasPerSm()))
                .launch(ctx, plan.grid(), 1, AttentionPlan.THREADS, plan.smemBytes(), podParams);
        int mergeY = AttentionPlan.mergeGridY(numQoHeads, headDim);
        if (plan.prefill().needsMerge()) {
            fill(prefillBufs, plan.prefill(), workItems, 0, 0, numPrefill, numQoHeads, numKvHeads, headDim, pageSize, 0, 0);
            merge.launchDependent(ctx, plan.prefill().rows(), mergeY, AttentionPlan.THREADS, 0, params);
        }
        if (plan.decode().needsMerge()) {
            fill(decodeBufs, plan.decode(), 0, 0, numPrefill, numDecode, numQoHeads, numKvHeads, headDim, pageSize, 0, 0);
            merge.launchDependent(ctx, plan.decode().rows(), mergeY, AttentionPlan.THREADS, 0, params);
        }
    }

    /** pod_params.h's entry points: ps_pod_attention_hd* at 2 CTAs per SM, ps_pod4_attention_hd* at 4. */
    private static String podKernelName(int headDim, int ctasPerSm) {
        if (!AttentionPlan.supportedHeadDim(headDim)) throw new IllegalArgumentException("no POD kernel for head dim " + headDim);
        return (ctasPerSm == 4 ? "ps_pod4_attention_hd" : "ps_pod_attention_hd") + headDim;
    }

    /**
     * Requests begin .. begin+count-1, one query row each; merges when the plan splits. window: the
     * layer's sliding window (0 = none), keys at positions <= p - window are not attended to.
     */
    public void decode(Buffers b, AttentionPlan plan, int begin, int count, int numQoHeads, int numKvHeads,
                       int headDim, int pageSize, int window) {
        decode(b, plan, 0, begin, count, numQoHeads, numKvHeads, headDim, pageSize, window);
    }

    /**
     * As {@link #decode(Buffers, AttentionPlan, int, int, int, int, int, int, int)}; with
     * {@code splitPlan} != 0 (device int32 [2] {kvChunkSize, maxSplits}) the launch is the one a CUDA
     * graph can replay for any contexts: the kernels read the split rule from there, the grid is
     * {@link AttentionPlan#MAX_SPLITS} deep and split rows are always merged (by the kernel with
     * {@code b.mergeCounters()}, else by a merge launch). The partial workspace must then hold rows x
     * MAX_SPLITS.
     */
    public void decode(Buffers b, AttentionPlan plan, long splitPlan, int begin, int count, int numQoHeads,
                       int numKvHeads, int headDim, int pageSize, int window) {
        decode(b, plan, splitPlan, begin, count, numQoHeads, numKvHeads, headDim, pageSize, window, false);
    }

    /** @param onSide launch on the context's side stream (streams mode) instead of its main stream */
    public synchronized void decode(Buffers b, AttentionPlan plan, long splitPlan, int begin, int count, int numQoHeads,
                                    int numKvHeads, int headDim, int pageSize, int window, boolean onSide) {
        if (count == 0) return;
        fill(b, plan, 0, splitPlan, begin, count, numQoHeads, numKvHeads, headDim, pageSize, window, b.mergeCounters());
        org.bytedeco.cuda.cudart.CUstream_st stream = onSide ? ctx.sideStream() : ctx.stream();
        int gridY = splitPlan != 0 ? AttentionPlan.MAX_SPLITS : plan.gridY();
        module.function(kernelName("decode", headDim))
                .launchDependent(ctx, stream, plan.gridX(), gridY, AttentionPlan.THREADS, plan.smemBytes(), params);
        if (b.mergeCounters() == 0 && (plan.needsMerge() || splitPlan != 0)) {
            merge.launchDependent(ctx, stream, plan.rows(), AttentionPlan.mergeGridY(numQoHeads, headDim), AttentionPlan.THREADS, 0,
                    params);
        }
    }

    /**
     * Causal chunked prefill of requests begin .. begin+count-1; workItems int32 [numWorkItems][2] on
     * the device; window as for {@link #decode}.
     */
    public synchronized void prefill(Buffers b, AttentionPlan plan, long workItems, int begin, int count, int numQoHeads,
                                     int numKvHeads, int headDim, int pageSize, int window) {
        if (count == 0) return;
        fill(b, plan, workItems, 0, begin, count, numQoHeads, numKvHeads, headDim, pageSize, window, 0);
        module.function(kernelName(window > 0 ? "prefill_window" : "prefill", headDim))
                .launch(ctx, plan.gridX(), plan.gridY(), AttentionPlan.THREADS, plan.smemBytes(), params);
        if (plan.needsMerge()) {
            merge.launchDependent(ctx, plan.rows(), AttentionPlan.mergeGridY(numQoHeads, headDim), AttentionPlan.THREADS, 0, params);
        }
    }

    private static String kernelName(String phase, int headDim) {
        if (!AttentionPlan.supportedHeadDim(headDim)) {
            throw new IllegalArgumentException("no attention kernel for head dim " + headDim);
        }
        return "ps_attention_" + phase + "_hd" + headDim;
    }

    @Override
    public void close() {
        podParams.close();
        params.close();
    }
}
