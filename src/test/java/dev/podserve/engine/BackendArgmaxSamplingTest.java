package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.ForwardingBackend;
import dev.podserve.sampling.Sampler;
import dev.podserve.sampling.SamplingParams;

/**
 * The engine's use of a backend that takes each row's argmax itself (as the CUDA backend does on the
 * device): plain greedy requests are sampled from the backend's argmax with no logits row copied,
 * requests that need the row (logprobs, penalties, bias, min_tokens, sampling) still get it, and
 * the tokens are exactly those of the ordinary path.
 */
class BackendArgmaxSamplingTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** Wraps a backend: computes the argmax on the "device" side and withholds the rows nobody needs. */
    static final class ArgmaxBackend extends ForwardingBackend {
        final AtomicInteger withheld = new AtomicInteger();
        final AtomicInteger given = new AtomicInteger();

        ArgmaxBackend(ComputeBackend delegate) {
            super(delegate);
        }

        @Override
        public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
            float[][] all = delegate.forward(batch);
            int[] argmax = new int[all.length];
            float[][] rows = new float[all.length][];
            for (int s = 0; s < all.length; s++) {
                argmax[s] = Sampler.argmax(all[s]);
                if (needLogits[s]) {
                    rows[s] = all[s];
                    given.incrementAndGet();
                } else {
                    withheld.incrementAndGet();
                }
            }
            return new StepOutput(rows, argmax);
        }
    }

    private static List<RequestOutput> run(Engine engine, String id, SamplingParams params) {
        int[] prompt = TinyModel.TOKENIZER.encode("The quick brown fox jumps over the lazy dog, again and again");
        return engine.submit(new GenerationRequest(id, prompt, params)).collectList().block(TIMEOUT);
    }

    private static String text(List<RequestOutput> outputs) {
        StringBuilder b = new StringBuilder();
        outputs.forEach(o -> b.append(o.text()));
        return b.toString();
    }

    @Test
    void plainGreedyRowsComeFromTheBackendsArgmaxAndOthersFromTheirLogits() {
        ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
        List<SamplingParams> cases = List.of(
                SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(false).build(),
                SamplingParams.builder().temperature(0).maxTokens(12).logprobs(2).build(),
                SamplingParams.builder().temperature(0).maxTokens(12).repetitionPenalty(1.3).build(),
                SamplingParams.builder().temperature(0).maxTokens(12).minTokens(5).build(),
                SamplingParams.builder().temperature(0.8).seed(5L).maxTokens(12).build());
        try (Engine plain = TinyModel.engine(); Engine argmax = TinyModel.engine(512, 96, 8, 40, b -> {
            wrapped[0] = new ArgmaxBackend(b);
            return wrapped[0];
        })) {
            for (int i = 0; i < cases.size(); i++) {
                List<RequestOutput> want = run(plain, "p" + i, cases.get(i));
                int withheldBefore = wrapped[0].withheld.get();
                int givenBefore = wrapped[0].given.get();
                List<RequestOutput> got = run(argmax, "a" + i, cases.get(i));
                assertThat(text(got)).as("case %d", i).isEqualTo(text(want));
                assertThat(got.get(got.size() - 1).finishReason()).isEqualTo(want.get(want.size() - 1).finishReason());
                if (i == 0) {
                    assertThat(wrapped[0].withheld.get() - withheldBefore).as("rows withheld for plain greedy").isPositive();
                    assertThat(wrapped[0].given.get() - givenBefore).as("rows copied for plain greedy").isZero();
                } else if (i != 3) {
                    assertThat(wrapped[0].withheld.get() - withheldBefore).as("rows withheld, case %d", i).isZero();
                }
            }
            // min_tokens masks EOS only until it is reached: the first steps need the row, later ones not.
            assertThat(wrapped[0].given.get()).isPositive();
        }
    }
}
