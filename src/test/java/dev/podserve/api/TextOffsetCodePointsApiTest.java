package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * {@code text_offset} over HTTP with text outside the BMP: offsets are Python string indices
 * (code points) into the choice's text, as vLLM's streaming offsets ({@code len(delta_text)}) and
 * the echo's "generated tokens start at len(prompt)" are.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(ScriptedAnswers.class)
class TextOffsetCodePointsApiTest extends LiveServerApiTest {

    @Test
    void streamedOffsetsCountAnEmojiAsOneCharacter() {
        ScriptedAnswers.answer(holder, "\uD83D\uDE00ab");
        String sse = ApiTestSupport.postRaw(client, "/v1/completions", "{\"prompt\": \"Hi\", \"stream\": true, \"logprobs\": 0,"
                + " \"max_tokens\": 10, \"temperature\": 0}", HttpStatus.OK);
        StringBuilder text = new StringBuilder();
        List<String> tokens = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choices = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices");
            if (choices.isEmpty()) continue;
            JsonNode c = choices.get(0);
            text.append(c.get("text").asString());
            JsonNode lp = c.get("logprobs");
            if (lp == null || lp.isNull()) continue;
            for (int i = 0; i < lp.get("tokens").size(); i++) {
                tokens.add(lp.get("tokens").get(i).asString());
                offsets.add(lp.get("text_offset").get(i).asInt());
            }
        }
        assertThat(text.toString()).isEqualTo("\uD83D\uDE00ab");
        // "a" starts after the emoji: Python's len("\U0001F600") is 1.
        int a = tokens.indexOf("a");
        assertThat(a).isPositive();
        assertThat(offsets.get(a)).isEqualTo(1);
        assertThat(offsets.get(a + 1)).isEqualTo(2);
    }

    @Test
    void theEchoedPromptsLengthIsCountedInCodePoints() {
        ScriptedAnswers.answer(holder, "ab");
        String prompt = "\uD83D\uDE00 ok";
        JsonNode r = ApiTestSupport.post(client, "/v1/completions", "{\"prompt\": \"" + prompt + "\", \"echo\": true,"
                + " \"logprobs\": 0, \"max_tokens\": 2, \"temperature\": 0}", HttpStatus.OK);
        JsonNode c = r.get("choices").get(0);
        assertThat(c.get("text").asString()).isEqualTo(prompt + "ab");
        JsonNode lp = c.get("logprobs");
        int n = lp.get("tokens").size();
        int cps = prompt.codePointCount(0, prompt.length());
        // The generated tokens start at len(prompt) == 4 in Python, and never point past the text.
        assertThat(lp.get("text_offset").get(n - 2).asInt()).isEqualTo(cps);
        assertThat(lp.get("text_offset").get(n - 1).asInt()).isEqualTo(cps + 1);
    }
}
