package dev.podserve.backend.cuda;

/**
 * The span rule of a fused launch's prefill splits, ported from attention_plan.h's
 * pod_span_prefill_chunk (comments and measurements there). After the paper's limited splits, a
 * chunk of 512 late in a long prompt beside 17-48 shorter decodes stays one CTA per row tile, and
 * the launch ends on those CTAs walking the whole context alone; this estimates the launch's span
 * for finer prefill splits and takes one only where it promises a large gain. For proportional
 * tickets only (the caller checks).
 */
final class PodSpanRule {

    /** A 128-row prefill CTA's keys x head dim per microsecond beside a decode CTA (H200 traces). */
    static final double PREFILL_CTA_KEY_DIMS_PER_US = 28.0 * 128;
    static final double PREFILL_CTA_US = 3.0;
    /** A decode CTA's keys x head dim per microsecond beside a prefill CTA, and its fixed cost. */
    static final double DECODE_CTA_KEY_DIMS_PER_US = 58.0 * 128;
    static final double DECODE_CTA_US = 4.0;
    static final int MAX_PREFILL_SPLITS = 8;
    /** What a split plan must promise over the limited plan (the estimate promises ~0.11 too much). */
    static final double MIN_SPEEDUP = 1.12;

    private PodSpanRule() {
    }

    /**
     * The prefill chunk to plan instead of the limited plan's, or 0 to keep it.
     *
     * @param prefill the prefill's limited-split plan (rows packed rows per work item)
     * @param decode  the decode's final plan
     */
    static int prefillChunk(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int numPrefill, int numDecode, int pageSize,
                            int numQoHeads, int numKvHeads, int headDim, int numSms, AttentionPlan prefill,
                            AttentionPlan decode, int rows) {
        int group = numQoHeads / numKvHeads;
        int headChunks = (group + AttentionPlan.DECODE_HEADS - 1) / AttentionPlan.DECODE_HEADS;
        // Keys of each unit as the kernels cut them: prefill work items per kv head (keys up to the
        // item's last row's), decode requests per kv head and head chunk.
        int prefillCount = 0;
        for (int r = 0; r < numPrefill; r++) {
            int q = qoIndptr[r + 1] - qoIndptr[r];
            prefillCount += (q * group + rows - 1) / rows * numKvHeads;
        }
        int[] prefillUnits = new int[prefillCount];
        int n = 0;
        int maxPrefillKv = 1;
        for (int r = 0; r < numPrefill; r++) {
            int q = qoIndptr[r + 1] - qoIndptr[r];
            int kv = AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize);
            maxPrefillKv = Math.max(maxPrefillKv, kv);
            for (int m0 = 0; m0 < q * group; m0 += rows) {
                int lastRow = Math.min(m0 + rows, q * group) - 1;
                for (int u = 0; u < numKvHeads; u++) prefillUnits[n++] = kv - q + lastRow / group + 1;
            }
        }
        int[] decodeUnits = new int[numDecode * numKvHeads * headChunks];
        n = 0;
        for (int r = numPrefill; r < numPrefill + numDecode; r++) {
            int kv = AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize);
            for (int u = 0; u < numKvHeads * headChunks; u++) decodeUnits[n++] = kv;
        }
        double[] decodeSpan = new double[2];  // slot-time, longest CTA
        addPieces(decodeUnits, decode.kvChunkSize(), DECODE_CTA_KEY_DIMS_PER_US, DECODE_CTA_US, headDim, decodeSpan);
        int limitedChunk = prefill.kvChunkSize();
        double[] slotBoundUs = new double[1];
        double limitedUs = spanUs(prefillUnits, limitedChunk, mergeUs(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, pageSize,
                numQoHeads, headDim, limitedChunk), decodeSpan, numSms, headDim, slotBoundUs);
        double bestUs = limitedUs / MIN_SPEEDUP;
        // Finer splits only add CTAs, so no split plan's span falls below the limited plan's slot
        // bound: the usual, decode-heavy step ends here.
        if (slotBoundUs[0] >= bestUs) return 0;
        int bestChunk = 0;
        int lastChunk = 0;
        for (int s = prefill.maxSplits() + 1; s <= MAX_PREFILL_SPLITS; s++) {
            int chunk = Math.max(AttentionPlan.MIN_CHUNK, roundUp((maxPrefillKv + s - 1) / s, AttentionPlan.KEY_ALIGN));
            if (chunk == lastChunk || chunk >= limitedChunk || (maxPrefillKv + chunk - 1) / chunk <= prefill.maxSplits()) {
                continue;
            }
            lastChunk = chunk;
            double us = spanUs(prefillUnits, chunk, mergeUs(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, pageSize, numQoHeads,
                    headDim, chunk), decodeSpan, numSms, headDim, null);
            if (us < bestUs) {
                bestUs = us;
                bestChunk = chunk;
            }
        }
        return bestChunk;
    }

    /**
     * The larger of the slot-time over the SMs' two slots and the longest CTA, plus the prefill merge;
     * slotBoundUs, if not null, receives the first term alone.
     */
    private static double spanUs(int[] prefillUnits, int prefillChunk, double mergeUs, double[] decodeSpan, int numSms,
                                 int headDim, double[] slotBoundUs) {
        double[] span = decodeSpan.clone();
        addPieces(prefillUnits, prefillChunk, PREFILL_CTA_KEY_DIMS_PER_US, PREFILL_CTA_US, headDim, span);
        double slotUs = span[0] / (2.0 * numSms);
        if (slotBoundUs != null) slotBoundUs[0] = slotUs;
        return Math.max(slotUs, span[1]) + mergeUs;
    }

    /** Adds each unit's CTAs of at most chunk keys to span = {summed time, longest CTA} (microseconds). */
    private static void addPieces(int[] unitKeys, int chunk, double keyDimsPerUs, double ctaUs, int headDim, double[] span) {
        for (int keys : unitKeys) {
            int pieces = (keys + chunk - 1) / chunk;
            span[0] += (double) keys * headDim / keyDimsPerUs + pieces * ctaUs;
            span[1] = Math.max(span[1], (double) Math.min(chunk, keys) * headDim / keyDimsPerUs + ctaUs);
        }
    }

    /** The prefill merge: a launch plus each split request's fp32 partials, written and read. */
    private static double mergeUs(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int numPrefill, int pageSize,
                                  int numQoHeads, int headDim, int chunk) {
        double bytes = 0;
        for (int r = 0; r < numPrefill; r++) {
            int kv = AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize);
            if (kv > chunk) {
                bytes += 8.0 * (qoIndptr[r + 1] - qoIndptr[r]) * ((kv + chunk - 1) / chunk) * numQoHeads * headDim;
            }
        }
        return bytes > 0 ? AttentionPlan.MERGE_LAUNCH_US + bytes / AttentionPlan.MERGE_BYTES_PER_US : 0.0;
    }

    private static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }
}
