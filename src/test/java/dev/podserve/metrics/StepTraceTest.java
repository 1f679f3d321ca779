package dev.podserve.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.HybridBatch;
import dev.podserve.attention.SmPolicy;
import dev.podserve.attention.StepAttention;
import dev.podserve.scheduler.ScheduledSequence;
import dev.podserve.scheduler.SchedulerOutput;
import dev.podserve.scheduler.Sequence;

class StepTraceTest {

    /**
     * A chunk of 3 tokens after 2 cached ones (context 5) beside one decode at context 4, pages of 4:
     * request 0 holds pages 0-1 (1 token in the last), request 1 page 2 (full).
     */
    private static SchedulerOutput hybridStep(StepAttention attention) {
        HybridBatch b = new HybridBatch(new int[] {7, 8, 9, 10}, new int[] {2, 3, 4, 3}, new int[] {0, 3, 4}, new int[] {0, 2, 3},
                new int[] {0, 1, 2}, new int[] {1, 4}, new int[] {0, 1}, 1, 1, 4).withAttention(attention);
        return new SchedulerOutput(List.of(new ScheduledSequence(new Sequence("a", new int[] {1, 2, 3, 4, 5}), 3, true),
                new ScheduledSequence(new Sequence("b", new int[] {1, 2, 3}), 1, true)), b, List.of());
    }

    @Test
    void oneLinePerStepWithWhatRanAndHowLong(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/trace.csv");
        StepTrace trace = new StepTrace(file);
        trace.onStep(hybridStep(new StepAttention(AttentionMode.POD, SmPolicy.PROPORTIONAL)), 12_500_000);
        Thread.sleep(10);
        trace.onStep(hybridStep(StepAttention.SERIAL), 2_000_000);
        trace.destroy();

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo(StepTrace.HEADER);
        String[] first = lines.get(1).split(",");
        String[] second = lines.get(2).split(",");
        assertThat(first).hasSize(StepTrace.HEADER.split(",").length);
        // step, start, gap (none before the first), forward 12.5 ms, 1 prefill of 3 tokens at context 5,
        // 1 decode at context 4, the fused kernel with proportional tickets.
        assertThat(first[0]).isEqualTo("0");
        assertThat(first[2]).isEqualTo("0.000");
        assertThat(List.of(first).subList(3, 10)).containsExactly("12.500", "1", "3", "5", "1", "4", "pod/proportional");
        assertThat(second[0]).isEqualTo("1");
        assertThat(second[9]).isEqualTo("serial");
        // The host's gap runs from the first step's end to the second's start, which is its end less the
        // 2 ms forward it reported: at least the 10 ms sleep less those 2 ms.
        assertThat(Double.parseDouble(second[2])).isGreaterThanOrEqualTo(8.0);
        assertThat(Double.parseDouble(second[1])).isGreaterThan(Double.parseDouble(first[1]));
    }

    @Test
    void millisecondsKeepThreeDecimals() {
        assertThat(StepTrace.appendMillis(new StringBuilder(), 0)).hasToString("0.000");
        assertThat(StepTrace.appendMillis(new StringBuilder(), 1_234_567)).hasToString("1.234");
        assertThat(StepTrace.appendMillis(new StringBuilder(), 5_000)).hasToString("0.005");
        assertThat(StepTrace.appendMillis(new StringBuilder(), 40_000)).hasToString("0.040");
        assertThat(StepTrace.appendMillis(new StringBuilder(), 999)).hasToString("0.000");
        assertThat(StepTrace.appendMillis(new StringBuilder(), 81_234_000_000L)).hasToString("81234.000");
        assertThat(StepTrace.appendMillis(new StringBuilder(), -2_500_000)).hasToString("-2.500");
    }

    @Test
    void anUnwritablePathStopsStartup(@TempDir Path dir) throws Exception {
        Path blocker = Files.writeString(dir.resolve("file"), "x");
        assertThatThrownBy(() -> new StepTrace(blocker.resolve("trace.csv"))).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("step-trace");
    }
}
