package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** Plain HTTP helpers for the API tests: post JSON, read the whole body, check the error envelope. */
final class ApiTestSupport {

    static final ObjectMapper JSON = JsonMapper.builder().build();

    private ApiTestSupport() {
    }

    static WebTestClient client(int port) {
        return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(60)).build();
    }

    static String postRaw(WebTestClient client, String path, String body, HttpStatus expected) {
        byte[] bytes = client.post().uri(path).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isEqualTo(expected).expectBody().returnResult().getResponseBody();
        return bytes == null ? "" : new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    static JsonNode post(WebTestClient client, String path, String body, HttpStatus expected) {
        return JSON.readTree(postRaw(client, path, body, expected));
    }

    static void assertEnvelope(JsonNode body, int code, String type, String param) {
        JsonNode e = body.get("error");
        assertThat(e).as("error envelope in %s", body).isNotNull();
        assertThat(e.get("code").asInt()).isEqualTo(code);
        assertThat(e.get("type").asString()).isEqualTo(type);
        assertThat(e.get("message").asString()).isNotBlank();
        assertThat(e.get("message").asString().length()).isLessThanOrEqualTo(1000);
        if (param == null) assertThat(e.get("param").isNull()).as("param of %s", body).isTrue();
        else assertThat(e.get("param").asString()).isEqualTo(param);
    }
}
