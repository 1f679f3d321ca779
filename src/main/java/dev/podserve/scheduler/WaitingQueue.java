package dev.podserve.scheduler;

import java.util.Iterator;

/**
 * The sequences waiting for admission, in the order their {@link SchedulingPolicy} admits them.
 * Only the engine thread touches it.
 */
interface WaitingQueue {

    /** Live sequences queued. */
    int size();

    /** Queues a sequence just submitted. */
    void add(Sequence s);

    /** Queues a sequence just preempted, in the place the policy gives it. */
    void requeue(Sequence s);

    /**
     * The live sequences in admission order. Its {@code remove} takes the last one returned out of
     * the queue wherever it stands. Nothing else may change the queue while it is in use.
     */
    Iterator<Sequence> iterator();

    /** Forgets a sequence that the caller has already marked finished. */
    void removeFinished(Sequence s);
}
