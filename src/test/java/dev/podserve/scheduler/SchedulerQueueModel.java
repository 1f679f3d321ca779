package dev.podserve.scheduler;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link SchedulerHarness}'s slow model of the scheduler's two queues: plain lists kept in the
 * policy's order by linear scans, against which every step's admissions and preemptions are
 * checked.
 */
final class SchedulerQueueModel {

    private final SchedulingPolicy policy;
    /** Waiting sequences, head first. */
    final List<Sequence> waiting = new ArrayList<>();
    /** Running sequences, in admission order. */
    final List<Sequence> running = new ArrayList<>();
    /** Order of submission, never forgotten (only ever compared among live sequences). */
    private final Map<Sequence, Integer> submittedAt = new IdentityHashMap<>();
    /** The priority each sequence was submitted with. */
    private final Map<Sequence, Integer> priorityOf = new IdentityHashMap<>();

    SchedulerQueueModel(SchedulingPolicy policy) {
        this.policy = policy;
    }

    /** A new sequence joins the waiting list in its place. */
    void submit(Sequence s, int priority) {
        submittedAt.put(s, submittedAt.size());
        priorityOf.put(s, priority);
        insertWaiting(s);
    }

    int priorityOf(Sequence s) {
        return priorityOf.get(s);
    }

    /** Whether {@code w} arrived before {@code a} and is less urgent: admitting {@code a} first is priority at work. */
    boolean earlierAndLessUrgent(Sequence w, Sequence a) {
        return submittedAt.get(w) < submittedAt.get(a) && priorityOf.get(w) > priorityOf.get(a);
    }

    void forget(Sequence s) {
        waiting.remove(s);
        running.remove(s);
    }

    /**
     * Whether {@code a} comes before {@code b} in the policy's order: earlier arrival under FCFS;
     * lower priority, then earlier arrival, under PRIORITY.
     */
    boolean before(Sequence a, Sequence b) {
        if (policy == SchedulingPolicy.PRIORITY && !priorityOf.get(a).equals(priorityOf.get(b))) {
            return priorityOf.get(a) < priorityOf.get(b);
        }
        return submittedAt.get(a) < submittedAt.get(b);
    }

    /**
     * Puts a new or preempted sequence in the waiting list ahead of every sequence after it in the
     * policy's order (under FCFS a new one lands at the tail, a preempted one ahead of every later
     * arrival).
     */
    void insertWaiting(Sequence s) {
        int at = 0;
        while (at < waiting.size() && before(waiting.get(at), s)) at++;
        waiting.add(at, s);
    }

    /** The one of {@code candidates} the policy gives up first: the newest admission, or the last in priority order. */
    Sequence victim(List<Sequence> candidates) {
        Sequence victim = candidates.get(candidates.size() - 1);
        if (policy == SchedulingPolicy.PRIORITY) {
            for (Sequence r : candidates) {
                if (before(victim, r)) victim = r;
            }
        }
        return victim;
    }
}
