package dev.podserve.api;

import static dev.podserve.api.ApiTestSupport.assertEnvelope;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * A KV cache smaller than one full-context request (allowed: such requests stop at the cache's
 * size). A chat request that sets no length is the common case of every SDK; it must get the room
 * the cache leaves, not a 400 about a {@code max_tokens} it never sent.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "podserve.kv-cache.num-blocks=13", "podserve.kv-cache.block-size=16"})
class SmallKvCacheApiTest extends LiveServerApiTest {

    /** 13 pages of 16 tokens, against the embedded model's context of 4096. */
    private static final int CACHE_TOKENS = 13 * 16;

    @Test
    void aChatWithoutALengthGetsWhatTheCacheLeaves() {
        JsonNode r = ApiTestSupport.post(client, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"ignore_eos\":true,\"temperature\":0}", HttpStatus.OK);
        JsonNode usage = r.get("usage");
        assertThat(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt()).isEqualTo(CACHE_TOKENS);
        assertThat(r.get("choices").get(0).get("finish_reason").asString()).isEqualTo("length");
    }

    @Test
    void aLengthTheCacheCannotHoldIsStillRefused() {
        assertEnvelope(ApiTestSupport.post(client, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":" + CACHE_TOKENS + "}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "max_tokens");
    }

    @Test
    void aPromptTheCacheCannotHoldIsRefusedOnTheMessages() {
        JsonNode e = ApiTestSupport.post(client, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "word ".repeat(CACHE_TOKENS) + "\"}]}", HttpStatus.BAD_REQUEST);
        assertEnvelope(e, 400, "BadRequestError", "messages");
        assertThat(e.get("error").get("message").asString()).contains("KV cache holds at most " + CACHE_TOKENS + " tokens");
    }
}
