package dev.podserve.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import dev.podserve.config.EngineHolder;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A checkpoint whose generation_config.json ships {@code max_new_tokens}: a chat that sets no length
 * generates that many tokens, as vLLM takes it for the default; a length the request sets wins, and
 * completions keep OpenAI's default of 16.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MaxNewTokensApiTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int SHIPPED = 5;

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("podserve.model.path", MaxNewTokensApiTest::checkpoint);
        registry.add("podserve.model.served-name", () -> "fixture");
    }

    /** The Llama 3 fixture with max_new_tokens added to its generation_config.json. */
    private static String checkpoint() {
        try {
            Path dir = Files.createTempDirectory("max-new-tokens");
            dir.toFile().deleteOnExit();
            try (var files = Files.list(Fixtures.dir("llama3-gqa"))) {
                for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName().toString()));
            }
            Path generation = dir.resolve("generation_config.json");
            ObjectNode config = (ObjectNode) JSON.readTree(Files.readString(generation));
            config.put("max_new_tokens", SHIPPED);
            Files.writeString(generation, JSON.writeValueAsString(config));
            return dir.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @BeforeAll
    void ready() throws InterruptedException {
        holder.await();
    }

    private JsonNode post(String path, String body) {
        byte[] out = WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build().post().uri(path)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange().expectStatus().isOk()
                .expectBody().returnResult().getResponseBody();
        return JSON.readTree(out);
    }

    private JsonNode chat(String length) {
        return post("/v1/chat/completions", "{\"model\": \"fixture\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                + "\"temperature\": 0, \"ignore_eos\": true" + length + "}");
    }

    @Test
    void aChatWithoutALengthGeneratesTheShippedMaxNewTokens() {
        JsonNode r = chat("");
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(SHIPPED);
        assertThat(r.get("choices").get(0).get("finish_reason").asString()).isEqualTo("length");
    }

    @Test
    void aLengthTheRequestSetsWins() {
        assertThat(chat(", \"max_tokens\": 9").get("usage").get("completion_tokens").asInt()).isEqualTo(9);
        assertThat(chat(", \"max_completion_tokens\": 2").get("usage").get("completion_tokens").asInt()).isEqualTo(2);
    }

    @Test
    void completionsKeepTheirOwnDefault() {
        JsonNode r = post("/v1/completions", "{\"model\": \"fixture\", \"prompt\": \"Hi\", \"temperature\": 0, \"ignore_eos\": true}");
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(16);
    }
}
