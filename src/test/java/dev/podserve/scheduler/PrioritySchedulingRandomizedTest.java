package dev.podserve.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link RandomWorkload} under the priority policy, with random priorities, against a KV pool small
 * enough that preemption is routine. The harness's slow model of the queues checks every step:
 * admission strictly by priority then arrival, each victim the running sequence last in that order,
 * each victim back in its place; every invariant of the FCFS runs holds too (budget, threshold,
 * decodes never stalled, shared-prefix waits, exact page accounting). At the end every request has
 * finished or been aborted and every page is back.
 */
class PrioritySchedulingRandomizedTest {

    /** Seen up to about 120 here; a sixth of the FCFS runs' bound for every request. */
    private static final int MOST_URGENT_MAX_WAIT_STEPS = 250;

    @ParameterizedTest(name = "budget={0} seqs={1} threshold={2} maxLen={3} blocks={4}x{5} seed={6} {7} cache={8} wait={9}")
    @CsvSource({
            "32, 8, 8, 160, 48, 4, 101, HEADROOM, false, true",
            "24, 6, 0, 150, 150, 1, 102, HEADROOM, false, true",
            "64, 16, 0, 192, 12, 16, 103, HEADROOM, false, true",
            "8, 8, 0, 40, 12, 4, 104, HEADROOM, false, true",
            "32, 8, 8, 160, 48, 4, 105, GREEDY, false, true",
            "256, 32, 48, 600, 40, 16, 106, GREEDY, false, true",
            "8, 8, 0, 40, 12, 4, 107, GREEDY, false, true",
            "32, 8, 8, 160, 48, 4, 108, HEADROOM, true, true",
            "256, 32, 48, 600, 40, 16, 109, HEADROOM, true, true",
            "32, 8, 8, 160, 48, 4, 110, GREEDY, true, true",
            "256, 32, 48, 600, 40, 16, 111, GREEDY, true, false",
    })
    void randomPrioritiesKeepEveryInvariantAndEveryRequestFinishes(int budget, int maxSeqs, int threshold, int maxLen,
                                                                   int numBlocks, int blockSize, long seed, KvAdmission admission,
                                                                   boolean prefixCaching, boolean waitForShared) {
        SchedulerSettings settings = new SchedulerSettings(budget, maxSeqs, threshold, maxLen, admission, waitForShared,
                SchedulingPolicy.PRIORITY);
        SchedulerHarness h = new SchedulerHarness(settings, numBlocks, blockSize, prefixCaching);
        RandomWorkload w = new RandomWorkload().run(h, seed, prefixCaching, PrioritySchedulingRandomizedTest::priority);

        h.assertDrained();
        assertThat(w.finished + w.aborted).isEqualTo(w.submitted);
        assertThat(w.submitted).isGreaterThan(1_000);
        assertThat(w.finished).isGreaterThan(w.submitted / 2);
        assertThat(h.numPreemptionsSeen).as("the pool is small enough to force preemptions").isPositive();
        assertThat(h.numVictimsNotNewest).as("victims chosen by priority rather than by admission").isPositive();
        assertThat(h.numAdmissionsAheadOfEarlierArrivals).as("urgent requests admitted ahead of earlier ones").isPositive();
        if (prefixCaching) {
            assertThat(h.scheduler.prefixCacheHitTokens()).as("prompts sharing prefixes start on cached pages").isPositive();
            if (waitForShared) {
                assertThat(h.numWaitsForPagesInFlight).as("prompts waiting for a shared page another computes").isPositive();
            }
        }
        // Strict priority may keep the least urgent waiting for long; the most urgent never should.
        int mostUrgentWait = h.maxWaitStepsByPriority.get(Integer.MIN_VALUE);
        assertThat(mostUrgentWait).as("longest wait of the most urgent requests").isLessThan(MOST_URGENT_MAX_WAIT_STEPS)
                .isLessThan(h.maxWaitStepsByPriority.get(Integer.MAX_VALUE));
    }

    /** Mostly a few nearby levels, now and then the extremes of an int, which a subtraction would overflow. */
    private static int priority(Random random) {
        int kind = random.nextInt(20);
        if (kind == 0) {
            return Integer.MIN_VALUE;
        }
        if (kind == 1) {
            return Integer.MAX_VALUE;
        }
        return random.nextInt(4) - 1;
    }
}
