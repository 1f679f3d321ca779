package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.MediaType;

import tools.jackson.databind.JsonNode;

/** With API keys, each key's requests share cached prompt pages only with that key's own. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "podserve.security.api-keys=first-key-0123,second-key-4567")
class PrefixCacheIsolationApiTest extends LiveServerApiTest {

    private int cachedTokens(String key, String body) {
        byte[] bytes = client.post().uri("/v1/completions").header("Authorization", "Bearer " + key)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange().expectStatus().isOk()
                .expectBody().returnResult().getResponseBody();
        JsonNode r = ApiTestSupport.JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
        return r.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
    }

    @Test
    void anotherKeysPromptIsNotFoundButOnesOwnIs() {
        String body = "{\"prompt\":\"Shared start " + UUID.randomUUID() + ": a prompt long enough to fill a few pages of sixteen"
                + " tokens each.\",\"max_tokens\":2}";
        assertThat(cachedTokens("first-key-0123", body)).isZero();
        assertThat(cachedTokens("second-key-4567", body)).as("another key's pages").isZero();
        assertThat(cachedTokens("first-key-0123", body)).as("its own pages").isPositive();
        assertThat(cachedTokens("second-key-4567", body)).isPositive();
    }
}
