package dev.podserve.engine;

import static dev.podserve.engine.RequestOutputs.text;
import static dev.podserve.engine.RequestOutputs.tokens;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.podserve.sampling.SamplingParams;
import dev.podserve.structured.OutputGrammar;
import dev.podserve.structured.SchemaCompiler;

import tools.jackson.databind.json.JsonMapper;

/**
 * Structured outputs in the engine: every path a row's token can take (the host's full row, a
 * device argmax that stands, one the format refuses and that is fetched late, a draw the format
 * keeps on the host) gives the same tokens as the plain engine, the request ends the step its
 * value closes, and many requests side by side with and without formats stay apart.
 */
class StructuredOutputEngineTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int[] PROMPT = TinyModel.TOKENIZER.encode("Answer in JSON, please: who are you?");
    private static final OutputGrammar SCHEMA = OutputGrammar.jsonSchema(SchemaCompiler.compile(JSON.readTree("""
            {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string", "maxLength": 5},
             "flags": {"type": "array", "items": {"type": "boolean"}, "maxItems": 2}},
             "required": ["id", "name", "flags"]}""")), "t");

    private static List<RequestOutput> run(Engine engine, String id, SamplingParams params, OutputGrammar grammar) {
        return engine.submit(new GenerationRequest(id, PROMPT, params).withGrammar(grammar)).collectList().block(TIMEOUT);
    }

    @Test
    void everySamplingPathGivesTheSameValidOutput() {
        ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
        List<SamplingParams> cases = List.of(
                SamplingParams.builder().temperature(0).maxTokens(600).build(),
                SamplingParams.builder().temperature(0.9).seed(4L).maxTokens(600).build(),
                SamplingParams.builder().temperature(0.7).seed(5L).topK(20).maxTokens(600).logprobs(2).build());
        try (Engine plain = TinyModel.engine(); Engine argmax = TinyModel.engine(512, 96, 8, 40, b -> {
            wrapped[0] = new ArgmaxBackend(b);
            return wrapped[0];
        })) {
            for (int i = 0; i < cases.size(); i++) {
                List<RequestOutput> want = run(plain, "p" + i, cases.get(i), SCHEMA);
                List<RequestOutput> got = run(argmax, "a" + i, cases.get(i), SCHEMA);
                assertThat(tokens(got)).as("case %d", i).containsExactly(tokens(want));
                assertThat(want.get(want.size() - 1).finishReason()).as("case %d: %s", i, text(want)).isEqualTo(FinishReason.STOP);
                assertThat(SCHEMA.matches(text(want).getBytes(java.nio.charset.StandardCharsets.UTF_8))).as(text(want)).isTrue();
                // Ended on the closing brace: no end token was spent, and nothing follows the value.
                assertThat(text(want)).endsWith("}");
                int last = tokens(want)[tokens(want).length - 1];
                assertThat(plain.eosTokenIds()).doesNotContain(last);
                assertThat(want.get(want.size() - 1).completionTokens()).isEqualTo(tokens(want).length);
            }
            // The greedy case kept its argmax where the format allowed it and fetched the row where not.
            assertThat(wrapped[0].withheld.get()).isPositive();
            assertThat(wrapped[0].late.get()).isPositive();
        }
    }

    /**
     * With masks applied on the "device" side, a constrained row is picked there like any other:
     * greedy by argmax and sampled by a draw, with no row copied back or fetched late, and the same
     * tokens as the host path.
     */
    @Test
    void masksOnTheDeviceGiveTheSameTokensWithNoRowCopied() {
        ArgmaxBackend[] wrapped = new ArgmaxBackend[1];
        List<SamplingParams> cases = List.of(
                SamplingParams.builder().temperature(0).maxTokens(600).build(),
                SamplingParams.builder().temperature(0.9).seed(4L).maxTokens(600).build(),
                SamplingParams.builder().temperature(0.6).seed(8L).topP(0.9).minTokens(3).maxTokens(600).build());
        try (Engine plain = TinyModel.engine(); Engine device = TinyModel.engine(512, 96, 8, 40, b -> {
            wrapped[0] = ArgmaxBackend.masking(b, Integer.MAX_VALUE);
            return wrapped[0];
        })) {
            for (int i = 0; i < cases.size(); i++) {
                List<RequestOutput> want = run(plain, "p" + i, cases.get(i), SCHEMA);
                List<RequestOutput> got = run(device, "d" + i, cases.get(i), SCHEMA);
                assertThat(tokens(got)).as("case %d", i).containsExactly(tokens(want));
                assertThat(SCHEMA.matches(text(got).getBytes(java.nio.charset.StandardCharsets.UTF_8))).as(text(got)).isTrue();
            }
            assertThat(wrapped[0].masked.get()).isPositive();
            assertThat(wrapped[0].drawn.get()).isPositive();
            assertThat(wrapped[0].given.get()).as("rows copied with the step").isZero();
            assertThat(wrapped[0].late.get()).as("rows fetched after it").isZero();
        }
    }

    @Test
    void constrainedAndFreeRequestsShareBatchesWithoutMixingUp() {
        try (Engine engine = TinyModel.engine(); Engine alone = TinyModel.engine()) {
            List<reactor.core.publisher.Flux<RequestOutput>> fluxes = new ArrayList<>();
            List<SamplingParams> params = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                SamplingParams p = SamplingParams.builder().temperature(0.8).seed((long) i).maxTokens(400).build();
                params.add(p);
                OutputGrammar g = i % 3 == 0 ? null : i % 3 == 1 ? SCHEMA : OutputGrammar.jsonObject();
                fluxes.add(engine.submit(new GenerationRequest("r" + i, PROMPT, p).withGrammar(g)));
            }
            List<List<RequestOutput>> together = reactor.core.publisher.Flux.fromIterable(fluxes)
                    .flatMapSequential(f -> f.collectList(), 8).collectList().block(TIMEOUT);
            for (int i = 0; i < 8; i++) {
                OutputGrammar g = i % 3 == 0 ? null : i % 3 == 1 ? SCHEMA : OutputGrammar.jsonObject();
                // The same seed alone gives the same tokens: a request's rule and draws are its own.
                List<RequestOutput> solo = run(alone, "s" + i, params.get(i), g);
                assertThat(tokens(together.get(i))).as("request %d", i).containsExactly(tokens(solo));
                if (g != null && together.get(i).get(together.get(i).size() - 1).finishReason() == FinishReason.STOP) {
                    assertThat(g.matches(text(together.get(i)).getBytes(java.nio.charset.StandardCharsets.UTF_8))).isTrue();
                }
            }
        }
    }

    /**
     * Values inside free text ({@code tool_choice: "auto"}): here any vowel or blank opens one, so
     * the random model's answer goes in and out of the schema many times. The rule binds a row only
     * inside a value, and each path (host row, device argmax with late fetches, masks and draws on
     * the "device") must still give the plain engine's tokens.
     */
    @Test
    void valuesInsideFreeTextTakeEveryPathAlike() {
        List<byte[]> openers = new ArrayList<>();
        for (char c : "aeiou ".toCharArray()) openers.add(new byte[] {(byte) c});
        OutputGrammar inText = OutputGrammar.triggered(SCHEMA, new dev.podserve.structured.ValueTriggers(openers, new int[0], false, null), -1);
        ArgmaxBackend[] argmax = new ArgmaxBackend[1];
        ArgmaxBackend[] masking = new ArgmaxBackend[1];
        List<SamplingParams> cases = List.of(
                SamplingParams.builder().temperature(0).maxTokens(500).build(),
                SamplingParams.builder().temperature(0.9).seed(4L).maxTokens(500).build(),
                SamplingParams.builder().temperature(0.7).seed(6L).topK(30).maxTokens(500).build());
        try (Engine plain = TinyModel.engine();
             Engine a = TinyModel.engine(512, 96, 8, 40, b -> argmax[0] = new ArgmaxBackend(b));
             Engine d = TinyModel.engine(512, 96, 8, 40, b -> masking[0] = ArgmaxBackend.masking(b, Integer.MAX_VALUE))) {
            int values = 0;
            for (int i = 0; i < cases.size(); i++) {
                List<RequestOutput> want = run(plain, "p" + i, cases.get(i), inText);
                assertThat(tokens(run(a, "a" + i, cases.get(i), inText))).as("case %d", i).containsExactly(tokens(want));
                assertThat(tokens(run(d, "d" + i, cases.get(i), inText))).as("case %d", i).containsExactly(tokens(want));
                values += text(want).split("\"flags\"", -1).length - 1;
            }
            assertThat(values).as("the answers opened values").isGreaterThan(3);
            assertThat(masking[0].masked.get()).as("rows masked on the device").isPositive();
            assertThat(masking[0].given.get() + masking[0].late.get()).as("rows copied to the host").isZero();
        }
    }

    @Test
    void ignoreEosCannotBeCombinedWithAFormat() {
        try (Engine engine = TinyModel.engine()) {
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(10).ignoreEos(true).build();
            assertThatThrownBy(() -> engine.submit(new GenerationRequest("x", PROMPT, p).withGrammar(OutputGrammar.jsonObject())))
                    .isInstanceOf(RequestRejectedException.class).hasMessageContaining("ignore_eos");
        }
    }
}
