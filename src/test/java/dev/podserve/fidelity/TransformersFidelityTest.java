package dev.podserve.fidelity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.podserve.config.ModelLoader;
import dev.podserve.engine.EngineListener;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TokenLogprob;
import dev.podserve.sampling.SamplingParams;

import tools.jackson.databind.JsonNode;

/**
 * podserve against HuggingFace transformers on real checkpoint folders: tokenization and chat
 * rendering identical, 32 greedy tokens identical, first-step log-probabilities within 1e-4.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TransformersFidelityTest {

    private final Map<String, ServingModel> loaded = new java.util.HashMap<>();

    private ServingModel model(String name) {
        return loaded.computeIfAbsent(name, n -> ModelLoader.load(Fixtures.properties(n), EngineListener.NONE));
    }

    @AfterAll
    void close() {
        loaded.values().forEach(m -> m.engine().close());
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String model : Fixtures.MODELS) {
            for (JsonNode c : Fixtures.cases(model)) out.add(Arguments.of(model, c.get("name").asString(), c));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void promptTokensAndChatRenderingMatch(String model, String name, JsonNode c) {
        ServingModel m = model(model);
        int[] expected = Fixtures.ints(c.get("prompt_ids"));
        if (c.get("kind").asString().equals("chat")) {
            String rendered = m.chatTemplate().render(Fixtures.messages(c.get("messages")), true, Map.of());
            assertThat(rendered).isEqualTo(c.get("rendered").asString());
            assertThat(m.tokenizer().encodeNoSpecial(rendered)).containsExactly(expected);
        } else {
            assertThat(m.tokenizer().encode(c.get("prompt").asString())).containsExactly(expected);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void greedyContinuationAndFirstLogprobsMatch(String model, String name, JsonNode c) {
        ServingModel m = model(model);
        int[] greedy = Fixtures.ints(c.get("greedy_ids"));
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(greedy.length).ignoreEos(true).logprobs(5).build();
        List<RequestOutput> outputs = m.engine().submit(new GenerationRequest(model + "-" + name,
                Fixtures.ints(c.get("prompt_ids")), params)).collectList().block(Duration.ofSeconds(120));
        List<Integer> tokens = new ArrayList<>();
        List<TokenLogprob> logprobs = new ArrayList<>();
        for (RequestOutput o : outputs) {
            for (int t : o.tokenIds()) tokens.add(t);
            logprobs.addAll(o.logprobs());
        }
        assertThat(tokens).containsExactly(java.util.Arrays.stream(greedy).boxed().toArray(Integer[]::new));
        JsonNode top5 = c.get("first_top5");
        TokenLogprob first = logprobs.get(0);
        for (int k = 0; k < 5; k++) {
            assertThat(first.topTokens()[k]).as("top-%d token", k).isEqualTo(top5.get(k).get(0).asInt());
            assertThat((double) first.topLogprobs()[k]).as("top-%d logprob", k).isCloseTo(top5.get(k).get(1).asDouble(), within(1e-4));
        }
    }
}
