package dev.podserve.engine;

import static dev.podserve.engine.RequestOutputs.text;
import static dev.podserve.engine.RequestOutputs.tokens;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.podserve.sampling.SamplingParams;

/**
 * The engine's use of a backend that takes each row's argmax itself (as the CUDA backend does on the
 * device): greedy requests whose logits processing can only ban tokens (none, or EOS and stop ids
 * below min_tokens) are sampled from the backend's argmax with no logits row copied,
 * a row whose argmax is banned is fetched after the step, requests that need the row (logprobs,
 * penalties, bias, sampling) still get it with the step, and the tokens are exactly those of the
 * ordinary path.
 */
class BackendArgmaxSamplingTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final int[] PROMPT = TinyModel.TOKENIZER.encode("The quick brown fox jumps over the lazy dog, again and again");

    private static List<RequestOutput> run(Engine engine, String id, SamplingParams params) {
        return engine.submit(new GenerationRequest(id, PROMPT, params)).collectList().block(TIMEOUT);
    }

    private static void assertSame(List<RequestOutput> got, List<RequestOutput> want, String what) {
        assertThat(tokens(got)).as("tokens, %s", what).containsExactly(tokens(want));
        assertThat(text(got)).as("text, %s", what).isEqualTo(text(want));
        assertThat(got.get(got.size() - 1).finishReason()).as("finish, %s", what).isEqualTo(want.get(want.size() - 1).finishReason());
    }

    @Test
    void greedyRowsComeFromTheBackendsArgmaxAndOthersFromTheirLogits() {
        ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(12).build();
        // Each case: its parameters, and whether its rows travel with the step.
        record Case(SamplingParams params, boolean needsRows) { }
        List<Case> cases = List.of(
                new Case(SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(false).build(), false),
                new Case(SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(true).build(), false),
                new Case(SamplingParams.builder().temperature(0).maxTokens(12).minTokens(5).stopTokenIds(List.of(7, 9)).build(), false),
                new Case(SamplingParams.builder().temperature(0).maxTokens(12).logprobs(2).build(), true),
                new Case(SamplingParams.builder().temperature(0).maxTokens(12).repetitionPenalty(1.3).build(), true),
                new Case(SamplingParams.builder().temperature(0).maxTokens(12).logitBias(Map.of(5, 2.0)).build(), true),
                new Case(SamplingParams.builder().temperature(0.8).seed(5L).maxTokens(12).build(), true));
        try (Engine plain = TinyModel.engine(); Engine argmax = TinyModel.engine(512, 96, 8, 40, b -> {
            wrapped[0] = new ArgmaxBackend(b);
            return wrapped[0];
        })) {
            for (int i = 0; i < cases.size(); i++) {
                Case c = cases.get(i);
                List<RequestOutput> want = run(plain, "p" + i, c.params());
                int withheldBefore = wrapped[0].withheld.get();
                int givenBefore = wrapped[0].given.get();
                List<RequestOutput> got = run(argmax, "a" + i, c.params());
                assertSame(got, want, "case " + i);
                int withheld = wrapped[0].withheld.get() - withheldBefore;
                int given = wrapped[0].given.get() - givenBefore;
                assertThat(c.needsRows() ? given : withheld).as("rows of the kind expected, case %d", i).isPositive();
                assertThat(c.needsRows() ? withheld : given).as("rows of the other kind, case %d", i).isZero();
            }
            assertThat(wrapped[0].late.get()).as("no argmax was banned: the model's EOS never won").isZero();
            assertThat(greedy.ignoreEos()).isFalse();
        }
    }

    /**
     * Makes a token the model does pick greedily the "EOS", so that under min_tokens the device's
     * argmax is banned at that step: the row must then be fetched and the second-best token taken,
     * exactly as the host path does. Under ignore_eos nothing is banned: the EOS comes out and
     * generation goes on past it, as in vLLM. Without either the request stops there.
     */
    @Test
    void aBannedArgmaxFetchesItsRowAfterTheStep() {
        int[] free;
        try (Engine plain = TinyModel.engine()) {
            free = tokens(run(plain, "free", SamplingParams.builder().temperature(0).maxTokens(16).ignoreEos(true).build()));
        }
        int eos = free[3];
        ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
        // What the engine reports to its listener: [from the argmax, with the step, fetched late].
        AtomicInteger[] reported = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
        EngineListener listener = new EngineListener() {
            @Override
            public void onSampled(int fromDeviceArgmax, int drawnOnDevice, int withStep, int late) {
                assertThat(drawnOnDevice).isZero();
                reported[0].addAndGet(fromDeviceArgmax);
                reported[1].addAndGet(withStep);
                reported[2].addAndGet(late);
            }
        };
        List<SamplingParams> cases = List.of(
                SamplingParams.builder().temperature(0).maxTokens(16).minTokens(16).build(),
                SamplingParams.builder().temperature(0).maxTokens(16).ignoreEos(true).build(),
                SamplingParams.builder().temperature(0).maxTokens(16).build());
        try (Engine plain = TinyModel.engine(512, 96, 8, 40, new int[] {eos}, b -> b);
             Engine argmax = TinyModel.engine(512, 96, 8, 40, new int[] {eos}, b -> {
                 wrapped[0] = new ArgmaxBackend(b);
                 return wrapped[0];
             }, listener)) {
            for (int i = 0; i < cases.size(); i++) {
                int lateBefore = wrapped[0].late.get();
                List<RequestOutput> want = run(plain, "p" + i, cases.get(i));
                List<RequestOutput> got = run(argmax, "a" + i, cases.get(i));
                assertSame(got, want, "case " + i);
                assertThat(wrapped[0].given.get()).as("rows sent with a step").isZero();
                int[] t = tokens(got);
                if (i == 0) {
                    assertThat(wrapped[0].late.get() - lateBefore).as("rows fetched late, case %d", i).isPositive();
                    assertThat(t).as("the banned token never comes out").doesNotContain(eos).hasSize(16);
                    assertThat(java.util.Arrays.copyOf(t, 3)).containsExactly(java.util.Arrays.copyOf(free, 3));
                } else if (i == 1) {
                    assertThat(wrapped[0].late.get() - lateBefore).as("nothing banned under ignore_eos").isZero();
                    assertThat(t).as("the EOS comes out and generation goes on").containsExactly(free);
                    assertThat(got.get(got.size() - 1).finishReason()).isEqualTo(FinishReason.LENGTH);
                } else {
                    assertThat(wrapped[0].late.get() - lateBefore).as("nothing banned: no row fetched").isZero();
                    assertThat(t).as("stops at the EOS, which is counted").containsExactly(java.util.Arrays.copyOf(free, 4));
                    assertThat(got.get(got.size() - 1).finishReason()).isEqualTo(FinishReason.STOP);
                }
            }
            assertThat(reported[2].get()).as("late rows reported").isEqualTo(wrapped[0].late.get());
            assertThat(reported[1].get()).as("rows with a step reported").isZero();
            assertThat(reported[0].get() + reported[2].get()).as("one row a token")
                    .isEqualTo(16 + 16 + 4);
        }
    }
}
