package dev.podserve.api;

import static dev.podserve.api.ApiTestSupport.assertEnvelope;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/** A served name shaped like a HuggingFace repository id, slash included, as vLLM deployments name models. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "podserve.model.served-name=acme/tiny-chat")
class SlashedServedNameApiTest extends LiveServerApiTest {

    private JsonNode get(String path, HttpStatus expected) {
        return ApiTestSupport.JSON.readTree(client.get().uri(path).exchange().expectStatus().isEqualTo(expected)
                .expectBody().returnResult().getResponseBody());
    }

    @Test
    void theModelIsFoundByItsWholeName() {
        assertThat(get("/v1/models/acme/tiny-chat", HttpStatus.OK).get("id").asString()).isEqualTo("acme/tiny-chat");
        assertThat(get("/v1/models", HttpStatus.OK).get("data").get(0).get("id").asString()).isEqualTo("acme/tiny-chat");
        assertEnvelope(get("/v1/models/acme", HttpStatus.NOT_FOUND), 404, "NotFoundError", "model");
        assertEnvelope(get("/v1/models/acme/tiny-chat/x", HttpStatus.NOT_FOUND), 404, "NotFoundError", "model");
        assertEnvelope(get("/v1/models/", HttpStatus.NOT_FOUND), 404, "NotFoundError", "model");
    }

    @Test
    void requestsNameItInModel() {
        JsonNode r = ApiTestSupport.post(client, "/v1/completions",
                "{\"model\":\"acme/tiny-chat\",\"prompt\":\"x\",\"max_tokens\":1}", HttpStatus.OK);
        assertThat(r.get("model").asString()).isEqualTo("acme/tiny-chat");
    }
}
