package dev.podserve.engine;

import static dev.podserve.engine.RequestOutputs.tokens;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.podserve.sampling.SamplingParams;

/**
 * {@code allowed_token_ids} and {@code bad_words} on a backend that picks tokens where the logits
 * are, as the CUDA backend does ({@link ArgmaxBackend}): a greedy row whose device argmax a bad word
 * bans is fetched late and picked on the host; allowed_token_ids travel as the row's token mask, so
 * a masking device argmaxes and draws inside them with no row copied; a draw carries the ids bad
 * words ban at its step. Every way gives exactly the host's tokens, and none that is banned.
 */
class TokenBansOnDeviceTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final int[] PROMPT = TinyModel.TOKENIZER.encode("Bans hold where the device picks the token");

    private static int[] run(Engine engine, String id, SamplingParams params) {
        return tokens(engine.submit(new GenerationRequest(id, PROMPT, params)).collectList().block(TIMEOUT));
    }

    /** Whether {@code out} contains {@code word} as consecutive tokens. */
    private static boolean contains(int[] out, List<Integer> word) {
        int[] w = word.stream().mapToInt(Integer::intValue).toArray();
        for (int i = 0; i + w.length <= out.length; i++) {
            if (Arrays.equals(out, i, i + w.length, w, 0, w.length)) return true;
        }
        return false;
    }

    /** Bad words made of what the model says unbanned, so that the bans bite: a token, and a pair. */
    private static List<List<Integer>> wordsFrom(int[] free) {
        return List.of(List.of(free[2]), List.of(free[0], free[1]), List.of(free[5], free[6], free[7]));
    }

    @Test
    void greedyRowsWithABannedArgmaxAreFetchedLateAndGiveTheHostsTokens() {
        int[] free;
        try (Engine plain = TinyModel.engine()) {
            free = run(plain, "free", SamplingParams.builder().temperature(0).maxTokens(16).ignoreEos(true).build());
        }
        List<List<Integer>> words = wordsFrom(free);
        SamplingParams banned = SamplingParams.builder().temperature(0).maxTokens(16).ignoreEos(true).badWordTokenIds(words).build();
        ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
        try (Engine plain = TinyModel.engine(); Engine device = TinyModel.engine(512, 96, 8, 40, b -> {
            wrapped[0] = new ArgmaxBackend(b);
            return wrapped[0];
        })) {
            int[] want = run(plain, "p", banned);
            int[] got = run(device, "d", banned);
            assertThat(got).containsExactly(want);
            for (List<Integer> w : words) assertThat(contains(got, w)).as("bad word %s in %s", w, Arrays.toString(got)).isFalse();
            assertThat(got).isNotEqualTo(free);
            assertThat(wrapped[0].late.get()).as("rows whose argmax a bad word banned").isPositive();
            assertThat(wrapped[0].given.get()).as("rows sent with the step").isZero();
        }
    }

    @Test
    void allowedTokenIdsAreTheDevicesMaskForArgmaxAndDraws() {
        int[] free;
        try (Engine plain = TinyModel.engine()) {
            free = run(plain, "free", SamplingParams.builder().temperature(0).maxTokens(16).ignoreEos(true).build());
        }
        // A few tokens the model likes and a few it does not: the greedy path must leave its favourites.
        List<Integer> allowed = List.of(free[1], free[4], 'a' + 0, 'b' + 0, 'z' + 0);
        Set<Integer> allowedSet = Set.copyOf(allowed);
        List<List<Integer>> words = List.of(List.of((int) 'a', (int) 'b'));
        List<SamplingParams> cases = List.of(
                SamplingParams.builder().temperature(0).maxTokens(16).allowedTokenIds(allowed).build(),
                SamplingParams.builder().temperature(0).maxTokens(16).allowedTokenIds(allowed).badWordTokenIds(words).build(),
                SamplingParams.builder().temperature(0.9).seed(3L).maxTokens(24).allowedTokenIds(allowed).badWordTokenIds(words).build(),
                SamplingParams.builder().temperature(1.3).topK(3).seed(4L).maxTokens(24).allowedTokenIds(allowed).build());
        for (int handBackEvery : new int[] {Integer.MAX_VALUE, 2}) {
            ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
            try (Engine plain = TinyModel.engine(); Engine device = TinyModel.engine(512, 96, 8, 40, b -> {
                wrapped[0] = ArgmaxBackend.masking(b, handBackEvery);
                return wrapped[0];
            })) {
                for (int i = 0; i < cases.size(); i++) {
                    int[] want = run(plain, "p" + i, cases.get(i));
                    int[] got = run(device, "d" + i, cases.get(i));
                    assertThat(got).as("case %d, hand back every %d", i, handBackEvery).containsExactly(want);
                    assertThat(Arrays.stream(got).boxed().collect(Collectors.toSet())).as("case %d", i).isSubsetOf(allowedSet);
                    for (List<Integer> w : cases.get(i).badWordTokenIds()) assertThat(contains(got, w)).isFalse();
                }
                assertThat(wrapped[0].masked.get()).as("rows masked on the device").isPositive();
                assertThat(wrapped[0].given.get()).as("rows sent with the step: none, every case is a device pick").isZero();
                assertThat(wrapped[0].drawn.get()).as("rows drawn on the device").isPositive();
            }
        }
    }

    @Test
    void drawsCarryTheWordBansAndAMaskTheDeviceCannotApplyKeepsTheRowOnTheHost() {
        int[] free;
        try (Engine plain = TinyModel.engine()) {
            free = run(plain, "free", SamplingParams.builder().temperature(0).maxTokens(16).ignoreEos(true).build());
        }
        List<List<Integer>> words = wordsFrom(free);
        SamplingParams drawn = SamplingParams.builder().temperature(1.1).seed(9L).maxTokens(30).ignoreEos(true)
                .badWordTokenIds(words).build();
        SamplingParams masked = SamplingParams.builder().temperature(1.1).seed(10L).maxTokens(30)
                .allowedTokenIds(List.of(free[0], free[1], free[2])).build();
        ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
        try (Engine plain = TinyModel.engine(); Engine device = TinyModel.engine(512, 96, 8, 40, b -> {
            wrapped[0] = ArgmaxBackend.drawing(b, Integer.MAX_VALUE);
            return wrapped[0];
        })) {
            int[] got = run(device, "d", drawn);
            assertThat(got).containsExactly(run(plain, "p", drawn));
            for (List<Integer> w : words) assertThat(contains(got, w)).as("bad word %s", w).isFalse();
            assertThat(wrapped[0].drawn.get()).as("rows drawn on the device, bad words and all").isPositive();
            int givenBefore = wrapped[0].given.get();
            int drawnBefore = wrapped[0].drawn.get();
            int[] kept = run(device, "m", masked);
            assertThat(kept).containsExactly(run(plain, "q", masked));
            assertThat(Arrays.stream(kept).boxed().collect(Collectors.toSet())).isSubsetOf(Set.of(free[0], free[1], free[2]));
            assertThat(wrapped[0].drawn.get()).as("no draw for a mask the device does not apply").isEqualTo(drawnBefore);
            assertThat(wrapped[0].given.get() - givenBefore).as("rows sent with the step").isPositive();
        }
    }
}
