package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * vLLM's {@code allowed_token_ids} and {@code bad_words} over HTTP, on the embedded model (byte-level:
 * a character is a token, so a word is banned exactly as it is written): the output keeps to the
 * allowed tokens and never contains a bad word, in chat and text completions, streamed or not, for
 * every choice, inside a structured output's grammar; bad values are 400s naming the field.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TokenBansApiTest extends LiveServerApiTest {

    private JsonNode post(String path, String body) {
        return ApiTestSupport.post(client, path, body, HttpStatus.OK);
    }

    /** The streamed text of choice 0, content deltas (chat) or text (completions) joined. */
    private String streamed(String path, String body) {
        String sse = ApiTestSupport.postRaw(client, path, body, HttpStatus.OK);
        StringBuilder text = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choices = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices");
            if (choices.isEmpty()) continue;
            JsonNode c = choices.get(0);
            JsonNode piece = c.has("delta") ? c.get("delta").get("content") : c.get("text");
            if (piece != null && !piece.isNull()) text.append(piece.asString());
        }
        return text.toString();
    }

    @Test
    void allowedTokenIdsRestrictEveryChoice() {
        // a, b, c only: no EOS among them, so every choice runs to max_tokens.
        JsonNode r = post("/v1/completions", """
                {"prompt": "Say:", "max_tokens": 40, "temperature": 1.0, "seed": 5, "n": 3, "allowed_token_ids": [97, 98, 99]}""");
        for (JsonNode c : r.get("choices")) {
            assertThat(c.get("text").asString()).as("choice %s", c).matches("[abc]{40}");
            assertThat(c.get("finish_reason").asString()).isEqualTo("length");
        }
        JsonNode chat = post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 30, "temperature": 0,
                 "allowed_token_ids": [120, 121, 122]}""");
        assertThat(chat.get("choices").get(0).get("message").get("content").asString()).matches("[xyz]{30}");
    }

    @Test
    void badWordsNeverAppearEvenWhereTheBiasWantsThem() {
        // The bias makes e, t and h the model's favourites: without the bans the text is full of them.
        JsonNode r = post("/v1/completions", """
                {"prompt": "Write:", "max_tokens": 120, "temperature": 1.0, "seed": 11, "n": 4,
                 "logit_bias": {"101": 5, "116": 5, "104": 5}, "bad_words": ["e", "th"]}""");
        for (JsonNode c : r.get("choices")) {
            String text = c.get("text").asString();
            assertThat(text).as("choice %s", c).doesNotContain("e").doesNotContain("th");
            // The bans take only what completes a word: t and h still come out, just never t then h.
            assertThat(text).contains("t").contains("h");
        }
        // Greedy, with e the argmax at every step: the next best comes out instead.
        JsonNode greedy = post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 30, "temperature": 0,
                 "logit_bias": {"101": 100}, "bad_words": ["  e"]}""");
        String content = greedy.get("choices").get(0).get("message").get("content").asString();
        assertThat(content).doesNotContain("e").isNotEmpty();
    }

    @Test
    void streamedAnswersKeepTheBansToo() {
        String chat = streamed("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 60, "temperature": 1.2, "seed": 2,
                 "stream": true, "allowed_token_ids": [116, 104, 101, 97, 32], "bad_words": ["e", "th", "a a"]}""");
        assertThat(chat).hasSize(60).matches("[tha ]+").doesNotContain("th").doesNotContain("a a");
        String text = streamed("/v1/completions", """
                {"prompt": "Go", "max_tokens": 50, "temperature": 0, "stream": true,
                 "logit_bias": {"120": 100, "121": 99}, "bad_words": ["xx", "yy"]}""");
        // x is the favourite and y the next: a ban on each pair leaves them taking turns.
        assertThat(text).hasSize(50).doesNotContain("xx").doesNotContain("yy").contains("xy");
    }

    @Test
    void theBansNarrowAStructuredOutputsGrammar() {
        // The grammar allows four words; allowed_token_ids rule out pig (no p, no i), bad_words cat and dog: only cow is left.
        JsonNode r = post("/v1/completions", """
                {"prompt": "Animal:", "max_tokens": 10, "temperature": 1.5, "seed": 8, "n": 6,
                 "structured_outputs": {"choice": ["dog", "cat", "cow", "pig"]},
                 "allowed_token_ids": [99, 97, 116, 111, 119, 100, 103, 256, 258], "bad_words": ["a", "d"]}""");
        for (JsonNode c : r.get("choices")) {
            assertThat(c.get("text").asString()).as("choice %s", c).isEqualTo("cow");
            assertThat(c.get("finish_reason").asString()).isEqualTo("stop");
        }
        String chat = streamed("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Pick"}], "max_tokens": 10, "temperature": 1.5, "seed": 9,
                 "stream": true, "structured_outputs": {"choice": ["dog", "cat", "cow", "pig"]},
                 "allowed_token_ids": [99, 97, 116, 111, 119, 100, 103, 256, 258], "bad_words": ["a", "d"]}""");
        assertThat(chat).isEqualTo("cow");
    }

    @Test
    void badValuesAreRefusedNamingTheField() {
        String[][] cases = {
                {"\"allowed_token_ids\": []", "allowed_token_ids"},
                {"\"allowed_token_ids\": [-1]", "allowed_token_ids"},
                {"\"allowed_token_ids\": [97, 259]", "allowed_token_ids"},
                {"\"allowed_token_ids\": [null]", "allowed_token_ids"},
                {"\"allowed_token_ids\": 97", "allowed_token_ids"},
                {"\"bad_words\": [\"\"]", "bad_words"},
                {"\"bad_words\": [\"  \"]", "bad_words"},
                {"\"bad_words\": [\"ok\", null]", "bad_words"},
                {"\"bad_words\": \"e\"", "bad_words"},
        };
        for (String[] c : cases) {
            JsonNode chat = ApiTestSupport.post(client, "/v1/chat/completions",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], " + c[0] + "}", HttpStatus.BAD_REQUEST);
            ApiTestSupport.assertEnvelope(chat, 400, "BadRequestError", c[1]);
            JsonNode text = ApiTestSupport.post(client, "/v1/completions", "{\"prompt\": \"Hi\", " + c[0] + "}", HttpStatus.BAD_REQUEST);
            ApiTestSupport.assertEnvelope(text, 400, "BadRequestError", c[1]);
        }
    }
}
