package dev.podserve.backend.cuda;

/**
 * Host-side planning of one fused POD-Attention launch, ported from attention_plan.h's plan_pod so
 * the Java and native tests launch identically: the two phases' plans with the paper's limited
 * prefill splits (none when the decode alone fills a wave, else at most two waves of split
 * prefill CTAs) and a decode split raised when its CTAs would leave a wave partly empty, then the
 * SM policy and the static split's share of SMs.
 *
 * @param prefill          the prefill phase's plan (requests 0 .. P-1), or null without prefill
 * @param decode           the decode phase's plan (requests P .. P+D-1), or null without decodes
 * @param policy           resolved policy: {@link #PROPORTIONAL}, {@link #FIFTY_FIFTY} or {@link #STATIC}
 * @param staticPrefillSms SMs with a lower id take prefill tickets first under {@link #STATIC}
 */
public record PodPlan(AttentionPlan prefill, AttentionPlan decode, int prefillCtas, int decodeCtas, int policy,
                      int staticPrefillSms, int smemBytes) {

    /** pod_params.h's PS_POD_POLICY_* and attention_plan.h's kPodAuto. */
    public static final int PROPORTIONAL = 0;
    public static final int FIFTY_FIFTY = 1;
    public static final int STATIC = 2;
    public static final int AUTO = 3;

    /** attention_plan.h's kPodPrefillFlopsPerUs and kPodDecodeBytesPerUs: only their ratio matters. */
    static final double PREFILL_FLOPS_PER_US = 320e6;
    static final double DECODE_BYTES_PER_US = 2.9e6;

    public int grid() {
        return prefillCtas + decodeCtas;
    }

    /** {@code auto}: proportional, the sweep's winner at every shape measured (see attention_plan.h). */
    static int choosePolicy() {
        return PROPORTIONAL;
    }

    /**
     * @param staticFraction {@link #STATIC}'s share of SMs for prefill, or 0 to take it from the
     *                       phases' estimated times
     */
    static PodPlan plan(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int numPrefill, int numDecode, int pageSize,
                        int numQoHeads, int numKvHeads, int headDim, int numSms, int policy, double staticFraction) {
        int group = numQoHeads / numKvHeads;
        int headChunks = (group + AttentionPlan.DECODE_HEADS - 1) / AttentionPlan.DECODE_HEADS;
        int maxDecodeKeys = 1;
        double decodeBytes = 0;
        for (int r = numPrefill; r < numPrefill + numDecode; r++) {
            int k = AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize);
            maxDecodeKeys = Math.max(maxDecodeKeys, k);
            decodeBytes += 4.0 * numKvHeads * headDim * k + 4.0 * numQoHeads * headDim;
        }
        int decodeUnits = numDecode * numKvHeads * headChunks;
        AttentionPlan decode = null;
        if (numDecode > 0) {
            decode = AttentionPlan.decode(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads,
                    numKvHeads, headDim, numSms, 0);
            int ctas = decode.gridX() * decode.gridY();
            if (ctas >= 0.8 * numSms && ctas < numSms) {
                int chunk = roundUp((maxDecodeKeys + decode.maxSplits()) / (decode.maxSplits() + 1), AttentionPlan.KEY_ALIGN);
                if (chunk >= AttentionPlan.MIN_CHUNK && chunk < decode.kvChunkSize()) {
                    decode = AttentionPlan.decode(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize,
                            numQoHeads, numKvHeads, headDim, numSms, chunk);
                }
            }
        }
        double prefillFlops = 0;
        int maxPrefillKv = 1;
        for (int r = 0; r < numPrefill; r++) {
            int q = qoIndptr[r + 1] - qoIndptr[r];
            int kv = AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize);
            maxPrefillKv = Math.max(maxPrefillKv, kv);
            prefillFlops += 4.0 * numQoHeads * headDim * ((double) q * (kv - q) + (double) q * (q + 1) / 2);
        }
        AttentionPlan prefill = null;
        if (numPrefill > 0) {
            prefill = AttentionPlan.prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize, numQoHeads,
                    numKvHeads, headDim, numSms, 0);
            if (prefill.maxSplits() > 1) {
                int units = prefill.gridX();
                int cap = decodeUnits >= numSms ? 1 : Math.max(1, 2 * numSms / Math.max(units, 1));
                if (prefill.maxSplits() > cap) {
                    int chunk = roundUp((maxPrefillKv + cap - 1) / cap, AttentionPlan.KEY_ALIGN);
                    prefill = AttentionPlan.prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize, numQoHeads,
                            numKvHeads, headDim, numSms, chunk);
                }
            }
        }
        int prefillCtas = prefill == null ? 0 : prefill.gridX() * prefill.gridY();
        int decodeCtas = decode == null ? 0 : decode.gridX() * decode.gridY();
        double prefillUs = prefillFlops / PREFILL_FLOPS_PER_US;
        double decodeUs = decodeBytes / DECODE_BYTES_PER_US;
        int resolved = policy == AUTO ? choosePolicy() : policy;
        double share = staticFraction > 0 ? staticFraction
                : prefillUs + decodeUs > 0 ? prefillUs / (prefillUs + decodeUs) : 0.5;
        int staticSms = prefillCtas == 0 ? 0 : Math.min(numSms, Math.max(1, (int) (share * numSms + 0.5)));
        int smem = Math.max(AttentionPlan.decodeSmem(headDim), AttentionPlan.prefillSmem(headDim));
        return new PodPlan(prefill, decode, prefillCtas, decodeCtas, resolved, staticSms, smem);
    }

    private static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }
}
