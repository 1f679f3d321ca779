package dev.podserve.scheduler;

/**
 * When a waiting sequence may take KV pages, beyond the budget and {@code maxNumSeqs}.
 *
 * <p>Preemption is by recompute, so a sequence evicted halfway through a long prompt throws that
 * half away. Admitting a prompt because its first chunk fits, while the running decodes keep growing
 * into the same pages, makes exactly that the common case once the pool is nearly full: the newest
 * prompt is evicted before it finishes, re-admitted as soon as its first chunk fits again, and
 * evicted again. {@code KvAdmissionTest} shows it in miniature.
 */
public enum KvAdmission {
    /**
     * Admit only if the free pages cover the whole prompt, the rest of every running prompt, and what
     * the running sequences grow by until that prompt is prefilled (one token a step each). With no
     * sequence running, the first chunk fitting is enough, so a lone prompt always starts.
     */
    HEADROOM,
    /** Admit as soon as the first chunk fits, as vLLM's v1 scheduler does; eviction sorts out the rest. */
    GREEDY
}
