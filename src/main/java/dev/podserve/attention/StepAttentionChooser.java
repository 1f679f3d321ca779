package dev.podserve.attention;

/**
 * Chooses each step's attention from the configured mode and SM policy and the batch's shape.
 *
 * <ul>
 *   <li>A step of one phase (prefill chunks only, or decodes only) runs that phase's standalone
 *       kernel: {@link StepAttention#SERIAL}.</li>
 *   <li>A hybrid step under {@code serial} or {@code streams}, or under {@code pod} with a fixed
 *       policy, runs as configured.</li>
 *   <li>{@code pod} with {@code auto}: the fused kernel with the tickets the backend's
 *       {@link PodPolicyAdvisor} picks for it (proportional without one), unless the step
 *       is a large prefill beside a small decode (the prefill over {@link #MAX_PREFILL_SHARE} of the
 *       estimated attention time and the decode under {@link #SMALL_DECODE_US}); that step runs the
 *       two standalone kernels on two streams, because a handful of decodes cannot hide a large
 *       prefill but can run on the SMs its last wave leaves idle. {@link #MIN_PREFILL_SHARE} is 0:
 *       on the H100 the fused kernel was never slower than the serial pair at small shares. The
 *       rule and its numbers are attention_plan.h's choose_pod_policy and pod_worth_fusing, from
 *       the H100 kernel sweeps under bench/results/.</li>
 * </ul>
 * The estimate converts the prefill's FLOPs and the decode's bytes into microseconds at rates
 * measured on an H100 with podserve's own kernels; only their ratio matters.
 */
public final class StepAttentionChooser {

    /** attention_plan.h's kPodPrefillFlopsPerUs: the prefill kernel at long contexts, H100. */
    public static final double PREFILL_FLOPS_PER_US = 320e6;
    /** attention_plan.h's kPodDecodeBytesPerUs: the decode kernel's KV streaming rate, H100. */
    public static final double DECODE_BYTES_PER_US = 2.9e6;
    /** attention_plan.h's kPodMinPrefillShare. */
    public static final double MIN_PREFILL_SHARE = 0.0;
    /** attention_plan.h's kPodMaxPrefillShare. */
    public static final double MAX_PREFILL_SHARE = 0.65;
    /** attention_plan.h's kPodSmallDecodeUs. */
    public static final double SMALL_DECODE_US = 50.0;

    private final AttentionMode mode;
    private final SmPolicy policy;
    private final int numQoHeads;
    private final int numKvHeads;
    private final int headDim;
    private final PodPolicyAdvisor advisor;

    public StepAttentionChooser(AttentionMode mode, SmPolicy policy, int numQoHeads, int numKvHeads, int headDim) {
        this(mode, policy, numQoHeads, numKvHeads, headDim, PodPolicyAdvisor.PROPORTIONAL);
    }

    private StepAttentionChooser(AttentionMode mode, SmPolicy policy, int numQoHeads, int numKvHeads, int headDim,
                                 PodPolicyAdvisor advisor) {
        if (numQoHeads <= 0 || numKvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("heads and head dim must be positive");
        }
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        this.policy = java.util.Objects.requireNonNull(policy, "policy");
        this.numQoHeads = numQoHeads;
        this.numKvHeads = numKvHeads;
        this.headDim = headDim;
        this.advisor = java.util.Objects.requireNonNull(advisor, "advisor");
    }

    /** The same chooser with {@code auto}'s fused steps getting their tickets from {@code advisor}. */
    public StepAttentionChooser withAdvisor(PodPolicyAdvisor advisor) {
        return new StepAttentionChooser(mode, policy, numQoHeads, numKvHeads, headDim, advisor);
    }

    public AttentionMode mode() {
        return mode;
    }

    public SmPolicy policy() {
        return policy;
    }

    public StepAttention choose(HybridBatch b) {
        return choose(b.qoIndptr(), b.kvIndptr(), b.kvLastPageLen(), b.pageSize(), b.numPrefillRequests(), b.numDecodeRequests());
    }

    /** The same from a step's CSR arrays, before its {@link HybridBatch} exists (the scheduler builds it once, choice included). */
    public StepAttention choose(int[] qo, int[] kv, int[] last, int pageSize, int p, int d) {
        if (p == 0 || d == 0) return StepAttention.SERIAL;
        if (mode != AttentionMode.POD) return new StepAttention(mode, SmPolicy.PROPORTIONAL);
        if (policy != SmPolicy.AUTO) return new StepAttention(AttentionMode.POD, policy);
        double prefillUs = prefillMicros(qo, kv, last, pageSize, p, numQoHeads, headDim);
        double decodeUs = decodeMicros(kv, last, pageSize, p, d, numQoHeads, numKvHeads, headDim);
        if (worthFusing(prefillUs, decodeUs)) return new StepAttention(AttentionMode.POD, advisor.autoPolicy(qo, kv, last, pageSize, p, d));
        return fallBackToStreams(prefillUs, decodeUs) ? new StepAttention(AttentionMode.STREAMS, SmPolicy.PROPORTIONAL)
                : StepAttention.SERIAL;
    }

    /** attention_plan.h's PodLaunch::fallbackStreams: a prefill-heavy step not worth fusing runs on two streams. */
    public static boolean fallBackToStreams(double prefillUs, double decodeUs) {
        return prefillUs > MAX_PREFILL_SHARE * (prefillUs + decodeUs);
    }

    /** attention_plan.h's pod_worth_fusing. */
    public static boolean worthFusing(double prefillUs, double decodeUs) {
        if (prefillUs <= 0 || decodeUs <= 0 || prefillUs < MIN_PREFILL_SHARE * (prefillUs + decodeUs)) return false;
        return prefillUs <= MAX_PREFILL_SHARE * (prefillUs + decodeUs) || decodeUs >= SMALL_DECODE_US;
    }

    /**
     * Causal attention FLOPs of prefill requests 0 .. numPrefill-1 (each chunk at the end of its
     * context), in microseconds; the arrays are a {@link HybridBatch}'s CSR arrays.
     */
    public static double prefillMicros(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int pageSize, int numPrefill,
                                       int numQoHeads, int headDim) {
        double flops = 0;
        for (int r = 0; r < numPrefill; r++) {
            double q = qoIndptr[r + 1] - qoIndptr[r];
            double kv = kvLength(kvIndptr, kvLastPageLen, pageSize, r);
            flops += 4.0 * numQoHeads * headDim * (q * (kv - q) + q * (q + 1) / 2);
        }
        return flops / PREFILL_FLOPS_PER_US;
    }

    /** Bytes decode requests begin .. begin+count-1 read (bf16 K and V of each context, the query row), in microseconds. */
    public static double decodeMicros(int[] kvIndptr, int[] kvLastPageLen, int pageSize, int begin, int count, int numQoHeads,
                                      int numKvHeads, int headDim) {
        double bytes = 0;
        for (int r = begin; r < begin + count; r++) {
            bytes += 4.0 * numKvHeads * headDim * kvLength(kvIndptr, kvLastPageLen, pageSize, r) + 4.0 * numQoHeads * headDim;
        }
        return bytes / DECODE_BYTES_PER_US;
    }

    private static int kvLength(int[] kvIndptr, int[] kvLastPageLen, int pageSize, int r) {
        return (kvIndptr[r + 1] - kvIndptr[r] - 1) * pageSize + kvLastPageLen[r];
    }
}
