package dev.podserve.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LatencyStatsTest {

    @Test
    void percentilesInterpolateBetweenRanksLikeNumpy() {
        // numpy.percentile([1..10], [50, 90, 99]) = 5.5, 9.1, 9.91
        double[] v = {10, 3, 1, 7, 2, 9, 5, 4, 8, 6};
        LatencyStats s = LatencyStats.of(v);
        assertThat(s.count()).isEqualTo(10);
        assertThat(s.mean()).isCloseTo(5.5, within(1e-12));
        assertThat(s.median()).isCloseTo(5.5, within(1e-12));
        assertThat(s.p90()).isCloseTo(9.1, within(1e-12));
        assertThat(s.p99()).isCloseTo(9.91, within(1e-12));
        assertThat(s.min()).isEqualTo(1);
        assertThat(s.max()).isEqualTo(10);
        assertThat(v[0]).as("input left unsorted").isEqualTo(10);
    }

    @Test
    void oddCountMedianIsTheMiddleAndOneValueIsEveryPercentile() {
        assertThat(LatencyStats.of(new double[] {3, 1, 2}).median()).isEqualTo(2);
        LatencyStats one = LatencyStats.of(new double[] {42});
        assertThat(one.median()).isEqualTo(42);
        assertThat(one.p99()).isEqualTo(42);
        assertThat(LatencyStats.percentile(new double[] {0, 100}, 99)).isCloseTo(99, within(1e-12));
    }

    @Test
    void emptySampleIsAllZeros() {
        assertThat(LatencyStats.of(new double[0])).isEqualTo(LatencyStats.EMPTY);
        assertThatThrownBy(() -> LatencyStats.percentile(new double[0], 50)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void summaryCountsOnlySuccessesAndSkipsUndefinedTpot() {
        var ok = new RequestResult(0, "random", true, null, 0, 0.1, 1.1, new double[] {0.2, 0.3}, 10, 3);
        var single = new RequestResult(1, "random", true, null, 0, 0.2, 0.2, new double[0], 5, 1);
        var bad = RequestResult.failed(2, "random", 0, 0.5, "HTTP 500");
        BenchmarkSummary s = BenchmarkSummary.of(java.util.List.of(ok, single, bad), 2.0);
        assertThat(s.completed()).isEqualTo(2);
        assertThat(s.failed()).isEqualTo(1);
        assertThat(s.totalInputTokens()).isEqualTo(15);
        assertThat(s.totalOutputTokens()).isEqualTo(4);
        assertThat(s.requestThroughput()).isCloseTo(1.0, within(1e-12));
        assertThat(s.outputThroughput()).isCloseTo(2.0, within(1e-12));
        assertThat(s.totalTokenThroughput()).isCloseTo(9.5, within(1e-12));
        assertThat(s.tpotMs().count()).isEqualTo(1);
        assertThat(s.tpotMs().mean()).isCloseTo(500, within(1e-9)); // (1.1 - 0.1) / (3 - 1) s
        assertThat(s.itlMs().count()).isEqualTo(2);
        assertThat(s.ttftMs().median()).isCloseTo(150, within(1e-9));
    }
}
