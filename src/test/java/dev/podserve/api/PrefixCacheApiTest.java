package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * Prefix caching as a client sees it: a prompt that repeats an earlier one's start reports the
 * tokens it found cached in {@code usage.prompt_tokens_details.cached_tokens}, answers exactly as
 * before, and {@code /metrics} counts the hits.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PrefixCacheApiTest extends LiveServerApiTest {

    /** A system prompt long enough for several 16-token pages; the nonce keeps other tests' pages out of most of it. */
    private static String system() {
        return "You are the assistant of test " + UUID.randomUUID() + ". Answer briefly, in plain words, and never "
                + "repeat the question back. Keep every answer under forty words and do not use lists.";
    }

    private static String chatBody(String system, String user, boolean stream) {
        return "{\"messages\":[{\"role\":\"system\",\"content\":\"" + system + "\"},{\"role\":\"user\",\"content\":\""
                + user + "\"}],\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true"
                + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    private JsonNode chat(String body) {
        return ApiTestSupport.post(client, "/v1/chat/completions", body, HttpStatus.OK);
    }

    @Test
    void aRepeatedPromptStartReportsItsCachedTokensAndAnswersTheSame() {
        String system = system();
        JsonNode first = chat(chatBody(system, "What is a page?", false));
        JsonNode second = chat(chatBody(system, "What is a page?", false));
        JsonNode other = chat(chatBody(system, "Why cache it?", false));

        JsonNode u1 = first.get("usage");
        int prompt = u1.get("prompt_tokens").asInt();
        // The first finds at most the chat template's opening, which every test's prompt shares.
        int firstCached = u1.get("prompt_tokens_details").get("cached_tokens").asInt();
        assertThat(firstCached).isLessThan(64);
        int cached = second.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
        // Whole pages of 16, never the last prompt token, whose logits give the first output.
        assertThat(cached).isGreaterThan(firstCached).isLessThan(prompt);
        assertThat(cached % 16).isZero();
        assertThat(prompt - cached).isLessThanOrEqualTo(16);
        assertThat(second.get("choices").get(0).get("message").get("content").asString())
                .isEqualTo(first.get("choices").get(0).get("message").get("content").asString());
        // A different question after the same system prompt shares the pages before it differs.
        int otherCached = other.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
        assertThat(otherCached).isPositive().isLessThan(other.get("usage").get("prompt_tokens").asInt());
    }

    @Test
    void theStreamedUsageCarriesTheCachedTokensToo() {
        String system = system();
        chat(chatBody(system, "Hello there", false));
        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", chatBody(system, "Hello there", true), HttpStatus.OK);
        List<JsonNode> events = new ArrayList<>();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {")) events.add(ApiTestSupport.JSON.readTree(line.substring(6)));
        }
        JsonNode usage = events.get(events.size() - 1).get("usage");
        assertThat(usage.get("prompt_tokens_details").get("cached_tokens").asInt()).isPositive();
    }

    @Test
    void completionsCountEachPromptOnceAndScoringRequestsComputeTheirWholePrompt() {
        String text = system();
        ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"" + text + "\",\"max_tokens\":2}", HttpStatus.OK);
        JsonNode two = ApiTestSupport.post(client, "/v1/completions",
                "{\"prompt\":[\"" + text + "\",\"" + text + " More.\"],\"n\":2,\"max_tokens\":2}", HttpStatus.OK);
        int cached = two.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
        assertThat(cached).isPositive().isLessThan(two.get("usage").get("prompt_tokens").asInt());
        assertThat(cached % 16).isZero();
        JsonNode scored = ApiTestSupport.post(client, "/v1/completions",
                "{\"prompt\":\"" + text + "\",\"max_tokens\":0,\"echo\":true,\"logprobs\":1}", HttpStatus.OK);
        assertThat(scored.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt()).isZero();
    }

    @Test
    void aCacheSaltSharesPagesOnlyWithTheSameSaltAndMustNotBeEmpty() {
        String system = system();
        String plain = chatBody(system, "Salt?", false);
        chat(plain);
        String salted = plain.replace("\"max_tokens\"", "\"cache_salt\":\"tenant-" + UUID.randomUUID() + "\",\"max_tokens\"");
        JsonNode first = chat(salted);
        JsonNode again = chat(salted);
        JsonNode unsalted = chat(plain);
        int prompt = first.get("usage").get("prompt_tokens").asInt();
        // Salted, the first finds nothing of the unsalted run (its chain starts elsewhere); the second finds the first.
        assertThat(first.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt()).isZero();
        assertThat(again.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt()).isGreaterThan(prompt - 17);
        assertThat(unsalted.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt()).isGreaterThan(prompt - 17);
        ApiTestSupport.assertEnvelope(ApiTestSupport.post(client, "/v1/chat/completions",
                plain.replace("\"max_tokens\"", "\"cache_salt\":\"\",\"max_tokens\""), HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "cache_salt");
    }

    @Test
    void metricsCountQueriedAndCachedTokens() {
        String system = system();
        chat(chatBody(system, "Count me", false));
        chat(chatBody(system, "Count me", false));
        String metrics = client.get().uri("/metrics").exchange().expectStatus().isOk().expectBody(String.class)
                .returnResult().getResponseBody();
        assertThat(metrics).containsPattern("(?m)^vllm:prefix_cache_queries_total\\{[^}]*} [1-9]");
        assertThat(metrics).containsPattern("(?m)^vllm:prefix_cache_hits_total\\{[^}]*} [1-9]");
    }
}
