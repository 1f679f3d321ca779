package dev.podserve.scheduler;

import dev.podserve.attention.HybridBatch;

import java.util.List;

/**
 * One step's plan.
 *
 * @param scheduled requests in the batch's request order: every multi-token chunk first, then every
 *                  single-token one
 * @param batch     the step as the backends see it; null when nothing is scheduled
 * @param preempted sequences that lost their KV pages while this step was built; they are waiting
 *                  again and will recompute everything
 */
public record SchedulerOutput(List<ScheduledSequence> scheduled, HybridBatch batch, List<Sequence> preempted) {

    public SchedulerOutput {
        scheduled = List.copyOf(scheduled);
        preempted = List.copyOf(preempted);
        if (batch == null ? !scheduled.isEmpty() : batch.numRequests() != scheduled.size()) {
            throw new IllegalArgumentException("batch does not match the " + scheduled.size() + " scheduled sequences");
        }
    }

    static SchedulerOutput empty(List<Sequence> preempted) {
        return new SchedulerOutput(List.of(), null, preempted);
    }

    /** True when there is nothing to run this step. */
    public boolean isEmpty() {
        return scheduled.isEmpty();
    }

    public int numScheduledTokens() {
        return batch == null ? 0 : batch.numTokens();
    }
}
