package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * {@code allowed_token_ids} and {@code bad_words} against a slow reference written from their
 * definitions, on random vocabularies, words and outputs: at every step the banned set, the
 * device's view of it ({@link LogitsProcessor#banned}, {@link Sampler#argmaxBanned}), the greedy
 * pick, the logprobs and the sampled tokens must agree with it, together with min_tokens' masks.
 */
class TokenBansTest {

    private final Sampler sampler = new Sampler();

    /** Tokens banned at the step after {@code output}: straight from the definition, word by word, token by token. */
    private static TreeSet<Integer> referenceBans(List<List<Integer>> words, List<Integer> output, List<Integer> allowed,
                                                  int vocab, int minTokens, int[] eos, List<Integer> stops) {
        TreeSet<Integer> banned = new TreeSet<>();
        for (int t = 0; t < vocab; t++) {
            if (allowed != null && !allowed.contains(t)) banned.add(t);
            if (output.size() < minTokens) {
                for (int e : eos) if (e == t) banned.add(t);
                if (stops.contains(t)) banned.add(t);
            }
            for (List<Integer> w : words) {
                if (w.get(w.size() - 1) != t) continue;
                List<Integer> prefix = w.subList(0, w.size() - 1);
                // The word is completed by t when the output ends with the rest of it.
                if (prefix.size() <= output.size() && output.subList(output.size() - prefix.size(), output.size()).equals(prefix)) {
                    banned.add(t);
                }
            }
        }
        return banned;
    }

    /** Words over a small alphabet of the vocabulary, so prefixes recur in random outputs. */
    private static List<List<Integer>> randomWords(SplittableRandom rnd, int vocab, int[] alphabet) {
        List<List<Integer>> words = new ArrayList<>();
        int count = rnd.nextInt(0, 6);
        for (int i = 0; i < count; i++) {
            int len = rnd.nextInt(1, 5);
            List<Integer> w = new ArrayList<>();
            for (int k = 0; k < len; k++) w.add(rnd.nextInt(4) == 0 ? rnd.nextInt(vocab) : alphabet[rnd.nextInt(alphabet.length)]);
            words.add(w);
        }
        return words;
    }

    @Test
    void bansMatchTheReferenceAtEveryStep() {
        SplittableRandom rnd = new SplittableRandom(20260517);
        int checkedWordBans = 0;
        for (int trial = 0; trial < 400; trial++) {
            int vocab = rnd.nextInt(2, 300);
            int[] alphabet = rnd.ints(rnd.nextInt(1, 4), 0, vocab).toArray();
            List<List<Integer>> words = randomWords(rnd, vocab, alphabet);
            List<Integer> allowed = null;
            if (rnd.nextInt(3) == 0) {
                allowed = new ArrayList<>();
                int size = rnd.nextInt(1, Math.min(vocab, 20) + 1);
                for (int i = 0; i < size; i++) allowed.add(rnd.nextInt(vocab));
            }
            int[] eos = {rnd.nextInt(vocab)};
            List<Integer> stops = rnd.nextBoolean() ? List.of(rnd.nextInt(vocab)) : List.of();
            int minTokens = rnd.nextInt(0, 4);
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(100).minTokens(minTokens)
                    .stopTokenIds(stops).allowedTokenIds(allowed).badWordTokenIds(words).build();
            p.validate(vocab);
            SamplingState state = new SamplingState(p, new int[] {0}, eos, vocab);
            List<Integer> output = new ArrayList<>();
            int steps = rnd.nextInt(1, 30);
            for (int step = 0; step < steps; step++) {
                TreeSet<Integer> want = referenceBans(words, output, allowed, vocab, minTokens, eos, stops);
                for (int t = 0; t < vocab; t++) {
                    assertThat(Sampler.argmaxBanned(state, t)).as("trial %d step %d token %d", trial, step, t).isEqualTo(want.contains(t));
                }
                // The device's list: everything but the allowed-ids mask, which travels as a mask.
                TreeSet<Integer> listed = new TreeSet<>();
                for (int t : LogitsProcessor.banned(state)) assertThat(listed.add(t)).as("listed once: %d", t).isTrue();
                TreeSet<Integer> wantListed = referenceBans(words, output, null, vocab, minTokens, eos, stops);
                assertThat(listed).as("trial %d step %d", trial, step).isEqualTo(wantListed);
                if (!words.isEmpty() && !wantListed.isEmpty()) checkedWordBans++;
                long[] mask = state.allowedTokenMask();
                assertThat(mask == null).isEqualTo(allowed == null);
                assertThat(state.masked()).isEqualTo(allowed != null);

                float[] logits = Reference.gaussianLogits(vocab, 3, rnd.nextLong());
                if (want.size() < vocab) {
                    int greedy = sampler.sample(logits, state).token();
                    int best = -1;
                    for (int t = 0; t < vocab; t++) {
                        if (!want.contains(t) && (best < 0 || logits[t] > logits[best])) best = t;
                    }
                    assertThat(greedy).as("greedy, trial %d step %d", trial, step).isEqualTo(best);
                }
                // Next token: mostly one that continues a word, to reach the multi-token bans.
                int next = rnd.nextInt(3) > 0 ? alphabet[rnd.nextInt(alphabet.length)] : rnd.nextInt(vocab);
                state.accept(next);
                output.add(next);
            }
        }
        assertThat(checkedWordBans).as("steps where a word ban was in force").isGreaterThan(500);
    }

    @Test
    void sampledTokensAndLogprobsNeverGoToBannedTokens() {
        SplittableRandom rnd = new SplittableRandom(77);
        for (int trial = 0; trial < 60; trial++) {
            int vocab = rnd.nextInt(3, 200);
            int[] alphabet = rnd.ints(2, 0, vocab).toArray();
            List<List<Integer>> words = randomWords(rnd, vocab, alphabet);
            List<Integer> allowed = rnd.nextBoolean() ? null
                    : rnd.ints(rnd.nextInt(2, Math.min(vocab, 30) + 1), 0, vocab).boxed().toList();
            SamplingParams p = SamplingParams.builder().temperature(rnd.nextDouble(0.3, 2.0)).topK(rnd.nextBoolean() ? 5 : 0)
                    .seed(rnd.nextLong()).logprobs(5).maxTokens(100).allowedTokenIds(allowed).badWordTokenIds(words).build();
            SamplingState state = new SamplingState(p, new int[] {0}, new int[0], vocab);
            List<Integer> output = new ArrayList<>();
            for (int step = 0; step < 40; step++) {
                TreeSet<Integer> banned = referenceBans(words, output, allowed, vocab, 0, new int[0], List.of());
                if (banned.size() == vocab) break;
                float[] logits = Reference.gaussianLogits(vocab, 4, rnd.nextLong());
                SampleResult r = sampler.sample(logits, state);
                assertThat(banned).as("trial %d step %d", trial, step).doesNotContain(r.token());
                // A banned token is listed only to fill the N places, with no probability (as a masked one is).
                for (int k = 0; k < r.topTokens().length; k++) {
                    if (banned.contains(r.topTokens()[k])) assertThat(r.topLogprobs()[k]).isEqualTo(Float.NEGATIVE_INFINITY);
                }
                // Log-probabilities are over what the bans leave, as over min_tokens' masks.
                double sum = 0;
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < vocab; t++) if (!banned.contains(t)) max = Math.max(max, logits[t]);
                for (int t = 0; t < vocab; t++) if (!banned.contains(t)) sum += Math.exp(logits[t] - max);
                double want = logits[r.token()] - max - Math.log(sum);
                assertThat((double) r.logprob()).as("logprob, trial %d step %d", trial, step).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4));
                state.accept(r.token());
                output.add(r.token());
            }
        }
    }

    @Test
    void theBansOutliveMinTokensFallbackAndFailWhenNothingIsLeft() {
        // allowed_token_ids holds only the EOS while min_tokens bans it: the fallback lifts min_tokens, not the list.
        SamplingParams onlyEos = SamplingParams.builder().temperature(0).maxTokens(5).minTokens(3).allowedTokenIds(List.of(2)).build();
        assertThat(sampler.sample(new float[] {5, 4, 1, 3}, new SamplingState(onlyEos, new int[] {0}, new int[] {2}, 4)).token()).isEqualTo(2);
        // bad_words ban the only allowed token: nothing may be produced, and the request fails rather than break a rule.
        SamplingParams none = SamplingParams.builder().temperature(0).maxTokens(5).allowedTokenIds(List.of(1))
                .badWordTokenIds(List.of(List.of(1))).build();
        assertThatThrownBy(() -> sampler.sample(new float[] {5, 4, 1, 3}, new SamplingState(none, new int[] {0}, new int[0], 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allowed_token_ids and bad_words");
    }

    @Test
    void invalidListsNameTheirField() {
        assertThatThrownBy(() -> SamplingParams.builder().allowedTokenIds(List.of()).build().validate(10))
                .isInstanceOf(InvalidSamplingParamException.class).extracting("param").isEqualTo("allowed_token_ids");
        assertThatThrownBy(() -> SamplingParams.builder().allowedTokenIds(List.of(3, 10)).build().validate(10))
                .isInstanceOf(InvalidSamplingParamException.class).extracting("param").isEqualTo("allowed_token_ids");
        assertThatThrownBy(() -> SamplingParams.builder().badWordTokenIds(List.of(List.of(1, -1))).build().validate(10))
                .isInstanceOf(InvalidSamplingParamException.class).extracting("param").isEqualTo("bad_words");
        assertThatThrownBy(() -> SamplingParams.builder().badWordTokenIds(List.of(List.of())).build().validate(10))
                .isInstanceOf(InvalidSamplingParamException.class).extracting("param").isEqualTo("bad_words");
        SamplingParams.builder().allowedTokenIds(List.of(0, 9)).badWordTokenIds(List.of(List.of(9, 0))).build().validate(10);
    }
}
