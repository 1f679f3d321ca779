package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SamplingParamsTest {

    private static final int VOCAB = 1000;

    @Test
    void defaultsAreOpenAis() {
        SamplingParams p = SamplingParams.builder().build();
        assertThat(p.temperature()).isEqualTo(1.0);
        assertThat(p.topP()).isEqualTo(1.0);
        assertThat(p.topK()).isEqualTo(SamplingParams.TOP_K_DISABLED);
        assertThat(p.topKEnabled()).isFalse();
        assertThat(p.minP()).isEqualTo(0.0);
        assertThat(p.seed()).isNull();
        assertThat(p.presencePenalty()).isEqualTo(0.0);
        assertThat(p.frequencyPenalty()).isEqualTo(0.0);
        assertThat(p.repetitionPenalty()).isEqualTo(1.0);
        assertThat(p.logitBias()).isEmpty();
        assertThat(p.logprobs()).isNull();
        assertThat(p.maxTokens()).isEqualTo(16);
        assertThat(p.minTokens()).isZero();
        assertThat(p.stop()).isEmpty();
        assertThat(p.stopTokenIds()).isEmpty();
        assertThat(p.ignoreEos()).isFalse();
        assertThat(p.greedy()).isFalse();
        assertThatCode(() -> p.validate(1)).doesNotThrowAnyException();
    }

    @Test
    void greedyBelowOneHundredThousandth() {
        assertThat(SamplingParams.builder().temperature(0).build().greedy()).isTrue();
        assertThat(SamplingParams.builder().temperature(0.99e-5).build().greedy()).isTrue();
        assertThat(SamplingParams.builder().temperature(1e-5).build().greedy()).isFalse();
    }

    @Test
    void topKMinusOneAndZeroBothDisable() {
        assertThat(SamplingParams.builder().topK(-1).build().topKEnabled()).isFalse();
        assertThat(SamplingParams.builder().topK(0).build().topKEnabled()).isFalse();
        assertThat(SamplingParams.builder().topK(1).build().topKEnabled()).isTrue();
    }

    @Test
    void collectionsAreCopiedAndImmutable() {
        Map<Integer, Double> bias = new HashMap<>(Map.of(1, 2.0));
        List<String> stop = new ArrayList<>(List.of("x"));
        List<Integer> stopIds = new ArrayList<>(List.of(3));
        SamplingParams p = SamplingParams.builder().logitBias(bias).stop(stop).stopTokenIds(stopIds).build();
        bias.put(5, 1.0);
        stop.add("y");
        stopIds.add(4);
        assertThat(p.logitBias()).containsOnlyKeys(1);
        assertThat(p.stop()).containsExactly("x");
        assertThat(p.stopTokenIds()).containsExactly(3);
        assertThatThrownBy(() -> p.stop().add("z")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void nullCollectionsBecomeEmpty() {
        SamplingParams p = SamplingParams.builder().logitBias(null).stop(null).stopTokenIds(null).build();
        assertThat(p.logitBias()).isEmpty();
        assertThat(p.stop()).isEmpty();
        assertThat(p.stopTokenIds()).isEmpty();
    }

    @Test
    void toBuilderKeepsEveryField() {
        SamplingParams p = SamplingParams.builder().temperature(0.3).topP(0.9).topK(7).minP(0.1).seed(42L)
                .presencePenalty(0.5).frequencyPenalty(-0.5).repetitionPenalty(1.2).logitBias(Map.of(1, 3.0))
                .logprobs(5).maxTokens(99).minTokens(3).stop(List.of("a")).stopTokenIds(List.of(2)).ignoreEos(true)
                .build();
        assertThat(p.toBuilder().build()).isEqualTo(p);
        assertThat(p.toBuilder().temperature(0.4).build().temperature()).isEqualTo(0.4);
    }

    static Stream<Arguments> accepted() {
        return Stream.of(
                ok("temperature 0", b -> b.temperature(0)),
                ok("temperature 2", b -> b.temperature(2)),
                ok("top_p 1", b -> b.topP(1)),
                ok("top_p tiny", b -> b.topP(1e-9)),
                ok("top_k -1", b -> b.topK(-1)),
                ok("top_k 0", b -> b.topK(0)),
                ok("top_k 1", b -> b.topK(1)),
                ok("top_k above vocab", b -> b.topK(VOCAB * 10)),
                ok("min_p 0", b -> b.minP(0)),
                ok("min_p 1", b -> b.minP(1)),
                ok("presence -2", b -> b.presencePenalty(-2)),
                ok("presence 2", b -> b.presencePenalty(2)),
                ok("frequency -2", b -> b.frequencyPenalty(-2)),
                ok("frequency 2", b -> b.frequencyPenalty(2)),
                ok("repetition 2", b -> b.repetitionPenalty(2)),
                ok("repetition tiny", b -> b.repetitionPenalty(1e-9)),
                ok("bias edges", b -> b.logitBias(Map.of(0, -100.0, VOCAB - 1, 100.0))),
                ok("logprobs 0", b -> b.logprobs(0)),
                ok("logprobs 20", b -> b.logprobs(20)),
                ok("max_tokens 1", b -> b.maxTokens(1)),
                ok("min_tokens == max_tokens", b -> b.maxTokens(7).minTokens(7)),
                ok("four stop strings", b -> b.stop(List.of("a", "b", "c", "d"))),
                ok("stop ids at edges", b -> b.stopTokenIds(List.of(0, VOCAB - 1))),
                ok("any seed", b -> b.seed(Long.MIN_VALUE)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void acceptsBoundaryValues(String name, UnaryOperator<SamplingParams.Builder> edit) {
        SamplingParams p = edit.apply(SamplingParams.builder()).build();
        assertThatCode(() -> p.validate(VOCAB)).doesNotThrowAnyException();
    }

    static Stream<Arguments> rejected() {
        return Stream.of(
                bad("temperature", b -> b.temperature(-0.01), "-0.01", "[0, 2]"),
                bad("temperature", b -> b.temperature(2.01), "2.01", "[0, 2]"),
                bad("temperature", b -> b.temperature(Double.NaN), "NaN", "[0, 2]"),
                bad("top_p", b -> b.topP(0), "0.0", "(0, 1]"),
                bad("top_p", b -> b.topP(1.01), "1.01", "(0, 1]"),
                bad("top_p", b -> b.topP(Double.NaN), "NaN", "(0, 1]"),
                bad("top_k", b -> b.topK(-2), "-2", "-1 or 0"),
                bad("min_p", b -> b.minP(-0.1), "-0.1", "[0, 1]"),
                bad("min_p", b -> b.minP(1.1), "1.1", "[0, 1]"),
                bad("presence_penalty", b -> b.presencePenalty(-2.1), "-2.1", "[-2, 2]"),
                bad("presence_penalty", b -> b.presencePenalty(2.1), "2.1", "[-2, 2]"),
                bad("frequency_penalty", b -> b.frequencyPenalty(-2.1), "-2.1", "[-2, 2]"),
                bad("frequency_penalty", b -> b.frequencyPenalty(Double.POSITIVE_INFINITY), "Infinity", "[-2, 2]"),
                bad("repetition_penalty", b -> b.repetitionPenalty(0), "0.0", "(0, 2]"),
                bad("repetition_penalty", b -> b.repetitionPenalty(-1), "-1.0", "(0, 2]"),
                bad("repetition_penalty", b -> b.repetitionPenalty(2.1), "2.1", "(0, 2]"),
                bad("logit_bias", b -> b.logitBias(Map.of(-1, 1.0)), "-1", "[0, 1000)"),
                bad("logit_bias", b -> b.logitBias(Map.of(VOCAB, 1.0)), "1000", "[0, 1000)"),
                bad("logit_bias", b -> b.logitBias(Map.of(3, 100.5)), "100.5", "[-100, 100]"),
                bad("logit_bias", b -> b.logitBias(Map.of(3, -101.0)), "-101.0", "[-100, 100]"),
                bad("logit_bias", b -> b.logitBias(nullValueBias()), "null", "[-100, 100]"),
                bad("logprobs", b -> b.logprobs(-1), "-1", "[0, 20]"),
                bad("logprobs", b -> b.logprobs(21), "21", "[0, 20]"),
                bad("max_tokens", b -> b.maxTokens(-1), "-1", "negative"),
                bad("min_tokens", b -> b.minTokens(-1), "-1", "[0, max_tokens=16]"),
                bad("min_tokens", b -> b.maxTokens(5).minTokens(6), "6", "[0, max_tokens=5]"),
                bad("stop", b -> b.stop(List.of("a", "b", "c", "d", "e")), "5", "at most 4"),
                bad("stop", b -> b.stop(List.of("a", "")), "entry 1", "non-empty"),
                bad("stop", b -> b.stop(Arrays.asList("a", null)), "entry 1", "non-empty"),
                bad("stop_token_ids", b -> b.stopTokenIds(List.of(-1)), "-1", "[0, 1000)"),
                bad("stop_token_ids", b -> b.stopTokenIds(List.of(VOCAB)), "1000", "[0, 1000)"));
    }

    @ParameterizedTest(name = "{0} rejects {2}")
    @MethodSource("rejected")
    void rejectsOutOfRangeNamingTheParam(String param, UnaryOperator<SamplingParams.Builder> edit,
                                         String value, String range) {
        SamplingParams p = edit.apply(SamplingParams.builder()).build();
        assertThatThrownBy(() -> p.validate(VOCAB))
                .isInstanceOfSatisfying(InvalidSamplingParamException.class, e -> {
                    assertThat(e.param()).isEqualTo(param);
                    assertThat(e.getMessage()).contains(param).contains(value).contains(range);
                });
    }

    @Test
    void vocabularyMustBePositive() {
        assertThatThrownBy(() -> SamplingParams.builder().build().validate(0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static Map<Integer, Double> nullValueBias() {
        Map<Integer, Double> m = new HashMap<>();
        m.put(3, null);
        return m;
    }

    private static Arguments ok(String name, UnaryOperator<SamplingParams.Builder> edit) {
        return Arguments.of(name, edit);
    }

    private static Arguments bad(String param, UnaryOperator<SamplingParams.Builder> edit, String value, String range) {
        return Arguments.of(param, edit, value, range);
    }
}
