package dev.podserve.scheduler;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The waiting queue of {@link SchedulingPolicy#FCFS}. New sequences go to the tail, preempted ones
 * back to their place by arrival (the head, unless later arrivals passed them).
 *
 * <p>Removing an aborted sequence from the middle of an {@link ArrayDeque} is a linear scan; with
 * thousands queued and aborts coming in bursts (clients disconnecting) that adds up to quadratic
 * work. So removal only counts: the finished sequence stays in the deque, is skipped when it reaches
 * the head, and the deque is compacted once dead entries outnumber live ones.
 */
final class FcfsWaitingQueue implements WaitingQueue {

    private static final int MIN_DEAD_BEFORE_COMPACTION = 64;

    private final ArrayDeque<Sequence> deque = new ArrayDeque<>();
    private int numLive;
    private int numDead;

    @Override
    public int size() {
        return numLive;
    }

    @Override
    public void add(Sequence s) {
        deque.addLast(s);
        numLive++;
    }

    /**
     * Puts a preempted sequence back in its place by arrival: ahead of every live sequence that
     * arrived after it. That is the head unless later arrivals passed it while it waited for a
     * shared page and were then preempted back in front; at the head they would keep it waiting
     * behind younger requests once its page is ready. Preemption is rare, so a shift is cheap.
     */
    @Override
    public void requeue(Sequence s) {
        ArrayDeque<Sequence> older = new ArrayDeque<>();
        while (!deque.isEmpty() && (deque.peekFirst().isFinished() || deque.peekFirst().submissionOrder < s.submissionOrder)) {
            older.addLast(deque.pollFirst());
        }
        deque.addFirst(s);
        while (!older.isEmpty()) {
            deque.addFirst(older.pollLast());
        }
        numLive++;
    }

    /** The oldest live sequence, or null. */
    private Sequence peek() {
        Sequence head = deque.peekFirst();
        while (head != null && head.isFinished()) {
            deque.pollFirst();
            numDead--;
            head = deque.peekFirst();
        }
        return head;
    }

    /**
     * Oldest first. Its {@code remove} is a linear shift when the sequence is not the head, paid only
     * by admissions past a sequence that waits for a shared prefix.
     */
    @Override
    public Iterator<Sequence> iterator() {
        peek();  // drops finished entries at the head, so no step walks past them again
        Iterator<Sequence> entries = deque.iterator();
        return new Iterator<>() {
            /** Found by hasNext() and not yet returned: the underlying iterator has moved past it. */
            private Sequence found;

            @Override
            public boolean hasNext() {
                while (found == null && entries.hasNext()) {
                    Sequence s = entries.next();
                    if (!s.isFinished()) {
                        found = s;
                    }
                }
                return found != null;
            }

            @Override
            public Sequence next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Sequence s = found;
                found = null;
                return s;
            }

            @Override
            public void remove() {
                if (found != null) {
                    throw new IllegalStateException("remove() must come before the next hasNext()");
                }
                entries.remove();
                numLive--;
            }
        };
    }

    @Override
    public void removeFinished(Sequence s) {
        if (!s.isFinished()) {
            throw new IllegalStateException("only a finished sequence can be dropped from the queue: " + s);
        }
        numLive--;
        numDead++;
        if (numDead >= MIN_DEAD_BEFORE_COMPACTION && numDead > numLive) {
            deque.removeIf(Sequence::isFinished);
            numDead = 0;
        }
    }
}
