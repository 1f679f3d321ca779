package dev.podserve.scheduler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToIntFunction;

/**
 * A long random workload driven through a {@link SchedulerHarness}, which checks every step: prompts
 * from one token to several steps' budget, outputs short and long, bursts of identical prompts (the
 * choices of one request) and follow-up turns when prefix caching is on, aborts in either queue and
 * while a step runs. Arrivals stop after {@link #STEPS} steps; then the queues drain.
 */
final class RandomWorkload {

    static final int STEPS = 10_000;
    /** Arrivals pause while this many wait, as an API server's queue limit would. */
    private static final int MAX_QUEUED = 24;

    int submitted;
    int finished;
    int aborted;
    int longPrompts;
    int followUps;

    /** @param priorities draws each request's priority (its choices share it) */
    RandomWorkload run(SchedulerHarness h, long seed, boolean prefixCaching, ToIntFunction<Random> priorities) {
        Random random = new Random(seed);
        int budget = h.settings.maxNumBatchedTokens();
        int maxPrompt = Math.min(h.settings.maxModelLen(), h.kv.capacityTokens());
        Map<Sequence, Integer> targetOutput = new HashMap<>();
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
                    int priority = priorities.applyAsInt(random);
                    // Now and then copies of one prompt, as the n choices of a request arrive.
                    int copies = prefixCaching && random.nextInt(6) == 0 ? 2 + random.nextInt(3) : 1;
                    for (int c = 0; c < copies; c++) {
                        Sequence s = h.submitting("r" + submitted, tokens, random.nextInt(10) == 0, null, priority);
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
        return this;
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
