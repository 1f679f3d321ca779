package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RankKeysTest {

    private static final float[] AWKWARD = {Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -1.5f, -Float.MIN_VALUE,
            -0.0f, 0.0f, Float.MIN_VALUE, 1e-30f, 1.5f, Float.MAX_VALUE};

    @Test
    void higherLogitRanksFirstAndEqualLogitsRankByLowerId() {
        for (int i = 0; i < AWKWARD.length; i++) {
            for (int j = 0; j < AWKWARD.length; j++) {
                long a = RankKeys.key(AWKWARD[i], 7);
                long b = RankKeys.key(AWKWARD[j], 3);
                int byValue = -Float.compare(AWKWARD[i] + 0.0f, AWKWARD[j] + 0.0f);
                int expected = byValue != 0 ? byValue : Integer.compare(7, 3);
                assertThat(Long.signum(Long.compare(a, b))).as("%s vs %s", AWKWARD[i], AWKWARD[j]).isEqualTo(expected);
            }
        }
        assertThat(RankKeys.key(-0.0f, 1)).isLessThan(RankKeys.key(0.0f, 2));
        assertThat(RankKeys.token(RankKeys.key(-3.25f, 128255))).isEqualTo(128255);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 17, 257, 5000})
    void selectionAndHeapAgreeWithAFullSort(int n) {
        Random r = new Random(n);
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) keys[i] = RankKeys.key(r.nextInt(20) - 10f, i);
        long[] sorted = keys.clone();
        Arrays.sort(sorted);
        for (int k : new int[] {1, n / 2, n - 1, n}) {
            if (k < 1) continue;
            long[] work = keys.clone();
            RankKeys.selectSmallest(work, n, k);
            long[] head = Arrays.copyOf(work, k);
            Arrays.sort(head);
            assertThat(head).as("k=%d", k).containsExactly(Arrays.copyOf(sorted, k));
        }
        long[] heap = keys.clone();
        RankKeys.heapify(heap, n);
        for (int size = n; size > 0; size--) {
            assertThat(RankKeys.pollSmallest(heap, size)).isEqualTo(sorted[n - size]);
        }
    }
}
