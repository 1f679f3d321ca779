package dev.podserve.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;

import org.junit.jupiter.api.Test;

class ArrivalScheduleTest {

    private static final int N = 20_000;

    /** Mean and squared coefficient of variation of the gaps between successive arrivals. */
    private static double[] gapMoments(double[] at) {
        double prev = 0;
        double sum = 0;
        double sumSq = 0;
        for (double t : at) {
            double gap = t - prev;
            assertThat(gap).isGreaterThanOrEqualTo(0);
            sum += gap;
            sumSq += gap * gap;
            prev = t;
        }
        double mean = sum / at.length;
        double var = sumSq / at.length - mean * mean;
        return new double[] {mean, var / (mean * mean)};
    }

    @Test
    void infiniteRateSendsEverythingAtOnce() {
        assertThat(ArrivalSchedule.offsets(5, Double.POSITIVE_INFINITY, 1, 0)).containsOnly(0.0);
    }

    @Test
    void poissonArrivalsHaveTheRequestedMeanRateAndExponentialGaps() {
        double[] at = ArrivalSchedule.offsets(N, 8.0, 1.0, 7);
        double[] m = gapMoments(at);
        // Standard error of the mean gap is (1/8)/sqrt(N) ~ 0.7%; 3% is over four of them.
        assertThat(N / at[N - 1]).isCloseTo(8.0, within(8.0 * 0.03));
        assertThat(m[1]).as("exponential gaps: CV^2 = 1").isCloseTo(1.0, within(0.06));
    }

    @Test
    void burstinessKeepsTheRateAndSetsTheVarianceOfTheGaps() {
        // Gamma(shape k): CV^2 = 1/k. Bursty (k < 1) bunches arrivals, k > 1 evens them out.
        for (double k : new double[] {0.25, 0.5, 4.0}) {
            double[] at = ArrivalSchedule.offsets(N, 5.0, k, 11);
            double[] m = gapMoments(at);
            assertThat(N / at[N - 1]).as("rate at burstiness %s", k).isCloseTo(5.0, within(5.0 * 0.05));
            assertThat(m[1]).as("CV^2 at burstiness %s", k).isCloseTo(1 / k, within(0.12 / k));
        }
    }

    @Test
    void gammaSamplerHasTheRightMeanBelowAndAboveShapeOne() {
        Random random = new Random(3);
        for (double shape : new double[] {0.3, 1.0, 2.5}) {
            double sum = 0;
            for (int i = 0; i < N; i++) sum += ArrivalSchedule.gamma(shape, random);
            assertThat(sum / N).as("mean of Gamma(%s, 1)", shape).isCloseTo(shape, within(shape * 0.05));
        }
    }

    /** As vLLM's: whatever the seed, the last of n requests arrives at n / rate, so the offered load is the label. */
    @Test
    void theScheduleIsStretchedSoItsLoadIsTheLabel() {
        for (long seed : new long[] {1, 5, 8, 123}) {
            for (double burstiness : new double[] {0.5, 1.0}) {
                double[] at = ArrivalSchedule.offsets(30, 0.85, burstiness, seed);
                assertThat(at[29]).isCloseTo(30 / 0.85, within(1e-9));
                for (int i = 1; i < at.length; i++) assertThat(at[i]).isGreaterThanOrEqualTo(at[i - 1]);
                assertThat(at[0]).isPositive();
            }
        }
    }

    @Test
    void sameSeedSameSchedule() {
        assertThat(ArrivalSchedule.offsets(50, 3, 0.5, 1)).containsExactly(ArrivalSchedule.offsets(50, 3, 0.5, 1));
        assertThatThrownBy(() -> ArrivalSchedule.offsets(5, 0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ArrivalSchedule.offsets(5, 1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
