package dev.podserve.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * AttentionPlan.decodeTimeUs (the queue replayed on a heap, then the drain in one sorted pass)
 * against the model stated plainly: an event loop over every CTA, each start and finish one event,
 * the running CTAs' rate worked out again after each. Random piece lengths and counts up to the
 * rounds the fast path replays, awkward slot counts, every supported head dim; past them, the fluid
 * estimate within 10% of the event loop.
 */
class DecodeTimeTest {

    /** Microseconds until the last of {@code pieces[0, count)} finishes, CTA by CTA. */
    private static double reference(double[] pieces, int count, int slots, int headDim) {
        double keyBytes = 4.0 * headDim;
        double card = AttentionPlan.DECODE_BYTES_PER_US / keyBytes;
        double cta = AttentionPlan.DECODE_CTA_BYTES_PER_US / keyBytes;
        double overhead = AttentionPlan.DECODE_CTA_OVERHEAD_BYTES / keyBytes;
        List<double[]> running = new ArrayList<>();  // each {work left}
        int next = 0;
        double now = 0;
        while (next < count || !running.isEmpty()) {
            while (running.size() < slots && next < count) running.add(new double[] {pieces[next++] + overhead});
            double rate = Math.min(cta, card / running.size());
            double first = Double.MAX_VALUE;
            for (double[] r : running) first = Math.min(first, r[0]);
            now += first / rate;
            for (double[] r : running) r[0] -= first;
            running.removeIf(r -> r[0] <= 0);
        }
        return now;
    }

    @Test
    void equalsTheEventLoop() {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 400; trial++) {
            int slots = new int[] {1, 3, 8, 50, 264}[rnd.nextInt(5)];
            int headDim = new int[] {16, 32, 64, 128}[rnd.nextInt(4)];
            int count = 1 + rnd.nextInt(AttentionPlan.DECODE_REPLAY_ROUNDS * slots);
            double[] pieces = new double[count];
            boolean equal = rnd.nextBoolean();
            for (int i = 0; i < count; i++) pieces[i] = equal ? 4096 : 1 + rnd.nextInt(20000);
            double fast = AttentionPlan.decodeTimeUs(pieces, count, slots, headDim);
            assertThat(fast).as("seed %d trial %d: %d CTAs on %d slots, d %d", seed, trial, count, slots, headDim)
                    .isCloseTo(reference(pieces, count, slots, headDim), within(1e-6 * fast));
        }
    }

    @Test
    void pastTheReplayedRoundsTheFluidEstimateIsCloseToTheReplay() {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        int rounds = AttentionPlan.DECODE_REPLAY_ROUNDS;
        for (int trial = 0; trial < 50; trial++) {
            int slots = 264;
            // Just past the limit (where equal pieces start a round the estimate only half counts) and beyond.
            int count = rounds * slots + 1 + (trial % 2 == 0 ? 0 : rnd.nextInt(rounds * slots));
            double[] pieces = new double[count];
            boolean equal = trial % 4 < 2;
            for (int i = 0; i < count; i++) pieces[i] = equal ? 8192 : 256 + rnd.nextInt(8192);
            double fluid = AttentionPlan.decodeTimeUs(pieces, count, slots, 128);
            assertThat(fluid).as("seed %d trial %d: %d CTAs", seed, trial, count)
                    .isCloseTo(reference(pieces, count, slots, 128), within(0.1 * fluid));
        }
    }

    @Test
    void aTailOfLongCtasCostsItsRounds() {
        // 312 CTAs of 16K keys on 264 slots take longer than 936 of a third each (plus the split).
        double[] whole = new double[312];
        Arrays.fill(whole, 16384);
        double[] thirds = new double[936];
        Arrays.fill(thirds, 16384 / 3.0);
        assertThat(AttentionPlan.decodeTimeUs(whole, 312, 264, 128))
                .isGreaterThan(AttentionPlan.decodeTimeUs(thirds, 936, 264, 128) + AttentionPlan.DECODE_SPLIT_US);
    }
}
