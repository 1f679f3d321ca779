package dev.podserve.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class WorkloadGeneratorTest {

    @Test
    void randomLengthsStayInsideTheRangesAndCoverThem() {
        var gen = new WorkloadGenerator(WorkloadKind.RANDOM, new LengthRange(10, 20), new LengthRange(3, 5), 1, 0, true, 0, 256);
        List<BenchRequest> reqs = gen.generate(500, 1);
        assertThat(reqs).hasSize(500);
        assertThat(reqs).allSatisfy(r -> {
            assertThat(r.promptLen()).isBetween(10, 20);
            assertThat(r.promptIds()).hasSize(r.promptLen());
            assertThat(java.util.Arrays.stream(r.promptIds()).allMatch(id -> id >= 0 && id < 256)).isTrue();
            assertThat(r.outputLen()).isBetween(3, 5);
        });
        assertThat(reqs.stream().mapToInt(BenchRequest::promptLen).min().getAsInt()).isEqualTo(10);
        assertThat(reqs.stream().mapToInt(BenchRequest::promptLen).max().getAsInt()).isEqualTo(20);
        assertThat(reqs.stream().mapToInt(BenchRequest::outputLen).distinct().count()).isEqualTo(3);
    }

    @Test
    void aSharedPrefixStartsEveryPromptWhateverTheSeed() {
        var gen = new WorkloadGenerator(WorkloadKind.RANDOM, new LengthRange(5, 9), new LengthRange(1, 2), 1, 0, true, 0, 256, 40);
        List<BenchRequest> a = gen.generate(30, 1);
        List<BenchRequest> b = gen.generate(30, 2);
        int[] prefix = java.util.Arrays.copyOf(a.get(0).promptIds(), 40);
        for (BenchRequest r : a) {
            assertThat(r.promptLen()).isBetween(45, 49).isEqualTo(r.promptIds().length);
            assertThat(java.util.Arrays.copyOf(r.promptIds(), 40)).containsExactly(prefix);
        }
        assertThat(java.util.Arrays.copyOf(b.get(3).promptIds(), 40)).containsExactly(prefix);
        // The own parts differ between requests, and between seeds.
        assertThat(java.util.Arrays.copyOfRange(a.get(0).promptIds(), 40, 45))
                .isNotEqualTo(java.util.Arrays.copyOfRange(b.get(0).promptIds(), 40, 45));
        var text = new WorkloadGenerator(WorkloadKind.RANDOM, new LengthRange(5, 5), new LengthRange(1, 1), 1, 0, false, 0, 256, 12);
        List<BenchRequest> t = text.generate(3, 4);
        String head = String.join(" ", java.util.Arrays.copyOf(t.get(0).promptText().split(" "), 12));
        assertThat(t).allSatisfy(r -> {
            assertThat(r.promptText()).startsWith(head + " ");
            assertThat(r.promptText().split(" ")).hasSize(17);
            assertThat(r.promptLen()).isEqualTo(17);
        });
        assertThatThrownBy(() -> new WorkloadGenerator(WorkloadKind.RANDOM, LengthRange.fixed(1), LengthRange.fixed(1), 1, 0, true,
                0, 256, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sameSeedSamePrompts() {
        var gen = new WorkloadGenerator(WorkloadKind.RANDOM, new LengthRange(5, 9), new LengthRange(1, 2), 1, 0, true, 10, 20);
        assertThat(gen.generate(20, 9).get(7).promptIds()).containsExactly(gen.generate(20, 9).get(7).promptIds());
    }

    @Test
    void longPromptIsThePapersCaseDividedByTheScale() {
        var full = new WorkloadGenerator(WorkloadKind.LONG_PROMPT, LengthRange.fixed(1), LengthRange.fixed(1), 1, 0, true, 0, 256);
        assertThat(full.generate(2, 0)).allSatisfy(r -> {
            assertThat(r.promptLen()).isEqualTo(16384);
            assertThat(r.outputLen()).isEqualTo(1024);
        });
        var scaled = new WorkloadGenerator(WorkloadKind.LONG_PROMPT, LengthRange.fixed(1), LengthRange.fixed(1), 16, 0, true, 0, 256);
        assertThat(scaled.generate(2, 0)).allSatisfy(r -> {
            assertThat(r.promptLen()).isEqualTo(1024);
            assertThat(r.outputLen()).isEqualTo(64);
            assertThat(r.kind()).isEqualTo("long");
        });
    }

    @Test
    void mixedIsShortChatsPlusLongDocumentsInTheGivenShare() {
        var gen = new WorkloadGenerator(WorkloadKind.MIXED, LengthRange.fixed(1), LengthRange.fixed(1), 4, 0.25, false, 0, 256);
        List<BenchRequest> reqs = gen.generate(2000, 5);
        long docs = reqs.stream().filter(r -> r.kind().equals("document")).count();
        assertThat(docs).isBetween(440L, 560L);
        assertThat(reqs).allSatisfy(r -> {
            assertThat(r.hasTokenIds()).isFalse();
            // Text prompts: one word per intended token.
            assertThat(r.promptText().split(" ")).hasSize(r.promptLen());
            if (r.kind().equals("document")) {
                assertThat(r.promptLen()).isBetween(8192 / 4, 16384 / 4);
                assertThat(r.outputLen()).isBetween(256 / 4, 1024 / 4);
            } else {
                assertThat(r.kind()).isEqualTo("chat");
                assertThat(r.promptLen()).isBetween(64 / 4, 512 / 4);
                assertThat(r.outputLen()).isBetween(64 / 4, 256 / 4);
            }
        });
    }

    @Test
    void rangesParseAndRejectNonsense() {
        assertThat(LengthRange.parse("128:512")).isEqualTo(new LengthRange(128, 512));
        assertThat(LengthRange.parse("64")).isEqualTo(LengthRange.fixed(64));
        assertThatThrownBy(() -> LengthRange.parse("9:3")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LengthRange.parse("0")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LengthRange.parse("a:b")).isInstanceOf(IllegalArgumentException.class);
        assertThat(ServeBenchmarkOptions.parse("--workload", "long-prompt", "--rate", "inf", "--endpoint", "chat").tokenIdPrompts()).isFalse();
        assertThatThrownBy(() -> ServeBenchmarkOptions.parse("--bogus")).isInstanceOf(IllegalArgumentException.class);
    }
}
