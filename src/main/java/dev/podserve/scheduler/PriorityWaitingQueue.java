package dev.podserve.scheduler;

import java.util.Iterator;
import java.util.TreeSet;

/**
 * The waiting queue of {@link SchedulingPolicy#PRIORITY}: sorted by priority, then arrival, whether
 * a sequence is new or back from a preemption. A sorted set rather than a heap because admission
 * walks the queue in order and may take a sequence from its middle (past one that waits for a
 * shared page); both are a logarithmic step here, where a heap would have to be copied and
 * re-sorted each time.
 */
final class PriorityWaitingQueue implements WaitingQueue {

    /** The key never changes while a sequence is queued: priority is fixed at submission, arrival too. */
    private final TreeSet<Sequence> queue = new TreeSet<>(SchedulingPolicy.PRIORITY_THEN_ARRIVAL);

    @Override
    public int size() {
        return queue.size();
    }

    @Override
    public void add(Sequence s) {
        if (!queue.add(s)) {
            throw new IllegalStateException("already waiting: " + s);
        }
    }

    /** A preempted sequence keeps its arrival, so it lands ahead of later arrivals of its priority. */
    @Override
    public void requeue(Sequence s) {
        add(s);
    }

    @Override
    public Iterator<Sequence> iterator() {
        return queue.iterator();
    }

    @Override
    public void removeFinished(Sequence s) {
        if (!s.isFinished()) {
            throw new IllegalStateException("only a finished sequence can be dropped from the queue: " + s);
        }
        queue.remove(s);
    }
}
