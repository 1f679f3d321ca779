package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * vLLM's {@code include_stop_str_in_output} keeps the text of a stop token id (or of EOS) too, not
 * only of a stop string: its detokenizer drops the stop-terminating token's text only when the flag
 * is off ({@code if stop_terminated and not self.include_stop_str_in_output}).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class StopTokenIncludedApiTest extends LiveServerApiTest {

    private static final String BODY = "{\"prompt\":\"x\",\"max_tokens\":10,\"logit_bias\":{\"65\":100},\"stop_token_ids\":[65]%s}";

    @Test
    void theStopTokensTextIsKeptWhenAsked() {
        JsonNode dropped = ApiTestSupport.post(client, "/v1/completions", BODY.formatted(""), HttpStatus.OK).get("choices").get(0);
        assertThat(dropped.get("finish_reason").asString()).isEqualTo("stop");
        assertThat(dropped.get("text").asString()).isEmpty();
        JsonNode kept = ApiTestSupport.post(client, "/v1/completions", BODY.formatted(",\"include_stop_str_in_output\":true"),
                HttpStatus.OK).get("choices").get(0);
        assertThat(kept.get("finish_reason").asString()).isEqualTo("stop");
        assertThat(kept.get("text").asString()).isEqualTo("A");
        // Streamed alike.
        String sse = ApiTestSupport.postRaw(client, "/v1/completions",
                BODY.formatted(",\"include_stop_str_in_output\":true,\"stream\":true"), HttpStatus.OK);
        StringBuilder text = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choices = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices");
            if (!choices.isEmpty()) text.append(choices.get(0).get("text").asString());
        }
        assertThat(text.toString()).isEqualTo("A");
    }
}
