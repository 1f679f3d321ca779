package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.podserve.sampling.SamplingParams;

/**
 * The engine's use of a backend that draws temperature samples where the logits are (as the CUDA
 * backend does with ps_draw): seeded sampled requests give exactly the tokens of the ordinary host
 * path, whether the device draws a row or hands it back (the host then samples with the draw's
 * uniform number, so the request's generator advances once a step either way); rows the device
 * cannot draw (logprobs, penalties) still travel with the step; the listener hears where each row
 * was sampled.
 */
class DeviceDrawSamplingTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final int[] PROMPT = TinyModel.TOKENIZER.encode("Sampling at a temperature, drawn on the device");

    private static int[] run(Engine engine, String id, SamplingParams params) {
        List<RequestOutput> out = engine.submit(new GenerationRequest(id, PROMPT, params)).collectList().block(TIMEOUT);
        return out.stream().flatMapToInt(o -> java.util.Arrays.stream(o.tokenIds())).toArray();
    }

    @Test
    void drawnTokensAreTheHostsTokens() {
        List<SamplingParams> drawable = List.of(
                SamplingParams.builder().temperature(0.8).seed(5L).maxTokens(20).build(),
                SamplingParams.builder().temperature(1.0).seed(6L).maxTokens(20).ignoreEos(true).build(),
                SamplingParams.builder().temperature(1.6).minP(0.05).seed(7L).maxTokens(20).minTokens(10)
                        .stopTokenIds(List.of(3, 4)).build(),
                SamplingParams.builder().temperature(0.3).seed(8L).maxTokens(20).topK(100000).build(),
                SamplingParams.builder().temperature(0.8).topP(0.9).seed(9L).maxTokens(20).build(),
                SamplingParams.builder().temperature(1.2).topK(20).topP(0.7).minP(0.01).seed(12L).maxTokens(20).build());
        List<SamplingParams> notDrawable = List.of(
                SamplingParams.builder().temperature(0.8).logprobs(1).seed(10L).maxTokens(12).build(),
                SamplingParams.builder().temperature(0.8).frequencyPenalty(0.5).seed(11L).maxTokens(12).build());
        for (int handBackEvery : new int[] {Integer.MAX_VALUE, 3, 1}) {
            ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
            AtomicInteger[] heard = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
            EngineListener listener = new EngineListener() {
                @Override
                public void onSampled(int fromDeviceArgmax, int drawnOnDevice, int withStep, int late) {
                    heard[0].addAndGet(fromDeviceArgmax);
                    heard[1].addAndGet(drawnOnDevice);
                    heard[2].addAndGet(withStep);
                    heard[3].addAndGet(late);
                }
            };
            try (Engine plain = TinyModel.engine();
                 Engine device = TinyModel.engine(512, 96, 8, 40, TinyModel.EOS, b -> {
                     wrapped[0] = ArgmaxBackend.drawing(b, handBackEvery);
                     return wrapped[0];
                 }, listener)) {
                for (int i = 0; i < drawable.size(); i++) {
                    assertThat(run(device, "d" + i, drawable.get(i))).as("drawable %d, hand back every %d", i, handBackEvery)
                            .containsExactly(run(plain, "p" + i, drawable.get(i)));
                }
                int drawnBefore = wrapped[0].drawn.get() + wrapped[0].handedBack.get();
                int givenBefore = wrapped[0].given.get();
                for (int i = 0; i < notDrawable.size(); i++) {
                    assertThat(run(device, "n" + i, notDrawable.get(i))).as("not drawable %d", i)
                            .containsExactly(run(plain, "q" + i, notDrawable.get(i)));
                }
                assertThat(wrapped[0].drawn.get() + wrapped[0].handedBack.get()).as("draws for rows the rule does not cover")
                        .isEqualTo(drawnBefore);
                assertThat(wrapped[0].given.get() - givenBefore).as("rows copied with their step").isPositive();
                assertThat(heard[1].get()).as("rows drawn, as heard").isEqualTo(wrapped[0].drawn.get());
                assertThat(heard[3].get()).as("rows fetched late, as heard").isEqualTo(wrapped[0].handedBack.get());
                if (handBackEvery == 1) assertThat(wrapped[0].drawn.get()).isZero();
                else assertThat(wrapped[0].drawn.get()).isPositive();
            }
        }
    }
}
