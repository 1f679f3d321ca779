package dev.podserve.api;

import static dev.podserve.api.ApiTestSupport.assertEnvelope;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * Under the default first-come-first-served policy a request's {@code priority} can only be 0: any
 * other is a 400 naming the field, as vLLM refuses it, rather than an urgency silently ignored.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PriorityRefusedUnderFcfsApiTest extends LiveServerApiTest {

    @Test
    void aNonZeroPriorityIsRefusedOnChatAndCompletions() {
        JsonNode chat = ApiTestSupport.post(client, "/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2,\"priority\":3}", HttpStatus.BAD_REQUEST);
        assertEnvelope(chat, 400, "BadRequestError", "priority");
        assertThat(chat.get("error").get("message").asString()).contains("priority 3", "podserve.scheduler.policy=priority");

        JsonNode text = ApiTestSupport.post(client, "/v1/completions",
                "{\"prompt\":\"Hi\",\"max_tokens\":2,\"priority\":-1}", HttpStatus.BAD_REQUEST);
        assertEnvelope(text, 400, "BadRequestError", "priority");
        assertThat(text.get("error").get("message").asString()).contains("priority -1");
    }

    @Test
    void priorityZeroIsTheDefaultAndAccepted() {
        JsonNode r = ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":2,\"priority\":0}", HttpStatus.OK);
        assertThat(r.get("choices")).hasSize(1);
    }
}
