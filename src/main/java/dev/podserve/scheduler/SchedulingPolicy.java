package dev.podserve.scheduler;

import java.util.Comparator;
import java.util.List;

/**
 * Which waiting sequence is admitted first and which running one is preempted when KV pages run
 * out, as vLLM's {@code --scheduling-policy} chooses them.
 *
 * <p>Under either policy a sequence is preempted only because a running one needs pages that are
 * not free, never because a more urgent request arrived: a waiting sequence that does not fit
 * waits, however urgent (vLLM's v1 scheduler does the same). And under either, the running
 * sequence that comes first in the policy's order is never preempted on another's behalf, so it
 * always makes progress.
 */
public enum SchedulingPolicy {

    /** First come, first served: admission by arrival; the newest admission is preempted first. */
    FCFS {
        @Override
        WaitingQueue newWaitingQueue() {
            return new FcfsWaitingQueue();
        }

        @Override
        Sequence victim(List<Sequence> running) {
            return running.get(running.size() - 1);
        }
    },

    /**
     * Lower {@link Sequence#priority()} first, then earlier arrival: admission in that order, and
     * the running sequence last in it is preempted first, whenever it was admitted. A preempted
     * sequence goes back to its place in the same order.
     */
    PRIORITY {
        @Override
        WaitingQueue newWaitingQueue() {
            return new PriorityWaitingQueue();
        }

        @Override
        Sequence victim(List<Sequence> running) {
            Sequence last = running.get(0);
            for (Sequence s : running) {
                if (PRIORITY_THEN_ARRIVAL.compare(s, last) > 0) {
                    last = s;
                }
            }
            return last;
        }
    };

    /** Arrival is the scheduler's order of submission: unique, so no two sequences tie. */
    static final Comparator<Sequence> PRIORITY_THEN_ARRIVAL =
            Comparator.comparingInt((Sequence s) -> s.priority()).thenComparingLong(s -> s.submissionOrder);

    abstract WaitingQueue newWaitingQueue();

    /** The running sequence to preempt next; {@code running} is in admission order and not empty. */
    abstract Sequence victim(List<Sequence> running);
}
