package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * vLLM's {@code truncate_prompt_tokens} over HTTP: the prompt (after the chat template) keeps its
 * last k tokens, which usage counts and the model sees (the answer is the one for those k tokens
 * sent as the prompt); -1 keeps as many as fit; 0, below -1, or more than the context leaves beside
 * max_tokens is a 400 naming the field. The embedded tokenizer is byte-level: a character is a token.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TruncatePromptTokensApiTest extends LiveServerApiTest {

    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz";

    private JsonNode post(String path, String body) {
        return ApiTestSupport.post(client, path, body, HttpStatus.OK);
    }

    @Test
    void textPromptsKeepTheirLastTokens() {
        JsonNode whole = post("/v1/completions", """
                {"prompt": "%s", "max_tokens": 8, "temperature": 0}""".formatted(ALPHABET));
        assertThat(whole.get("usage").get("prompt_tokens").asInt()).isEqualTo(26);
        JsonNode cut = post("/v1/completions", """
                {"prompt": "%s", "max_tokens": 8, "temperature": 0, "truncate_prompt_tokens": 5}""".formatted(ALPHABET));
        assertThat(cut.get("usage").get("prompt_tokens").asInt()).isEqualTo(5);
        JsonNode tail = post("/v1/completions", """
                {"prompt": "vwxyz", "max_tokens": 8, "temperature": 0}""");
        assertThat(cut.get("choices").get(0).get("text").asString()).isEqualTo(tail.get("choices").get(0).get("text").asString());
        // A prompt no longer than k, and -1 with a short prompt, are left whole.
        for (String k : new String[] {"26", "500", "-1"}) {
            JsonNode same = post("/v1/completions", """
                    {"prompt": "%s", "max_tokens": 8, "temperature": 0, "truncate_prompt_tokens": %s}""".formatted(ALPHABET, k));
            assertThat(same.get("usage").get("prompt_tokens").asInt()).as("k %s", k).isEqualTo(26);
        }
        // -1 with a prompt longer than the context keeps what leaves room for max_tokens; without it, a 400.
        int room = holder.require().maxRequestTokens();
        String longPrompt = "xy".repeat(room);
        JsonNode fitted = post("/v1/completions", """
                {"prompt": "%s", "max_tokens": 16, "temperature": 0, "truncate_prompt_tokens": -1}""".formatted(longPrompt));
        assertThat(fitted.get("usage").get("prompt_tokens").asInt()).isEqualTo(room - 16);
        ApiTestSupport.post(client, "/v1/completions", "{\"prompt\": \"" + longPrompt + "\", \"max_tokens\": 16}", HttpStatus.BAD_REQUEST);
        // Several prompts, ids among them, are each cut; an echo shows what the model was given.
        JsonNode many = post("/v1/completions", """
                {"prompt": [[97, 98, 99, 100, 101, 102], [120, 121]], "max_tokens": 1, "temperature": 0,
                 "truncate_prompt_tokens": 3, "echo": true}""");
        assertThat(many.get("usage").get("prompt_tokens").asInt()).isEqualTo(3 + 2);
        assertThat(many.get("choices").get(0).get("text").asString()).startsWith("def");
        assertThat(many.get("choices").get(1).get("text").asString()).startsWith("xy");
        JsonNode echoed = post("/v1/completions", """
                {"prompt": "%s", "max_tokens": 1, "temperature": 0, "truncate_prompt_tokens": 4, "echo": true}""".formatted(ALPHABET));
        assertThat(echoed.get("choices").get(0).get("text").asString()).startsWith("wxyz").doesNotStartWith("a");
    }

    @Test
    void chatPromptsAreCutAfterTheTemplate() {
        String messages = "[{\"role\": \"user\", \"content\": \"" + ALPHABET + "\"}]";
        JsonNode whole = post("/v1/chat/completions", """
                {"messages": %s, "max_tokens": 4, "temperature": 0}""".formatted(messages));
        int all = whole.get("usage").get("prompt_tokens").asInt();
        assertThat(all).isGreaterThan(26);
        JsonNode cut = post("/v1/chat/completions", """
                {"messages": %s, "max_tokens": 4, "temperature": 0, "truncate_prompt_tokens": 9}""".formatted(messages));
        assertThat(cut.get("usage").get("prompt_tokens").asInt()).isEqualTo(9);
        // Streamed: the usage chunk counts the cut prompt too.
        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", """
                {"messages": %s, "max_tokens": 4, "temperature": 0, "truncate_prompt_tokens": 12, "stream": true,
                 "stream_options": {"include_usage": true}}""".formatted(messages), HttpStatus.OK);
        Integer streamedPrompt = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode usage = ApiTestSupport.JSON.readTree(line.substring(6)).get("usage");
            if (usage != null && !usage.isNull()) streamedPrompt = usage.get("prompt_tokens").asInt();
        }
        assertThat(streamedPrompt).isEqualTo(12);
        // -1 with a prompt that fits leaves it whole.
        JsonNode fits = post("/v1/chat/completions", """
                {"messages": %s, "max_tokens": 4, "temperature": 0, "truncate_prompt_tokens": -1}""".formatted(messages));
        assertThat(fits.get("usage").get("prompt_tokens").asInt()).isEqualTo(all);
    }

    @Test
    void badValuesAreRefusedNamingTheField() {
        int maxModelLen = holder.require().maxModelLen();
        String[] values = {"0", "-2", "1.5", "\"x\"", Integer.toString(maxModelLen - 16 + 1), "9999999999"};
        for (String k : values) {
            JsonNode text = ApiTestSupport.post(client, "/v1/completions",
                    "{\"prompt\": \"Hi\", \"max_tokens\": 16, \"truncate_prompt_tokens\": " + k + "}", HttpStatus.BAD_REQUEST);
            ApiTestSupport.assertEnvelope(text, 400, "BadRequestError", "truncate_prompt_tokens");
            JsonNode chat = ApiTestSupport.post(client, "/v1/chat/completions",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 16, \"truncate_prompt_tokens\": "
                            + k + "}", HttpStatus.BAD_REQUEST);
            ApiTestSupport.assertEnvelope(chat, 400, "BadRequestError", "truncate_prompt_tokens");
        }
        // The limit leaves room for the output asked for: k up to max_model_len - max_tokens is fine.
        post("/v1/completions", "{\"prompt\": \"Hi\", \"max_tokens\": 16, \"truncate_prompt_tokens\": " + (maxModelLen - 16) + "}");
    }
}
