package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * A message's text parts are joined as vLLM joins them, {@code "\n".join(texts)}: an empty first
 * part still puts its newline before the second.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ContentPartsJoinApiTest extends LiveServerApiTest {

    private JsonNode tokens(String content) {
        return ApiTestSupport.post(client, "/tokenize", "{\"messages\": [{\"role\": \"user\", \"content\": " + content + "}]}",
                HttpStatus.OK).get("tokens");
    }

    @Test
    void anEmptyFirstPartKeepsItsNewline() {
        assertThat(tokens("[{\"type\": \"text\", \"text\": \"\"}, {\"type\": \"text\", \"text\": \"b\"}]"))
                .isEqualTo(tokens("\"\\nb\""));
    }
}
