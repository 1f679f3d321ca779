package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The fast path a GPU backend takes for greedy rows, {@link Sampler#greedyFromArgmax} with
 * {@link Sampler#argmaxBanned}, against the slow reference, {@link Sampler#sample} over the whole
 * row: on random rows with ties and -inf at awkward vocabulary sizes, under random EOS ids,
 * stop ids, ignore_eos and min_tokens, an argmax that is not banned must be the reference's token,
 * and one that is banned must not be. (NaN logits are left out: the reference rejects the row,
 * while an argmax passes over them, as it always has for plain greedy rows.)
 */
class GreedyFromArgmaxTest {

    private final Sampler sampler = new Sampler();

    @Test
    void theRawArgmaxIsTheTokenUnlessBanned() {
        // A fresh seed each run, printed with any failure.
        Random rnd = new Random();
        long seed = rnd.nextLong();
        rnd.setSeed(seed);
        int fromArgmax = 0;
        int banned = 0;
        for (int trial = 0; trial < 3000; trial++) {
            int vocab = new int[] {1, 2, 7, 33, 257, 1031}[rnd.nextInt(6)];
            float[] x = new float[vocab];
            int levels = 1 + rnd.nextInt(6);  // few levels: many ties
            for (int i = 0; i < vocab; i++) {
                double u = rnd.nextDouble();
                x[i] = u < 0.05 ? Float.NEGATIVE_INFINITY : rnd.nextInt(levels);
            }
            int[] eos = randomIds(rnd, vocab, rnd.nextInt(3));
            List<Integer> stops = new ArrayList<>();
            for (int id : randomIds(rnd, vocab, rnd.nextInt(3))) stops.add(id);
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(64)
                    .ignoreEos(rnd.nextBoolean()).minTokens(rnd.nextInt(4)).stopTokenIds(stops).build();
            SamplingState state = new SamplingState(p, new int[0], eos, vocab);
            for (int k = rnd.nextInt(5); k > 0; k--) state.accept(rnd.nextInt(vocab));

            assertThat(Sampler.greedyFromArgmax(state)).isTrue();
            int argmax = Sampler.argmax(x);
            SampleResult reference;
            try {
                reference = sampler.sample(x, state);
            } catch (IllegalArgumentException noNumberAtAll) {
                continue;
            }
            String what = "seed " + seed + " trial " + trial;
            if (!Sampler.argmaxBanned(state, argmax)) {
                fromArgmax++;
                assertThat(reference.token()).as(what).isEqualTo(argmax);
            } else {
                // The engine then samples the fetched row the reference way; the reference keeps a
                // banned token only when the masks left nothing else.
                banned++;
                boolean nothingElse = true;
                for (int t = 0; t < vocab; t++) {
                    if (x[t] != Float.NEGATIVE_INFINITY && !Sampler.argmaxBanned(state, t)) nothingElse = false;
                }
                if (!nothingElse) assertThat(reference.token()).as(what).isNotEqualTo(argmax);
            }
        }
        // Both branches must have been exercised, or the test proves nothing.
        assertThat(fromArgmax).as("seed %d", seed).isGreaterThan(500);
        assertThat(banned).as("seed %d", seed).isGreaterThan(50);
    }

    @Test
    void anythingThatEditsOrReadsTheWholeRowNeedsIt() {
        SamplingParams.Builder greedy = SamplingParams.builder().temperature(0).maxTokens(8);
        assertThat(Sampler.greedyFromArgmax(state(greedy.build()))).isTrue();
        assertThat(Sampler.greedyFromArgmax(state(greedy.ignoreEos(true).minTokens(3).build()))).isTrue();
        assertThat(Sampler.greedyFromArgmax(state(SamplingParams.builder().temperature(0).maxTokens(8).logprobs(1).build()))).isFalse();
        assertThat(Sampler.greedyFromArgmax(state(SamplingParams.builder().temperature(0).maxTokens(8).logitBias(Map.of(3, 1.0)).build()))).isFalse();
        assertThat(Sampler.greedyFromArgmax(state(SamplingParams.builder().temperature(0).maxTokens(8).repetitionPenalty(1.1).build()))).isFalse();
        assertThat(Sampler.greedyFromArgmax(state(SamplingParams.builder().temperature(0).maxTokens(8).presencePenalty(0.5).build()))).isFalse();
        assertThat(Sampler.greedyFromArgmax(state(SamplingParams.builder().temperature(0.7).maxTokens(8).build()))).isFalse();
    }

    @Test
    void bansFollowTheMasks() {
        int[] eos = {5};
        SamplingParams ignoreEos = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).stopTokenIds(List.of(6)).build();
        SamplingState s = new SamplingState(ignoreEos, new int[0], eos, 16);
        assertThat(Sampler.argmaxBanned(s, 5)).as("EOS under ignore_eos (sampled, as in vLLM)").isFalse();
        assertThat(Sampler.argmaxBanned(s, 6)).as("a stop id past min_tokens").isFalse();
        SamplingParams below = SamplingParams.builder().temperature(0).maxTokens(8).minTokens(2).stopTokenIds(List.of(6)).build();
        SamplingState m = new SamplingState(below, new int[0], eos, 16);
        assertThat(Sampler.argmaxBanned(m, 5)).isTrue();
        assertThat(Sampler.argmaxBanned(m, 6)).isTrue();
        assertThat(Sampler.argmaxBanned(m, 7)).isFalse();
        m.accept(7);
        m.accept(7);
        assertThat(Sampler.argmaxBanned(m, 5)).as("min_tokens reached").isFalse();
        assertThat(Sampler.argmaxBanned(m, 6)).isFalse();
    }

    private static SamplingState state(SamplingParams p) {
        return new SamplingState(p, new int[0], new int[] {1}, 16);
    }

    private static int[] randomIds(Random rnd, int vocab, int count) {
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }
}
