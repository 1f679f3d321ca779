package dev.podserve.api;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.BackendDecorator;
import dev.podserve.backend.ForwardingBackend;
import dev.podserve.config.EngineHolder;
import dev.podserve.sampling.DeviceDraw;

/**
 * Steers the embedded model to a scripted answer, for API tests of what the server makes of
 * answers a random model would never write (tool calls, thinking): its logits are pushed, position
 * by position, towards the script's tokens, then to the end token. Masks of structured outputs
 * still have the last word, so where the script leaves a format, the format wins. One request at
 * a time; {@code @Import} this into the test class.
 */
@TestConfiguration(proxyBeanMethods = false)
class ScriptedAnswers {

    /** The answer the model is pushed towards: token ids, then the end; null: left alone. */
    private static volatile int[] script;
    private static volatile int endToken;
    /** Position just past the prompt of the request running. */
    private static volatile int promptEnd;

    /** From the next request on, the model writes {@code text} (then ends) wherever it may. */
    static void answer(EngineHolder holder, String text) {
        var model = holder.require();
        endToken = model.tokenizer().eosTokenId().orElseThrow();
        script = model.tokenizer().encodeNoSpecial(text);
    }

    @Bean
    BackendDecorator scripted() {
        return inner -> new ForwardingBackend(inner) {
            @Override
            public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
                return new StepOutput(steer(batch, delegate.forward(batch)), null);
            }

            @Override
            public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws) {
                return forwardForSampling(batch, needLogits);
            }

            @Override
            public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws,
                                                 java.util.function.Supplier<long[][]> masks) {
                return forwardForSampling(batch, needLogits);
            }
        };
    }

    /** Adds a large logit to the script's token at each sampled row's output position. */
    private static float[][] steer(HybridBatch batch, float[][] logits) {
        int[] s = script;
        if (s == null) return logits;
        for (int i = 0; i < batch.sampleRequests().length; i++) {
            int r = batch.sampleRequests()[i];
            int position = batch.positions()[batch.qoIndptr()[r + 1] - 1];
            // A prompt's last row samples the first output token.
            if (r < batch.numPrefillRequests()) promptEnd = position + 1;
            int k = position + 1 - promptEnd;
            if (k >= 0 && k <= s.length) logits[i][k < s.length ? s[k] : endToken] += 1000f;
        }
        return logits;
    }
}
