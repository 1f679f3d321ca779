package dev.podserve.api;

import static dev.podserve.api.ApiTestSupport.assertEnvelope;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/** With {@code podserve.scheduler.policy=priority}, any int priority is served, on chat and text, streamed or not. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "podserve.scheduler.policy=priority")
class PrioritySchedulingApiTest extends LiveServerApiTest {

    @Test
    void requestsWithAnyPriorityAreServed() {
        JsonNode chat = ApiTestSupport.post(client, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":3,\"ignore_eos\":true,\"n\":2,\"priority\":3}",
                HttpStatus.OK);
        assertThat(chat.get("choices")).hasSize(2);
        assertThat(chat.get("usage").get("completion_tokens").asInt()).isEqualTo(6);

        JsonNode text = ApiTestSupport.post(client, "/v1/completions",
                "{\"prompt\":\"Hi\",\"max_tokens\":3,\"ignore_eos\":true,\"priority\":-2147483648}", HttpStatus.OK);
        assertThat(text.get("usage").get("completion_tokens").asInt()).isEqualTo(3);

        String sse = ApiTestSupport.postRaw(client, "/v1/completions",
                "{\"prompt\":\"Hi\",\"max_tokens\":3,\"stream\":true,\"priority\":-7}", HttpStatus.OK);
        assertThat(sse).contains("data: [DONE]");
    }

    @Test
    void aPriorityMustBeAnInteger() {
        assertEnvelope(ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":2,\"priority\":1.5}",
                HttpStatus.BAD_REQUEST), 400, "BadRequestError", "priority");
    }
}
