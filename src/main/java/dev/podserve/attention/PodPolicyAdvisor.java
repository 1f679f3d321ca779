package dev.podserve.attention;

/**
 * Resolves {@code auto}'s SM policy for a step that {@link StepAttentionChooser} fuses. The choice
 * between proportional and fifty-fifty tickets depends on the CTAs the backend's planner cuts the
 * step into (their counts and lengths), which only the backend knows; the CUDA backend replays its
 * own plan of the launch. Called on the scheduler's thread, once per fused step.
 */
@FunctionalInterface
public interface PodPolicyAdvisor {

    /** Proportional tickets for every step: what {@code auto} means without a backend's advice. */
    PodPolicyAdvisor PROPORTIONAL = (qo, kv, last, pageSize, numPrefill, numDecode) -> SmPolicy.PROPORTIONAL;

    /**
     * The policy for a step of {@code numPrefill} prefill then {@code numDecode} decode requests in
     * the CSR form of {@link HybridBatch}: {@link SmPolicy#PROPORTIONAL} or {@link SmPolicy#FIFTY_FIFTY}.
     */
    SmPolicy autoPolicy(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int pageSize, int numPrefill, int numDecode);
}
