package dev.podserve.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A long random workload against a KV pool small enough that preemption is routine. The harness
 * checks every invariant after every step; at the end every page must be back and every request
 * must have finished or been aborted.
 */
class ChunkedPrefillSchedulerRandomizedTest {

    /** Far above what a fair FCFS scheduler needs here, far below what starvation would take. */
    private static final int MAX_WAIT_STEPS = 1_500;

    @ParameterizedTest(name = "budget={0} seqs={1} threshold={2} maxLen={3} blocks={4}x{5} seed={6} {7} cache={8} wait={9}")
    @CsvSource({
            "32, 8, 8, 160, 48, 4, 1, HEADROOM, false, true",
            "24, 6, 0, 150, 150, 1, 2, HEADROOM, false, true",
            "64, 16, 0, 192, 12, 16, 3, HEADROOM, false, true",
            "256, 32, 48, 600, 40, 16, 4, HEADROOM, false, true",
            "8, 8, 0, 40, 12, 4, 5, HEADROOM, false, true",
            "32, 8, 8, 160, 48, 4, 6, GREEDY, false, true",
            "24, 6, 0, 150, 150, 1, 7, GREEDY, false, true",
            "64, 16, 0, 192, 12, 16, 8, GREEDY, false, true",
            "256, 32, 48, 600, 40, 16, 9, GREEDY, false, true",
            "8, 8, 0, 40, 12, 4, 10, GREEDY, false, true",
            "32, 8, 8, 160, 48, 4, 11, HEADROOM, true, true",
            "24, 6, 0, 150, 150, 1, 12, HEADROOM, true, true",
            "64, 16, 0, 192, 12, 16, 13, HEADROOM, true, true",
            "256, 32, 48, 600, 40, 16, 14, HEADROOM, true, true",
            "8, 8, 0, 40, 12, 4, 15, HEADROOM, true, true",
            "32, 8, 8, 160, 48, 4, 16, GREEDY, true, true",
            "256, 32, 48, 600, 40, 16, 17, GREEDY, true, true",
            "32, 8, 8, 160, 48, 4, 18, HEADROOM, true, false",
            "256, 32, 48, 600, 40, 16, 19, GREEDY, true, false",
    })
    void randomWorkloadKeepsEveryInvariantAndReturnsEveryBlock(int budget, int maxSeqs, int threshold, int maxLen,
                                                             int numBlocks, int blockSize, long seed,
                                                             KvAdmission admission, boolean prefixCaching, boolean waitForShared) {
        SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(budget, maxSeqs, threshold, maxLen, admission, waitForShared),
                numBlocks, blockSize, prefixCaching);
        RandomWorkload w = new RandomWorkload().run(h, seed, prefixCaching, random -> 0);

        h.assertDrained();
        assertThat(h.numVictimsNotNewest).as("FCFS preempts the newest admission").isZero();
        assertThat(w.finished + w.aborted).isEqualTo(w.submitted);
        assertThat(w.submitted).isGreaterThan(1_000);
        assertThat(w.finished).isGreaterThan(w.submitted / 2);
        assertThat(w.longPrompts).isPositive();
        assertThat(h.numPreemptionsSeen).as("the pool is small enough to force preemptions").isPositive();
        assertThat(h.maxWaitSteps).as("longest stay in the waiting queue").isLessThan(MAX_WAIT_STEPS);
        if (prefixCaching) {
            assertThat(w.followUps).isPositive();
            if (waitForShared) {
                assertThat(h.numWaitsForPagesInFlight).as("prompts waiting for a shared page another computes").isPositive();
            } else {
                assertThat(h.numWaitsForPagesInFlight).isZero();
            }
            assertThat(h.scheduler.prefixCacheHitTokens()).as("prompts sharing prefixes start on cached pages").isPositive();
            assertThat(h.scheduler.prefixCacheQueriedTokens()).isGreaterThan(h.scheduler.prefixCacheHitTokens());
        } else {
            assertThat(h.scheduler.prefixCacheQueriedTokens()).isZero();
        }
    }
}
