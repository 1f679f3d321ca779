package dev.podserve.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A long random workload against a KV pool small enough that preemption is routine. The harness
 * checks every invariant after every step; at the end every page must be back and every request
 * must have finished or been aborted.
 */
class ChunkedPrefillSchedulerRandomizedTest {

    private static final int STEPS = 10_000;
    /** Arrivals pause while this many wait, as an API server's queue limit would. */
    private static final int MAX_QUEUED = 24;
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
        Random random = new Random(seed);
        int maxPrompt = Math.min(maxLen, h.kv.capacityTokens());
        Map<Sequence, Integer> targetOutput = new HashMap<>();
        int submitted = 0;
        int finished = 0;
        int aborted = 0;
        int longPrompts = 0;
        int followUps = 0;
        List<int[]> finishedTokens = new ArrayList<>();

        for (int step = 0; step < STEPS * 3 && (step < STEPS || h.numLive() > 0); step++) {
            boolean arrivalsOpen = step < STEPS;
            if (arrivalsOpen && h.scheduler.numWaiting() < MAX_QUEUED) {
                int arrivals = random.nextInt(10) < 3 ? 1 + random.nextInt(2) : 0;
                for (int i = 0; i < arrivals; i++) {
                    int length = promptLength(random, budget, maxPrompt);
                    longPrompts += length > budget ? 1 : 0;
                    int[] tokens = prefixCaching ? sharingTokens(random, length) : randomTokens(random, length);
                    if (prefixCaching && !finishedTokens.isEmpty() && random.nextInt(4) == 0) {
                        // A follow-up turn: a finished conversation, its output included, then a new message.
                        int[] before = finishedTokens.get(random.nextInt(finishedTokens.size()));
                        int keep = Math.min(before.length, Math.max(0, maxPrompt - 1 - random.nextInt(8)));
                        int[] next = java.util.Arrays.copyOf(before, Math.min(maxPrompt, keep + 1 + random.nextInt(8)));
                        for (int t = keep; t < next.length; t++) next[t] = random.nextInt(50_000);
                        tokens = next;
                        followUps++;
                    }
                    // Now and then copies of one prompt, as the n choices of a request arrive.
                    int copies = prefixCaching && random.nextInt(6) == 0 ? 2 + random.nextInt(3) : 1;
                    for (int c = 0; c < copies; c++) {
                        Sequence s = h.submitting("r" + submitted, tokens, random.nextInt(10) == 0);
                        submitted++;
                        targetOutput.put(s, 1 + random.nextInt(random.nextInt(8) == 0 ? 200 : 30));
                    }
                }
            }
            if (h.numLive() > 0 && random.nextInt(100) < 3) {
                List<Sequence> live = h.liveSequences();
                h.abort(live.get(random.nextInt(live.size())).requestId());
                aborted++;
            }

            SchedulerOutput out = h.schedule();
            if (!out.isEmpty() && random.nextInt(100) == 0) {
                // A client disconnects while its step is on the device.
                Sequence victim = out.scheduled().get(random.nextInt(out.scheduled().size())).sequence();
                h.abort(victim.requestId());
                aborted++;
            }
            List<Sequence> sampled = h.complete(out, () -> random.nextInt(50_000));
            for (Sequence s : sampled) {
                if (s.numOutputTokens() >= targetOutput.get(s) || s.numTokens() >= h.scheduler.maxSequenceTokens()) {
                    if (finishedTokens.size() < 64) {
                        finishedTokens.add(h.expectedTokens(s).stream().mapToInt(Integer::intValue).toArray());
                    }
                    h.finish(s);
                    finished++;
                }
            }
        }

        h.assertDrained();
        assertThat(finished + aborted).isEqualTo(submitted);
        assertThat(submitted).isGreaterThan(1_000);
        assertThat(finished).isGreaterThan(submitted / 2);
        assertThat(longPrompts).isPositive();
        assertThat(h.numPreemptionsSeen).as("the pool is small enough to force preemptions").isPositive();
        assertThat(h.maxWaitSteps).as("longest stay in the waiting queue").isLessThan(MAX_WAIT_STEPS);
        if (prefixCaching) {
            assertThat(followUps).isPositive();
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

    /** Three stems shared by many prompts, cut at random lengths and followed by random tokens. */
    private static int[] sharingTokens(Random random, int length) {
        int stem = random.nextInt(3);
        int shared = random.nextInt(length + 1);
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = i < shared ? stem * 1_000 + i % 997 : random.nextInt(50_000);
        }
        return tokens;
    }

    private static int promptLength(Random random, int budget, int maxPrompt) {
        int kind = random.nextInt(10);
        if (kind < 2) {
            return 1;
        }
        if (kind < 6) {
            return 2 + random.nextInt(Math.min(15, maxPrompt - 1));
        }
        if (kind < 9) {
            return 1 + random.nextInt(Math.min(budget, maxPrompt));
        }
        // Longer than a step's budget where the pool allows, so it is prefilled over several steps.
        return Math.min(maxPrompt, budget + 1 + random.nextInt(Math.max(1, maxPrompt - budget)));
    }

    private static int[] randomTokens(Random random, int length) {
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = random.nextInt(50_000);
        }
        return tokens;
    }
}
