package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * A sampled request that asks for no logprobs skips the softmax pass when its temperature is not 1
 * (the draw computes its own weights). The fast path must draw exactly the token the full path
 * draws from the same seed: the same request with logprobs on is the reference, on random rows at
 * awkward sizes, over temperature, top-k, top-p and min-p.
 */
class SampledWithoutLogprobsTest {

    private final Sampler sampler = new Sampler();

    @Test
    void skippingTheSoftmaxDrawsTheSameTokens() {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 600; trial++) {
            int vocab = new int[] {2, 17, 300, 4099}[rnd.nextInt(4)];
            float[] x = Reference.gaussianLogits(vocab, 1 + 4 * rnd.nextDouble(), rnd.nextLong());
            if (rnd.nextBoolean()) x[rnd.nextInt(vocab)] = Float.NEGATIVE_INFINITY;
            double temperature = new double[] {0.25, 0.7, 1.0, 1.6}[rnd.nextInt(4)];
            SamplingParams.Builder b = SamplingParams.builder().temperature(temperature).maxTokens(8).seed(rnd.nextLong());
            if (rnd.nextInt(3) == 0) b.topK(1 + rnd.nextInt(Math.max(1, vocab / 2)));
            if (rnd.nextInt(3) == 0) b.topP(0.05 + 0.9 * rnd.nextDouble());
            if (rnd.nextInt(4) == 0) b.minP(0.2 * rnd.nextDouble());
            SamplingParams fast = b.build();
            SamplingParams full = b.logprobs(1).build();
            SamplingState a = new SamplingState(fast, new int[0], new int[0], vocab);
            SamplingState c = new SamplingState(full, new int[0], new int[0], vocab);
            for (int draw = 0; draw < 4; draw++) {
                SampleResult got = sampler.sample(x, a);
                SampleResult want = sampler.sample(x, c);
                assertThat(got.token()).as("seed %d trial %d draw %d, %s", seed, trial, draw, fast).isEqualTo(want.token());
                a.accept(got.token());
                c.accept(want.token());
            }
        }
    }
}
