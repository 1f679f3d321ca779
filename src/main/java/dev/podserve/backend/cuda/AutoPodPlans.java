package dev.podserve.backend.cuda;

import dev.podserve.attention.PodPolicyAdvisor;
import dev.podserve.attention.SmPolicy;

/**
 * {@code auto}'s fused plans, made once per step. The scheduler's chooser asks this backend for a
 * fused step's tickets ({@link PodPolicyAdvisor}), which plans the launch under {@code auto}
 * ({@link PodTicketReplay}); the launcher then needs the plan of the same step under the policy
 * that came back, which is that very plan (the span rule and the splits depend on the resolved
 * policy only). Planning is on the engine thread between steps, where the GPU waits for it, so the
 * launcher takes the advisor's plan instead of making it again: the step's CSR arrays are the ones
 * the chooser saw (HybridBatch shares them), which identity checks. Engine thread only.
 */
final class AutoPodPlans implements PodPolicyAdvisor {

    private final int numQoHeads;
    private final int numKvHeads;
    private final int headDim;
    private final int numSms;
    private final double staticFraction;
    private final int ctasPerSm;
    private int[] qo;
    private int[] kv;
    private int[] last;
    private PodPlan plan;

    AutoPodPlans(int numQoHeads, int numKvHeads, int headDim, int numSms, double staticFraction, int ctasPerSm) {
        this.numQoHeads = numQoHeads;
        this.numKvHeads = numKvHeads;
        this.headDim = headDim;
        this.numSms = numSms;
        this.staticFraction = staticFraction;
        this.ctasPerSm = ctasPerSm;
    }

    @Override
    public SmPolicy autoPolicy(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int pageSize, int numPrefill, int numDecode) {
        plan = PodPlan.plan(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads, numKvHeads, headDim,
                numSms, PodPlan.AUTO, staticFraction, ctasPerSm);
        qo = qoIndptr;
        kv = kvIndptr;
        last = kvLastPageLen;
        return SmPolicy.ofCode(plan.policy());
    }

    /**
     * The fused plan of a step under {@code policy}: the advisor's own if it planned these very
     * arrays and resolved to {@code policy}, else a new one.
     */
    PodPlan plan(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int numPrefill, int numDecode, int pageSize, int policy) {
        PodPlan advised = plan;
        plan = null;
        if (advised != null && qoIndptr == qo && kvIndptr == kv && kvLastPageLen == last && advised.policy() == policy
                && advised.fused()) {
            return advised;
        }
        return PodPlan.plan(qoIndptr, kvIndptr, kvLastPageLen, numPrefill, numDecode, pageSize, numQoHeads, numKvHeads, headDim,
                numSms, policy, staticFraction, ctasPerSm);
    }
}
