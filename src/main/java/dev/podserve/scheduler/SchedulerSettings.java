package dev.podserve.scheduler;

/**
 * Limits of one scheduling step.
 *
 * @param maxNumBatchedTokens       query tokens in one step, prefill chunks and decodes together
 * @param maxNumSeqs                requests admitted (running) at once
 * @param longPrefillTokenThreshold largest prefill chunk one request gets in one step; 0: no limit
 *                                  beyond the step budget. Keeps one long prompt from taking a whole
 *                                  step while other prompts wait behind it.
 * @param maxModelLen               most tokens (prompt plus output) one request may hold
 * @param kvAdmission               when a waiting sequence may take KV pages
 * @param waitForSharedPrefix       with prefix caching, whether a waiting sequence whose next page a
 *                                  running one is computing from the same tokens waits for that page
 *                                  rather than computing it too (off: both compute it, for comparison)
 * @param policy                    the order of admission and of preemption
 */
public record SchedulerSettings(
        int maxNumBatchedTokens,
        int maxNumSeqs,
        int longPrefillTokenThreshold,
        int maxModelLen,
        KvAdmission kvAdmission,
        boolean waitForSharedPrefix,
        SchedulingPolicy policy) {

    /** First-come-first-served settings with {@link KvAdmission#HEADROOM}, waiting for shared prefixes. */
    public SchedulerSettings(int maxNumBatchedTokens, int maxNumSeqs, int longPrefillTokenThreshold, int maxModelLen) {
        this(maxNumBatchedTokens, maxNumSeqs, longPrefillTokenThreshold, maxModelLen, KvAdmission.HEADROOM);
    }

    /** First-come-first-served settings. */
    public SchedulerSettings(int maxNumBatchedTokens, int maxNumSeqs, int longPrefillTokenThreshold, int maxModelLen,
                             KvAdmission kvAdmission, boolean waitForSharedPrefix) {
        this(maxNumBatchedTokens, maxNumSeqs, longPrefillTokenThreshold, maxModelLen, kvAdmission, waitForSharedPrefix,
                SchedulingPolicy.FCFS);
    }

    /** First-come-first-served settings that wait for shared prefixes. */
    public SchedulerSettings(int maxNumBatchedTokens, int maxNumSeqs, int longPrefillTokenThreshold, int maxModelLen,
                             KvAdmission kvAdmission) {
        this(maxNumBatchedTokens, maxNumSeqs, longPrefillTokenThreshold, maxModelLen, kvAdmission, true);
    }

    public SchedulerSettings {
        require(maxNumBatchedTokens >= 1, "maxNumBatchedTokens must be at least 1, got " + maxNumBatchedTokens);
        require(maxNumSeqs >= 1, "maxNumSeqs must be at least 1, got " + maxNumSeqs);
        // Every running request may be decoding at once; each needs one token of the budget, so a
        // smaller budget would leave some decodes out of a step.
        require(maxNumBatchedTokens >= maxNumSeqs, "maxNumBatchedTokens (" + maxNumBatchedTokens
                + ") must be at least maxNumSeqs (" + maxNumSeqs + "), or running decodes could be stalled");
        require(longPrefillTokenThreshold >= 0, "longPrefillTokenThreshold must be 0 (no threshold) or positive, got "
                + longPrefillTokenThreshold);
        require(maxModelLen >= 1, "maxModelLen must be at least 1, got " + maxModelLen);
        java.util.Objects.requireNonNull(kvAdmission, "kvAdmission");
        java.util.Objects.requireNonNull(policy, "policy");
    }

    /**
     * Checks these settings against a KV cache of {@code numBlocks} pages of {@code blockSize}
     * tokens. A pool smaller than one max-length request is allowed (a request that needs more than
     * the pool holds is refused with a 400 naming the cache, and start-up warns), a pool with no page
     * at all is not.
     *
     * @throws IllegalArgumentException naming the offending value
     */
    public static void validateAgainstKvCache(SchedulerSettings settings, int blockSize, int numBlocks) {
        require(blockSize >= 1, "KV block size must be at least 1 token, got " + blockSize);
        require(numBlocks >= 1, "the KV cache must hold at least 1 block, got " + numBlocks);
        require(settings.maxNumBatchedTokens() >= blockSize, "maxNumBatchedTokens (" + settings.maxNumBatchedTokens()
                + ") must cover at least one KV block (" + blockSize + " tokens)");
    }

    /** Largest number of tokens one request may get in one step. */
    public int maxChunkTokens() {
        return longPrefillTokenThreshold > 0 ? Math.min(longPrefillTokenThreshold, maxNumBatchedTokens) : maxNumBatchedTokens;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
