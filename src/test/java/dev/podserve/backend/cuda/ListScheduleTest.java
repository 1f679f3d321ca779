package dev.podserve.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.PriorityQueue;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * AttentionPlan.listSchedule (a min-heap of slot free times in a primitive array) against the
 * plainest statement of the same replay: a PriorityQueue of boxed free times, as attention_plan.h
 * does it. Random durations with many equal ones, piece counts below, at and far above the slot
 * count, awkward slot counts; the finish times must be equal to the bit.
 */
class ListScheduleTest {

    private static double reference(double[] pieces, int count, int slots) {
        PriorityQueue<Double> free = new PriorityQueue<>();
        for (int i = 0; i < slots; i++) free.add(0.0);
        double end = 0;
        for (int i = 0; i < count; i++) {
            double t = free.poll() + pieces[i];
            free.add(t);
            end = Math.max(end, t);
        }
        return end;
    }

    @Test
    void equalsThePriorityQueueReplayToTheBit() {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 2000; trial++) {
            int slots = new int[] {1, 2, 3, 7, 156, 264}[rnd.nextInt(6)];
            int count = rnd.nextInt(3 * slots + 40);
            double[] pieces = new double[count + rnd.nextInt(5)];  // longer than count: the tail must be ignored
            boolean fewValues = rnd.nextBoolean();
            for (int i = 0; i < pieces.length; i++) {
                pieces[i] = fewValues ? 48 + 64 * rnd.nextInt(4) : 48 + rnd.nextDouble() * 2000;
            }
            assertThat(AttentionPlan.listSchedule(pieces, count, slots))
                    .as("seed %d trial %d: %d pieces on %d slots", seed, trial, count, slots)
                    .isEqualTo(reference(pieces, count, slots));
        }
    }

    @Test
    void knownCases() {
        assertThat(AttentionPlan.listSchedule(new double[] {5, 3, 4}, 3, 1)).isEqualTo(12.0);
        assertThat(AttentionPlan.listSchedule(new double[] {5, 3, 4}, 3, 2)).isEqualTo(7.0);  // 4 follows 3 on its slot
        assertThat(AttentionPlan.listSchedule(new double[] {5, 3, 4}, 3, 8)).isEqualTo(5.0);
        assertThat(AttentionPlan.listSchedule(new double[] {9}, 0, 4)).isZero();
    }
}
