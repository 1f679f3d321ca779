package dev.podserve.scheduler;

import static dev.podserve.scheduler.SchedulerHarness.prompt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The priority policy, step by step: admission by priority then arrival, the least urgent running
 * sequence preempted when pages run out, preempted sequences back in their place, and no preemption
 * merely because a more urgent request arrived. Beside each, what FCFS does in the same spot.
 */
class PrioritySchedulingTest {

    private static SchedulerHarness harness(SchedulingPolicy policy, int budget, int maxSeqs, int threshold, int maxLen,
                                            int numBlocks, int blockSize) {
        return new SchedulerHarness(new SchedulerSettings(budget, maxSeqs, threshold, maxLen, KvAdmission.GREEDY, true, policy),
                numBlocks, blockSize);
    }

    /** Runs until nothing is left, finishing each sequence once it samples; returns them in the order first scheduled. */
    private static List<Sequence> drainInOrderScheduled(SchedulerHarness h) {
        List<Sequence> order = new ArrayList<>();
        Set<Sequence> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        while (h.numLive() > 0) {
            SchedulerOutput out = h.schedule();
            for (ScheduledSequence e : out.scheduled()) {
                if (seen.add(e.sequence())) order.add(e.sequence());
            }
            for (Sequence s : h.complete(out, () -> 7)) h.finish(s);
        }
        h.assertDrained();
        return order;
    }

    @Test
    void waitingSequencesAreAdmittedByPriorityThenArrival() {
        SchedulerHarness h = harness(SchedulingPolicy.PRIORITY, 64, 1, 0, 64, 64, 4);
        Sequence a = h.submitWithPriority("a", prompt(4, 0), 0);
        Sequence b = h.submitWithPriority("b", prompt(4, 10), 5);
        Sequence c = h.submitWithPriority("c", prompt(4, 20), -1);
        Sequence d = h.submitWithPriority("d", prompt(4, 30), 0);
        Sequence e = h.submitWithPriority("e", prompt(4, 40), -1);
        Sequence f = h.submitWithPriority("f", prompt(4, 50), 5);

        assertThat(drainInOrderScheduled(h)).containsExactly(c, e, a, d, b, f);
    }

    @Test
    void fcfsAdmitsByArrival() {
        SchedulerHarness h = harness(SchedulingPolicy.FCFS, 64, 1, 0, 64, 64, 4);
        List<Sequence> submitted = new ArrayList<>();
        for (int i = 0; i < 6; i++) submitted.add(h.submit("s" + i, prompt(4, 10 * i)));

        assertThat(drainInOrderScheduled(h)).containsExactlyElementsOf(submitted);
    }

    /**
     * x (priority 3) decodes; y (priority 0, admitted after it) prefills a prompt of three pages and
     * finds none free for its third chunk. FCFS gives up the newest admission, y itself; the
     * priority policy gives up x, the least urgent, though it was admitted first.
     */
    @Test
    void theLeastUrgentRunningSequenceIsPreemptedNotTheNewest() {
        SchedulerHarness h = harness(SchedulingPolicy.PRIORITY, 8, 2, 4, 16, 4, 4);
        Sequence x = h.submitWithPriority("x", prompt(4, 0), 3);
        h.runStep();
        Sequence y = h.submitWithPriority("y", prompt(12, 100), 0);
        h.runStep();
        h.runStep();
        assertThat(h.kv.numFreeBlocks()).isZero();

        SchedulerOutput out = h.runStep();
        assertThat(out.preempted()).containsExactly(x);
        assertThat(out.scheduled()).containsExactly(new ScheduledSequence(y, 4, true));
        assertThat(x.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(h.kv.numBlocksOf("x")).isZero();
        drainInOrderScheduled(h);
    }

    /** The spot above under FCFS. */
    @Test
    void inTheSameSpotFcfsPreemptsTheNewest() {
        SchedulerHarness h = harness(SchedulingPolicy.FCFS, 8, 2, 4, 16, 4, 4);
        Sequence x = h.submit("x", prompt(4, 0));
        h.runStep();
        Sequence y = h.submit("y", prompt(12, 100));
        h.runStep();
        h.runStep();

        SchedulerOutput out = h.runStep();
        assertThat(out.preempted()).containsExactly(y);
        assertThat(out.scheduled()).containsExactly(new ScheduledSequence(x, 1, true));
        drainInOrderScheduled(h);
    }

    @Test
    void aPreemptedSequenceGoesBackToItsPlaceByPriorityThenArrival() {
        SchedulerHarness h = harness(SchedulingPolicy.PRIORITY, 8, 2, 4, 16, 4, 4);
        Sequence x = h.submitWithPriority("x", prompt(4, 0), 3);
        h.runStep();
        Sequence y = h.submitWithPriority("y", prompt(12, 100), 0);
        h.runStep();
        // maxNumSeqs is 2: these wait while x and y run.
        Sequence later = h.submitWithPriority("later", prompt(4, 200), 3);
        Sequence lessUrgent = h.submitWithPriority("lessUrgent", prompt(4, 300), 5);
        Sequence moreUrgent = h.submitWithPriority("moreUrgent", prompt(4, 400), 1);
        h.runStep();

        SchedulerOutput out = h.runStep();
        assertThat(out.preempted()).containsExactly(x);
        h.finish(y);
        // Behind the more urgent, ahead of the one of its priority that arrived after it.
        assertThat(drainInOrderScheduled(h)).containsExactly(moreUrgent, x, later, lessUrgent);
        assertThat(x.numPreemptions()).isEqualTo(1);
    }

    @Test
    void anUrgentArrivalWaitsForRoomInsteadOfPreempting() {
        // Room for two running sequences and their pages, no more.
        SchedulerHarness h = harness(SchedulingPolicy.PRIORITY, 16, 2, 0, 32, 4, 4);
        Sequence a = h.submitWithPriority("a", prompt(4, 0), 5);
        Sequence b = h.submitWithPriority("b", prompt(4, 10), 5);
        h.runStep();
        Sequence earlier = h.submitWithPriority("earlier", prompt(4, 20), 5);
        Sequence urgent = h.submitWithPriority("urgent", prompt(4, 30), -100);
        for (int i = 0; i < 3; i++) {
            SchedulerOutput out = h.runStep();
            assertThat(out.preempted()).isEmpty();
            assertThat(out.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(a, b);
        }
        assertThat(urgent.status()).isEqualTo(SequenceStatus.WAITING);
        h.finish(a);
        SchedulerOutput next = h.runStep();
        assertThat(next.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(urgent, b);
        assertThat(earlier.status()).isEqualTo(SequenceStatus.WAITING);
        drainInOrderScheduled(h);
    }

    /**
     * x (priority 3, admitted first) must grow into a page nobody has free, and is itself the least
     * urgent: it preempts itself, and y after it in the step still decodes (vLLM's scheduler would
     * end the step's running pass there; y would wait a step for nothing). FCFS would evict y.
     */
    @Test
    void aLeastUrgentSequencePreemptsItselfAndTheOnesAfterItStillRun() {
        SchedulerHarness h = harness(SchedulingPolicy.PRIORITY, 8, 4, 0, 8, 4, 2);
        Sequence x = h.submitWithPriority("x", prompt(3, 0), 3);
        h.runStep();
        Sequence y = h.submitWithPriority("y", prompt(3, 10), 0);
        h.runStep();
        assertThat(h.kv.numFreeBlocks()).isZero();

        SchedulerOutput out = h.runStep();
        assertThat(out.preempted()).containsExactly(x);
        assertThat(out.scheduled()).containsExactly(new ScheduledSequence(y, 1, true));
        drainInOrderScheduled(h);
    }

    @Test
    void fcfsRefusesAPriorityAndAQueuedSequenceKeepsItsOwn() {
        SchedulerHarness fcfs = harness(SchedulingPolicy.FCFS, 16, 4, 0, 64, 16, 4);
        Sequence urgent = new Sequence("u", prompt(4, 0));
        urgent.priority(-1);
        assertThatThrownBy(() -> fcfs.scheduler.add(urgent)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("priority -1");
        assertThat(fcfs.scheduler.numWaiting()).isZero();

        SchedulerHarness h = harness(SchedulingPolicy.PRIORITY, 16, 4, 0, 64, 16, 4);
        Sequence s = h.submitWithPriority("s", prompt(4, 0), 2);
        assertThatThrownBy(() -> s.priority(0)).isInstanceOf(IllegalStateException.class);
        assertThat(s.priority()).isEqualTo(2);
    }

    @Test
    void abortsLeaveThePriorityQueueInOrder() {
        SchedulerHarness h = harness(SchedulingPolicy.PRIORITY, 64, 1, 0, 64, 64, 4);
        List<Sequence> kept = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Sequence s = h.submitWithPriority("s" + i, prompt(4, 10 * i), (i * 7) % 5);
            if (i % 3 == 0) {
                h.abort(s.requestId());
            } else {
                kept.add(s);
            }
        }
        kept.sort(java.util.Comparator.comparingInt((Sequence s) -> s.priority())
                .thenComparingInt(s -> Integer.parseInt(s.requestId().substring(1))));
        assertThat(drainInOrderScheduled(h)).containsExactlyElementsOf(kept);
    }
}
