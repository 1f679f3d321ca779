package dev.podserve.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

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

/** The Llama 3 fixture served over HTTP: token-id completions and chat give transformers' greedy text. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FixtureOverHttpTest {

    private static final String MODEL = "llama3-gqa";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) {
        registry.add("podserve.model.path", () -> Fixtures.dir(MODEL).toString());
        registry.add("podserve.model.served-name", () -> "fixture");
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

    @Test
    void tokenIdCompletionGivesTheGreedyText() {
        for (JsonNode c : Fixtures.cases(MODEL)) {
            if (!c.get("kind").asString().equals("text")) continue;
            JsonNode r = post("/v1/completions", "{\"model\":\"fixture\",\"prompt\":" + c.get("prompt_ids")
                    + ",\"max_tokens\":32,\"temperature\":0,\"ignore_eos\":true}");
            assertThat(r.get("choices").get(0).get("text").asString()).as(c.get("name").asString())
                    .isEqualTo(c.get("greedy_text").asString());
            assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(c.get("prompt_ids").size());
        }
    }

    @Test
    void chatGivesTheGreedyText() {
        for (JsonNode c : Fixtures.cases(MODEL)) {
            if (!c.get("kind").asString().equals("chat")) continue;
            JsonNode r = post("/v1/chat/completions", "{\"model\":\"fixture\",\"messages\":" + c.get("messages")
                    + ",\"max_tokens\":32,\"temperature\":0,\"ignore_eos\":true}");
            assertThat(r.get("choices").get(0).get("message").get("content").asString()).as(c.get("name").asString())
                    .isEqualTo(c.get("greedy_text").asString());
            assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(c.get("prompt_ids").size());
        }
    }

    @Test
    void modelsShowsTheServedNameAndFolder() throws Exception {
        byte[] out = WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build().get().uri("/v1/models")
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody();
        JsonNode card = JSON.readTree(out).get("data").get(0);
        assertThat(card.get("id").asString()).isEqualTo("fixture");
        assertThat(Path.of(card.get("root").asString())).isEqualTo(Fixtures.dir(MODEL));
        assertThat(card.get("max_model_len").asInt()).isEqualTo(1024);
        assertThat(Files.isDirectory(Fixtures.dir(MODEL))).isTrue();
    }
}
