package dev.podserve.backend.cuda;

import dev.podserve.attention.StepAttentionChooser;

/**
 * Host-side planning of one fused POD-Attention launch, ported from attention_plan.h's plan_pod so
 * the Java and native tests launch identically: the two phases' plans with the paper's limited
 * prefill splits (none when the decode alone fills a wave, else at most two waves of split
 * prefill CTAs) and then {@link PodSpanRule}'s (finer where one prefill CTA would outlast the rest
 * of the launch), the decode split until it has {@link #DECODE_ROUNDS} CTAs per SM, or
 * {@link #SMALL_DECODE_ROUNDS} when it has fewer (request, kv head) units than SMs (it shares every SM
 * with prefill tiles, so its pieces must be small for the per-SM tickets to balance it), then the SM policy
 * ({@code auto}: {@link PodTicketReplay}'s pick, made before the span rule, which applies under proportional
 * tickets only), the static split's share of SMs, and whether {@code auto} advises
 * fusing at all.
 *
 * @param prefill          the prefill phase's plan (requests 0 .. P-1), or null without prefill
 * @param decode           the decode phase's plan (requests P .. P+D-1), or null without decodes
 * @param policy           resolved policy: {@link #PROPORTIONAL}, {@link #FIFTY_FIFTY} or {@link #STATIC}
 * @param staticPrefillSms SMs with a lower id take prefill tickets first under {@link #STATIC}
 * @param ctasPerSm        the fused kernel's co-residence shape, 2 or 4 (its kernel, shared memory and
 *                         prefill work items of {@link AttentionPlan#PREFILL_ROWS} or {@link AttentionPlan#POD4_PREFILL_ROWS})
 */
public record PodPlan(AttentionPlan prefill, AttentionPlan decode, int prefillCtas, int decodeCtas, int policy,
                      int staticPrefillSms, int smemBytes, boolean fused, boolean fallbackStreams, int ctasPerSm) {

    /** pod_params.h's PS_POD_POLICY_* and attention_plan.h's kPodAuto. */
    public static final int PROPORTIONAL = 0;
    public static final int FIFTY_FIFTY = 1;
    public static final int STATIC = 2;
    public static final int AUTO = 3;

    /** attention_plan.h's PodTuning default: the decode split until decodeUnits x splits >= 8 x SMs. */
    static final int DECODE_ROUNDS = 8;
    /** ... and 4 x SMs when the unsplit decode has fewer units than SMs (serving-sized batches). */
    static final int SMALL_DECODE_ROUNDS = 4;

    /**
     * Diagnostic switch ({@code -Dpodserve.cuda.pod-span-rule=false}): the paper's limited splits alone, so
     * a serving run can measure what the span rule buys end to end against the same build.
     */
    static final boolean SPAN_RULE = Boolean.parseBoolean(System.getProperty("podserve.cuda.pod-span-rule", "true"));

    public int grid() {
        return prefillCtas + decodeCtas;
    }

    /** CTAs per SM meaning "let the planner choose" (attention_plan.h's choose_pod_ctas). */
    public static final int AUTO_CTAS = 0;

    /**
     * attention_plan.h's choose_pod_ctas: 2, the shape that won at all 560 points of the H100 sweep
     * (../bench/results/pod-sweep-h100-2026-11-27.*: 4 CTAs per SM was slower in every prefill-share band).
     */
    static int chooseCtas() {
        return 2;
    }

    /**
     * @param staticFraction {@link #STATIC}'s share of SMs for prefill, or 0 to take it from the
     *                       phases' estimated times
     */
    static PodPlan plan(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int numPrefill, int numDecode, int pageSize,
                        int numQoHeads, int numKvHeads, int headDim, int numSms, int policy, double staticFraction) {
        return plan(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads, numKvHeads, headDim, numSms,
                policy, staticFraction, 2);
    }

    /** @param ctasPerSm 2 or 4, or {@link #AUTO_CTAS} */
    static PodPlan plan(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int numPrefill, int numDecode, int pageSize,
                        int numQoHeads, int numKvHeads, int headDim, int numSms, int policy, double staticFraction,
                        int ctasPerSm) {
        int group = numQoHeads / numKvHeads;
        int headChunks = (group + AttentionPlan.DECODE_HEADS - 1) / AttentionPlan.DECODE_HEADS;
        int maxDecodeKeys = 1;
        for (int r = numPrefill; r < numPrefill + numDecode; r++) {
            maxDecodeKeys = Math.max(maxDecodeKeys, AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize));
        }
        int decodeUnits = numDecode * numKvHeads * headChunks;
        AttentionPlan decode = null;
        if (numDecode > 0) {
            decode = AttentionPlan.decode(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads,
                    numKvHeads, headDim, numSms, 0);
            int ctas = decode.gridX() * decode.gridY();
            // One split more, never past MAX_SPLITS (the partial buffers and a graph's grid are sized for it).
            if (ctas >= 0.8 * numSms && ctas < numSms && decode.maxSplits() < AttentionPlan.MAX_SPLITS) {
                int chunk = roundUp((maxDecodeKeys + decode.maxSplits()) / (decode.maxSplits() + 1), AttentionPlan.KEY_ALIGN);
                if (chunk >= AttentionPlan.MIN_CHUNK && chunk < decode.kvChunkSize()) {
                    decode = AttentionPlan.decode(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize,
                            numQoHeads, numKvHeads, headDim, numSms, chunk);
                }
            }
            int rounds = decodeUnits < numSms ? SMALL_DECODE_ROUNDS : DECODE_ROUNDS;
            int chunk = splitToRounds(decode, decodeUnits, maxDecodeKeys, rounds, numSms);
            if (chunk > 0) {
                decode = AttentionPlan.decode(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads,
                        numKvHeads, headDim, numSms, chunk);
            }
        }
        int maxPrefillKv = 1;
        for (int r = 0; r < numPrefill; r++) {
            maxPrefillKv = Math.max(maxPrefillKv, AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize));
        }
        int ctas = ctasPerSm == 2 || ctasPerSm == 4 ? ctasPerSm : chooseCtas();
        int rows = ctas == 4 ? AttentionPlan.POD4_PREFILL_ROWS : AttentionPlan.PREFILL_ROWS;
        AttentionPlan prefill = null;
        int resolved = policy == AUTO ? PROPORTIONAL : policy;
        if (numPrefill > 0) {
            prefill = AttentionPlan.prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize, numQoHeads,
                    numKvHeads, headDim, numSms, 0, rows);
            if (prefill.maxSplits() > 1) {
                int units = prefill.gridX();
                int cap = decodeUnits >= numSms ? 1 : Math.max(1, 2 * numSms / Math.max(units, 1));
                if (prefill.maxSplits() > cap) {
                    int chunk = roundUp((maxPrefillKv + cap - 1) / cap, AttentionPlan.KEY_ALIGN);
                    prefill = AttentionPlan.prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize, numQoHeads,
                            numKvHeads, headDim, numSms, chunk, rows);
                }
            }
            // auto's policy from the phases as planned so far. The span rule assumes proportional
            // tickets: under fifty-fifty the extra prefill CTAs each take a decode's turn on their SM,
            // and the same splits measured 0.88x.
            if (policy == AUTO && ctas == 2 && decode != null) {
                resolved = PodTicketReplay.choosePolicy(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize,
                        numQoHeads, numKvHeads, headDim, numSms, prefill, decode, rows);
            }
            if (SPAN_RULE && decode != null && ctas == 2 && resolved == PROPORTIONAL) {
                int chunk = PodSpanRule.prefillChunk(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize,
                        numQoHeads, numKvHeads, headDim, numSms, prefill, decode, rows);
                if (chunk > 0) {
                    prefill = AttentionPlan.prefill(qoIndptr, kvIndptr, kvLastPageLen, 0, numPrefill, pageSize, numQoHeads,
                            numKvHeads, headDim, numSms, chunk, rows);
                }
            }
        }
        int prefillCtas = prefill == null ? 0 : prefill.gridX() * prefill.gridY();
        int decodeCtas = decode == null ? 0 : decode.gridX() * decode.gridY();
        double prefillUs = StepAttentionChooser.prefillMicros(qoIndptr, kvIndptr, kvLastPageLen, pageSize, numPrefill, numQoHeads,
                headDim);
        double decodeUs = StepAttentionChooser.decodeMicros(kvIndptr, kvLastPageLen, pageSize, numPrefill, numDecode, numQoHeads,
                numKvHeads, headDim);
        boolean fused = policy != AUTO || StepAttentionChooser.worthFusing(prefillUs, decodeUs);
        boolean fallbackStreams = !fused && StepAttentionChooser.fallBackToStreams(prefillUs, decodeUs);
        double share = staticFraction > 0 ? staticFraction
                : prefillUs + decodeUs > 0 ? prefillUs / (prefillUs + decodeUs) : 0.5;
        int staticSms = prefillCtas == 0 ? 0 : Math.min(numSms, Math.max(1, (int) (share * numSms + 0.5)));
        return new PodPlan(prefill, decode, prefillCtas, decodeCtas, resolved, staticSms, AttentionPlan.podSmem(headDim, ctas),
                fused, fallbackStreams, ctas);
    }

    /**
     * attention_plan.h's split_to_rounds: the forced chunk that raises the plan's splits until
     * units x splits >= rounds x numSms (chunks of at least MIN_CHUNK keys), or 0 to keep the plan.
     */
    static int splitToRounds(AttentionPlan plan, int units, int maxKeys, int rounds, int numSms) {
        int want = rounds * numSms;
        if (units <= 0 || units * plan.maxSplits() >= want) return 0;
        int splits = Math.min(AttentionPlan.MAX_SPLITS, (want + units - 1) / units);
        int chunk = Math.max(AttentionPlan.MIN_CHUNK, roundUp((maxKeys + splits - 1) / splits, AttentionPlan.KEY_ALIGN));
        return chunk < plan.kvChunkSize() ? chunk : 0;
    }

    private static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }
}
