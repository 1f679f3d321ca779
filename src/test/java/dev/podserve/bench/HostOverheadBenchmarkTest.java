package dev.podserve.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * {@code bench host} end to end at a small size (no thresholds: timings on a CI box mean nothing).
 * What must hold is what the benchmark is for: greedy rows, with or without ignore_eos, travel
 * without their logits, a banned argmax fetches its row after the step, sampled rows all come with
 * their step, and every case produced all its tokens (the benchmark checks the count itself).
 */
class HostOverheadBenchmarkTest {

    @Test
    void runsEveryCaseAndMovesOnlyTheRowsTheHostNeeds() throws Exception {
        HostOverheadBenchmark.Options o = HostOverheadBenchmark.Options.parse(
                new String[] {"--decodes", "3", "--vocab", "4096", "--step-ms", "1", "--steps", "80"});
        List<HostOverheadBenchmark.Result> results = HostOverheadBenchmark.run(o);
        assertThat(results).extracting(HostOverheadBenchmark.Result::name)
                .containsExactly("greedy", "greedy-ignore-eos", "greedy-min-tokens", "sampled-t0.8", "sampled-t0.8-host");
        for (HostOverheadBenchmark.Result r : results) {
            assertThat(r.fullSteps()).as(r.name()).isGreaterThan(30);
            assertThat(r.gapMean()).as(r.name()).isFinite().isPositive();
            assertThat(r.gapP99()).as(r.name()).isGreaterThanOrEqualTo(r.gapMedian());
        }
        assertThat(results.get(0).rowsWithStep()).isZero();
        assertThat(results.get(0).rowsLate()).isZero();
        assertThat(results.get(1).rowsWithStep()).as("ignore_eos rows copied with the step").isZero();
        assertThat(results.get(1).rowsLate()).as("ignore_eos bans nothing: its EOS argmaxes come out").isZero();
        assertThat(results.get(2).rowsWithStep()).as("min_tokens rows copied with the step").isZero();
        // 240 tokens, an EOS argmax every 37th: about 6 banned below min_tokens, each fetched once.
        assertThat(results.get(2).rowsLate()).as("banned argmaxes fetched late").isBetween(4L, 8L);
        assertThat(results.get(3).rowsDrawn()).as("sampled rows drawn on the device").isEqualTo(3L * 80);
        assertThat(results.get(3).rowsWithStep()).as("sampled rows copied when drawn on the device").isZero();
        assertThat(results.get(3).rowsLate()).isZero();
        assertThat(results.get(4).rowsWithStep()).as("sampled rows, all on the host").isEqualTo(3L * 80);
        assertThat(results.get(4).rowsDrawn()).isZero();
        assertThat(results.get(4).rowsLate()).isZero();
    }

    @Test
    void badFlagsAreRefused() {
        assertThatThrownBy(() -> HostOverheadBenchmark.Options.parse(new String[] {"--decodes", "0"}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HostOverheadBenchmark.Options.parse(new String[] {"--vocab", "100"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--vocab");
        assertThatThrownBy(() -> HostOverheadBenchmark.Options.parse(new String[] {"--nope", "1"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown flag");
        assertThatThrownBy(() -> HostOverheadBenchmark.Options.parse(new String[] {"--steps"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a value");
    }
}
