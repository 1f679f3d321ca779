package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link Sampler#deviceDraw}: which requests a device may draw for, what the draw carries, and that
 * the rule ps_draw implements (params.h; here as {@link DeviceDrawRule}, written from that
 * contract) picks the host sampler's token with the same uniform number, on fresh random rows at
 * awkward sizes with -inf, ties, bans, top-k, top-p and min-p. The kernel itself is checked against the same
 * rule by the native test layers_draw_test.cu and against the sampler by DeviceDrawGpuTest.
 */
class DeviceDrawTest {

    private final Sampler sampler = new Sampler();

    @Test
    void theDevicesRuleIsTheSamplersRule() {
        Random rnd = new Random();
        long seed = rnd.nextLong();
        rnd.setSeed(seed);
        int drawn = 0;
        int handedBack = 0;
        for (int trial = 0; trial < 4000; trial++) {
            int vocab = new int[] {1, 2, 7, 33, 257, 1031, 4099}[rnd.nextInt(7)];
            float[] x = new float[vocab];
            double scale = new double[] {0.5, 3, 20}[rnd.nextInt(3)];
            boolean ties = rnd.nextInt(4) == 0;
            for (int i = 0; i < vocab; i++) {
                x[i] = rnd.nextInt(20) == 0 ? Float.NEGATIVE_INFINITY
                        : ties ? rnd.nextInt(3) : (float) (scale * rnd.nextGaussian());
            }
            x[rnd.nextInt(vocab)] = 0.5f;  // at least one finite logit: a row of only -inf is a broken step
            int[] eos = randomIds(rnd, vocab, rnd.nextInt(4));
            List<Integer> stops = new ArrayList<>();
            for (int id : randomIds(rnd, vocab, rnd.nextInt(4))) stops.add(id);
            double temperature = new double[] {1e-5, 0.05, 0.6, 1.0, 1.3, 2.0}[rnd.nextInt(6)];
            double minP = rnd.nextInt(3) == 0 ? new double[] {0.01, 0.3, 1.0}[rnd.nextInt(3)] : 0;
            // Top-k below the vocabulary, or of the vocabulary or more (which keeps all), or none.
            int topK = new int[] {0, 0, 1, 1 + rnd.nextInt(Math.max(1, vocab - 1)), vocab + rnd.nextInt(3)}[rnd.nextInt(5)];
            double topP = rnd.nextBoolean() ? 1.0 : new double[] {0.05, 0.5, 0.9, 0.999}[rnd.nextInt(4)];
            SamplingParams p = SamplingParams.builder().temperature(temperature).minP(minP).topK(topK).topP(topP).maxTokens(64)
                    .seed(rnd.nextLong()).ignoreEos(rnd.nextBoolean()).minTokens(rnd.nextInt(3)).stopTokenIds(stops).build();
            SamplingState state = new SamplingState(p, new int[0], eos, vocab);
            for (int k = rnd.nextInt(4); k > 0; k--) state.accept(rnd.nextInt(vocab));

            DeviceDraw d = Sampler.deviceDraw(state);
            assertThat(d).as("seed %d trial %d", seed, trial).isNotNull();
            int device = DeviceDrawRule.token(x, d);
            SampleResult host = sampler.sample(x, state, d.uniform());
            if (device < 0) {
                // Every token banned: the host retries without the bans, and must still give a token.
                handedBack++;
                assertThat(host.token()).isBetween(0, vocab - 1);
            } else {
                drawn++;
                assertThat(device).as("seed %d trial %d, %s", seed, trial, d).isEqualTo(host.token());
            }
        }
        assertThat(drawn).isGreaterThan(3000);
    }

    @Test
    void aRowWithNanIsHandedBackAndTheHostRejectsIt() {
        float[] x = {0.5f, Float.NaN, 1f};
        SamplingState state = state(SamplingParams.builder().temperature(0.8).maxTokens(4).seed(3L).build(), 3);
        DeviceDraw d = Sampler.deviceDraw(state);
        assertThat(DeviceDrawRule.token(x, d)).isEqualTo(-1);
        assertThatThrownBy(() -> sampler.sample(x, state, d.uniform())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRequestTakesOneNumberAStepWhereverItIsDrawn() {
        Random rnd = new Random(12);
        SamplingParams p = SamplingParams.builder().temperature(0.9).minP(0.05).maxTokens(64).seed(99L).build();
        SamplingState device = state(p, 500);
        SamplingState host = state(p, 500);
        for (int step = 0; step < 40; step++) {
            float[] x = new float[500];
            for (int i = 0; i < x.length; i++) x[i] = (float) (2 * rnd.nextGaussian());
            DeviceDraw d = Sampler.deviceDraw(device);
            int viaDraw = step % 3 == 0 ? sampler.sample(x, device, d.uniform()).token() : DeviceDrawRule.token(x, d);
            int onHost = sampler.sample(x, host).token();
            assertThat(viaDraw).as("step %d", step).isEqualTo(onHost);
            device.accept(viaDraw);
            host.accept(onHost);
        }
    }

    @Test
    void onlyRequestsTheDeviceRuleCoversAreDrawn() {
        SamplingParams base = SamplingParams.builder().temperature(0.7).maxTokens(16).build();
        assertThat(Sampler.deviceDraw(state(base, 100))).isNotNull();
        assertThat(Sampler.deviceDraw(state(base.toBuilder().temperature(0).build(), 100))).as("greedy").isNull();
        assertThat(Sampler.deviceDraw(state(base.toBuilder().logprobs(2).build(), 100))).as("logprobs").isNull();
        assertThat(Sampler.deviceDraw(state(base.toBuilder().topP(0.9).build(), 100)).topP()).as("top-p").isEqualTo(0.9);
        assertThat(Sampler.deviceDraw(state(base.toBuilder().topK(99).build(), 100)).topK()).as("top-k").isEqualTo(99);
        assertThat(Sampler.deviceDraw(state(base.toBuilder().topK(100).build(), 100)).topK()).as("top-k of the vocabulary").isZero();
        assertThat(Sampler.deviceDraw(state(base.toBuilder().logitBias(Map.of(3, 1.0)).build(), 100))).as("bias").isNull();
        assertThat(Sampler.deviceDraw(state(base.toBuilder().presencePenalty(0.5).build(), 100))).as("presence").isNull();
        assertThat(Sampler.deviceDraw(state(base.toBuilder().repetitionPenalty(1.2).build(), 100))).as("repetition").isNull();
        List<Integer> nine = List.of(10, 11, 12, 13, 14, 15, 16, 17, 18);
        SamplingParams manyStops = base.toBuilder().minTokens(2).stopTokenIds(nine).build();
        assertThat(Sampler.deviceDraw(state(manyStops, 100))).as("nine banned ids").isNull();
        SamplingState past = state(manyStops, 100);
        past.accept(1);
        past.accept(1);
        assertThat(Sampler.deviceDraw(past)).as("past min_tokens, nothing banned").isNotNull();
    }

    @Test
    void theDrawCarriesTheStepsBansAndTheHostsNumbers() {
        SamplingParams p = SamplingParams.builder().temperature(0.25).minP(0.1).maxTokens(16).minTokens(1)
                .stopTokenIds(List.of(40, 41, 40)).build();
        SamplingState s = new SamplingState(p, new int[0], new int[] {7, 9, 7, 5000}, 100);
        DeviceDraw d = Sampler.deviceDraw(s);
        assertThat(d.inverseTemperature()).isEqualTo(1.0 / 0.25);
        assertThat(d.minP()).isEqualTo(0.1);
        assertThat(d.topK()).isZero();
        assertThat(d.topP()).isEqualTo(1.0);
        assertThat(d.uniform()).isBetween(0.0, 1.0).isNotEqualTo(1.0);
        assertThat(d.banned()).containsExactlyInAnyOrder(7, 9, 40, 41);  // below min_tokens: EOS and stops, in vocabulary
        s.accept(3);
        assertThat(Sampler.deviceDraw(s).banned()).isEmpty();
        SamplingState ignoring = new SamplingState(p.toBuilder().minTokens(0).ignoreEos(true).build(), new int[0], new int[] {7, 9}, 100);
        assertThat(Sampler.deviceDraw(ignoring).banned()).isEmpty();  // ignore_eos bans nothing: EOS is drawn like any token
    }

    @Test
    void aUniformOutsideTheUnitIntervalIsRejected() {
        SamplingState s = state(SamplingParams.builder().temperature(0.7).maxTokens(4).build(), 3);
        assertThatThrownBy(() -> sampler.sample(new float[] {1, 2, 3}, s, 1.0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> sampler.sample(new float[] {1, 2, 3}, s, -0.5)).isInstanceOf(IllegalArgumentException.class);
    }

    private static SamplingState state(SamplingParams p, int vocab) {
        return new SamplingState(p, new int[0], new int[] {0}, vocab);
    }

    private static int[] randomIds(Random rnd, int vocab, int count) {
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }
}
