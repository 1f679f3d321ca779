package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * vLLM's {@code stream_options.continuous_usage_stats}: every chunk carries {@code usage}, its
 * prompt's tokens and its choice's completion tokens so far; the last chunk the response's usage.
 * Forced to "A" (65) with {@code max_tokens} 5, every choice writes 5 tokens.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ContinuousUsageStatsApiTest extends LiveServerApiTest {

    private static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2,\"max_tokens\":5,"
            + "\"logit_bias\":{\"65\":100},\"stream\":true,\"stream_options\":%s}";
    /** Two prompts of different lengths, so a chunk's prompt_tokens must be its own prompt's. */
    private static final String TEXT = "{\"prompt\":[\"x\",\"a longer prompt\"],\"max_tokens\":5,\"logit_bias\":{\"65\":100},"
            + "\"stream\":true,\"stream_options\":%s}";
    private static final String BOTH = "{\"include_usage\":true,\"continuous_usage_stats\":true}";

    private List<JsonNode> stream(String path, String body) {
        return StopReasonApiTest.events(ApiTestSupport.postRaw(client, path, body, HttpStatus.OK));
    }

    @Test
    void everyChatChunkCountsItsChoiceSoFar() {
        List<JsonNode> events = stream("/v1/chat/completions", CHAT.formatted(BOTH));
        JsonNode last = events.get(events.size() - 1);
        assertThat(last.get("choices")).isEmpty();
        int prompt = last.get("usage").get("prompt_tokens").asInt();
        Map<Integer, Integer> soFar = new HashMap<>();
        Map<Integer, String> text = new HashMap<>();
        int roles = 0;
        for (JsonNode event : events.subList(0, events.size() - 1)) {
            JsonNode usage = event.get("usage");
            assertThat(usage.isObject()).as("usage on %s", event).isTrue();
            JsonNode choice = event.get("choices").get(0);
            int c = choice.get("index").asInt();
            int completion = usage.get("completion_tokens").asInt();
            assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(prompt);
            assertThat(usage.get("total_tokens").asInt()).isEqualTo(prompt + completion);
            assertThat(usage.has("prompt_tokens_details")).as("cached-token details only in the last chunk").isFalse();
            if (choice.get("delta").has("role")) {
                roles++;
                assertThat(completion).as("a role chunk comes before any token").isZero();
            }
            // Every token is one "A": the count so far is the text so far.
            JsonNode content = choice.get("delta").get("content");
            if (content != null) text.merge(c, content.asString(), String::concat);
            assertThat(completion).as("choice %d's count in %s", c, event).isEqualTo(text.getOrDefault(c, "").length());
            soFar.put(c, completion);
        }
        assertThat(roles).isEqualTo(2);
        assertThat(soFar).isEqualTo(Map.of(0, 5, 1, 5));
        assertThat(last.get("usage").get("completion_tokens").asInt()).isEqualTo(soFar.get(0) + soFar.get(1));
        assertThat(last.get("usage").get("total_tokens").asInt()).isEqualTo(prompt + 10);
    }

    @Test
    void everyTextChunkCountsItsOwnPromptAndChoice() {
        List<JsonNode> events = stream("/v1/completions", TEXT.formatted(BOTH));
        JsonNode last = events.get(events.size() - 1);
        assertThat(last.get("choices")).isEmpty();
        Map<Integer, Integer> prompts = new HashMap<>();
        Map<Integer, Integer> soFar = new HashMap<>();
        Map<Integer, String> text = new HashMap<>();
        int chunks = 0;
        for (JsonNode event : events.subList(0, events.size() - 1)) {
            JsonNode usage = event.get("usage");
            assertThat(usage.isObject()).as("usage on %s", event).isTrue();
            int c = event.get("choices").get(0).get("index").asInt();
            int prompt = usage.get("prompt_tokens").asInt();
            int completion = usage.get("completion_tokens").asInt();
            assertThat(usage.get("total_tokens").asInt()).isEqualTo(prompt + completion);
            assertThat(prompts.computeIfAbsent(c, k -> prompt)).as("choice %d's prompt", c).isEqualTo(prompt);
            // Every token is one "A": the count so far is the text so far.
            text.merge(c, event.get("choices").get(0).get("text").asString(), String::concat);
            assertThat(completion).as("choice %d's count in %s", c, event).isEqualTo(text.get(c).length()).isPositive();
            soFar.put(c, completion);
            chunks++;
        }
        assertThat(chunks).isGreaterThan(2);
        assertThat(soFar).isEqualTo(Map.of(0, 5, 1, 5));
        assertThat(prompts.get(0)).isLessThan(prompts.get(1));
        assertThat(last.get("usage").get("prompt_tokens").asInt()).isEqualTo(prompts.get(0) + prompts.get(1));
        assertThat(last.get("usage").get("completion_tokens").asInt()).isEqualTo(10);
    }

    @Test
    void itNeedsIncludeUsageWhichItTurnsOnUnlessSetFalse() {
        // As in vLLM, where include_usage defaults to true inside stream_options: on with the flag alone.
        List<JsonNode> alone = stream("/v1/chat/completions", CHAT.formatted("{\"continuous_usage_stats\":true}"));
        assertThat(alone).allSatisfy(e -> assertThat(e.path("usage").isObject()).as("usage on %s", e).isTrue());
        assertThat(alone.get(alone.size() - 1).get("choices")).isEmpty();
        // include_usage false: no usage anywhere, the flag notwithstanding.
        List<JsonNode> off = stream("/v1/completions", TEXT.formatted("{\"include_usage\":false,\"continuous_usage_stats\":true}"));
        assertThat(off).allSatisfy(e -> assertThat(e.has("usage")).as("usage on %s", e).isFalse());
        // include_usage alone stays OpenAI's: null on every chunk but the usage chunk.
        List<JsonNode> openAi = stream("/v1/chat/completions", CHAT.formatted("{\"include_usage\":true}"));
        assertThat(openAi.subList(0, openAi.size() - 1)).allSatisfy(e -> assertThat(e.get("usage").isNull()).isTrue());
    }

    @Test
    void streamOptionsWithoutStreamIsA400() {
        String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":" + BOTH + "}";
        ApiTestSupport.assertEnvelope(ApiTestSupport.post(client, "/v1/chat/completions", chat, HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "stream_options");
        String text = "{\"prompt\":\"x\",\"stream\":false,\"stream_options\":" + BOTH + "}";
        ApiTestSupport.assertEnvelope(ApiTestSupport.post(client, "/v1/completions", text, HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "stream_options");
    }
}
