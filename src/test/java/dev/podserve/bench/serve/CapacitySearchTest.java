package dev.podserve.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;

import org.junit.jupiter.api.Test;

class CapacitySearchTest {

    /** A server model whose P99 ITL grows with the rate: 10 ms idle, +5 ms per req/s. */
    private static BenchmarkSummary fakeRun(double rate) {
        double itl = 10 + 5 * rate;
        var r = new RequestResult(0, "random", true, null, 0, 0.05, 1, new double[] {itl / 1e3}, 10, 2);
        return BenchmarkSummary.of(List.of(r), 1);
    }

    @Test
    void doublesThenBisectsToTheBoundary() throws InterruptedException {
        // SLO 50 ms: boundary at 8 req/s. Doubling 1, 2, 4, 8 pass, 16 fails; bisection stays in [8, 16).
        CapacitySearch search = new CapacitySearch(50, 1000, 1, 256, 4);
        CapacitySearch.Result r = search.search(CapacitySearchTest::fakeRun);
        assertThat(r.capacity()).isCloseTo(8, within(1e-9));
        assertThat(r.probes()).extracting(CapacitySearch.Probe::rate).containsExactly(1.0, 2.0, 4.0, 8.0, 16.0, 12.0, 10.0, 9.0, 8.5);
    }

    @Test
    void boundaryInsideABisectionIsFound() throws InterruptedException {
        // SLO 70 ms: boundary at 12 req/s.
        CapacitySearch.Result r = new CapacitySearch(70, 1000, 1, 256, 5).search(CapacitySearchTest::fakeRun);
        assertThat(r.capacity()).isBetween(11.5, 12.0);
    }

    @Test
    void ttftSloAndFailuresCountToo() throws InterruptedException {
        CapacitySearch ttftBound = new CapacitySearch(1e9, 10, 1, 8, 2);
        // Median TTFT is 50 ms in the fake run: nothing meets a 10 ms SLO.
        assertThat(ttftBound.search(CapacitySearchTest::fakeRun).capacity()).isZero();
        var failed = BenchmarkSummary.of(List.of(RequestResult.failed(0, "random", 0, 1, "x")), 1);
        assertThat(new CapacitySearch(1e9, 1e9, 1, 8, 0).meetsSlo(failed)).isFalse();
    }

    @Test
    void everyRatePassingReportsTheHighestProbed() throws InterruptedException {
        CapacitySearch.Result r = new CapacitySearch(1e9, 1e9, 1, 8, 3).search(CapacitySearchTest::fakeRun);
        assertThat(r.capacity()).isEqualTo(8);
        assertThat(r.probes()).hasSize(4);
    }

    @Test
    void ladderProbesAscendingUpToTheFirstMiss() throws InterruptedException {
        // SLO 50 ms: boundary at 8 req/s. Given out of order and with a duplicate; 9 misses, 12 is never probed.
        CapacitySearch.Result r = CapacitySearch.ladder(50, 1000, 12, 6, 9, 7.5, 6).search(CapacitySearchTest::fakeRun);
        assertThat(r.capacity()).isEqualTo(7.5);
        assertThat(r.probes()).extracting(CapacitySearch.Probe::rate).containsExactly(6.0, 7.5, 9.0);
        assertThat(r.probes()).extracting(CapacitySearch.Probe::meetsSlo).containsExactly(true, true, false);
    }

    @Test
    void ladderWhoseFirstRateMissesReportsZero() throws InterruptedException {
        CapacitySearch.Result r = CapacitySearch.ladder(20, 1000, 3, 4).search(CapacitySearchTest::fakeRun);
        assertThat(r.capacity()).isZero();
        assertThat(r.probes()).hasSize(1);
    }

    @Test
    void ladderRejectsRatesThatCannotBeProbed() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CapacitySearch.ladder(50, 1000))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CapacitySearch.ladder(50, 1000, 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
