package dev.podserve.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.HybridBatch;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class HybridStepBenchmarkTest {

    @Test
    void shuffledPagesKeepEveryRequestsPagesDistinctAndTheShapeAsIs() {
        Random rng = new Random(3);
        HybridBatch ordered = BudgetCalibration.hybridStep(301, 1000, 7, 777, 16);
        int pool = ordered.kvPageIndices().length + 13;
        HybridBatch b = HybridStepBenchmark.withPages(ordered, HybridStepBenchmark.shuffledPool(pool, rng));
        assertThat(b.kvPageIndices()).doesNotHaveDuplicates();
        assertThat(Arrays.stream(b.kvPageIndices()).allMatch(p -> p >= 0 && p < pool)).isTrue();
        assertThat(b.kvPageIndices()).isNotEqualTo(ordered.kvPageIndices());
        assertThat(b.kvIndptr()).isEqualTo(ordered.kvIndptr());
        assertThat(b.positions()).isEqualTo(ordered.positions());
        for (int r = 0; r < b.numRequests(); r++) assertThat(b.kvLength(r)).isEqualTo(ordered.kvLength(r));
        int[] sorted = HybridStepBenchmark.shuffledPool(pool, rng).clone();
        Arrays.sort(sorted);
        for (int i = 0; i < pool; i++) assertThat(sorted[i]).isEqualTo(i);
    }

    @Test
    void flagsParseToLists() {
        HybridStepBenchmark.Options o = HybridStepBenchmark.Options.parse(new String[] {"--modes", "pod,serial,pod", "--chunks",
                "512, 768", "--prefixes", "0,8192", "--decodes", "16", "--pages", "ordered"});
        assertThat(o.modes).containsExactly(AttentionMode.POD, AttentionMode.SERIAL);
        assertThat(o.chunks).containsExactly(512, 768);
        assertThat(o.prefixes).containsExactly(0, 8192);
        assertThat(o.decodes).containsExactly(16);
        assertThat(o.shuffledPages).isFalse();
        assertThat(HybridStepBenchmark.Options.parse(new String[0]).modes)
                .isEqualTo(List.of(AttentionMode.SERIAL, AttentionMode.POD, AttentionMode.STREAMS));
        assertThatThrownBy(() -> HybridStepBenchmark.Options.parse(new String[] {"--decodes", "0"})).hasMessageContaining("--decodes");
        assertThatThrownBy(() -> HybridStepBenchmark.Options.parse(new String[] {"--pages", "random"})).hasMessageContaining("--pages");
        assertThatThrownBy(() -> HybridStepBenchmark.Options.parse(new String[] {"--nope", "1"})).hasMessageContaining("usage");
    }

    @Test
    void theMedianOfAnEvenCountIsTheMiddlePairsMean() {
        assertThat(HybridStepBenchmark.Row.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
        assertThat(HybridStepBenchmark.Row.median(new double[] {9, 1, 5})).isEqualTo(5);
    }
}
