package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

import dev.podserve.config.EngineHolder;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** The HTTP surface over a real port, on the embedded default model. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompletionsApiTest {

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @Autowired
    ObjectMapper json;

    WebTestClient client;

    @BeforeAll
    void modelReady() throws InterruptedException {
        holder.await();
    }

    @BeforeEach
    void client() {
        client = WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(60)).build();
    }

    private JsonNode post(String path, String body, HttpStatus expected) {
        byte[] bytes = client.post().uri(path).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isEqualTo(expected).expectBody().returnResult().getResponseBody();
        return json.readTree(bytes);
    }

    private static void assertEnvelope(JsonNode body, int code, String type, String param) {
        JsonNode e = body.get("error");
        assertThat(e).as("error envelope in %s", body).isNotNull();
        assertThat(e.get("code").asInt()).isEqualTo(code);
        assertThat(e.get("type").asString()).isEqualTo(type);
        assertThat(e.get("message").asString()).isNotBlank();
        if (param == null) assertThat(e.get("param").isNull()).isTrue();
        else assertThat(e.get("param").asString()).isEqualTo(param);
    }

    /** vLLM's include_stop_str_in_output: the stop string that ended the text stays at its end, whole and streamed. */
    @Test
    void includeStopStrInOutputKeepsTheStopString() {
        String body = "{\"prompt\":\"x\",\"max_tokens\":10,\"logit_bias\":{\"65\":100},\"stop\":[\"AA\"]%s}";
        JsonNode dropped = ApiTestSupport.post(client, "/v1/completions", body.formatted(""), HttpStatus.OK).get("choices").get(0);
        assertThat(dropped.get("text").asString()).isEmpty();
        JsonNode kept = ApiTestSupport.post(client, "/v1/completions", body.formatted(",\"include_stop_str_in_output\":true"),
                HttpStatus.OK).get("choices").get(0);
        assertThat(kept.get("finish_reason").asString()).isEqualTo("stop");
        assertThat(kept.get("text").asString()).isEqualTo("AA");
    }

    @Test
    void healthAndModels() {
        client.get().uri("/health").exchange().expectStatus().isOk();
        JsonNode models = json.readTree(client.get().uri("/v1/models").exchange().expectStatus().isOk()
                .expectBody().returnResult().getResponseBody());
        assertThat(models.get("object").asString()).isEqualTo("list");
        JsonNode card = models.get("data").get(0);
        assertThat(card.get("id").asString()).isEqualTo("podserve-tiny");
        assertThat(card.get("object").asString()).isEqualTo("model");
        assertThat(card.get("max_model_len").asInt()).isEqualTo(4096);
        client.get().uri("/v1/models/podserve-tiny").exchange().expectStatus().isOk();
        JsonNode missing = json.readTree(client.get().uri("/v1/models/gpt-4").exchange().expectStatus().isNotFound()
                .expectBody().returnResult().getResponseBody());
        assertEnvelope(missing, 404, "NotFoundError", "model");
    }

    @Test
    void greedyCompletionOfTwoHundredTokens() {
        JsonNode r = post("/v1/completions",
                "{\"model\":\"podserve-tiny\",\"prompt\":\"Hello\",\"max_tokens\":200,\"temperature\":0,\"ignore_eos\":true}",
                HttpStatus.OK);
        assertThat(r.get("object").asString()).isEqualTo("text_completion");
        assertThat(r.get("id").asString()).startsWith("cmpl-");
        assertThat(r.get("model").asString()).isEqualTo("podserve-tiny");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("finish_reason").asString()).isEqualTo("length");
        assertThat(choice.has("logprobs")).isTrue();
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(5);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(200);
        assertThat(r.get("usage").get("total_tokens").asInt()).isEqualTo(205);
        assertThat(choice.get("text").asString()).isNotEmpty();
    }

    @Test
    void tokenIdPromptEqualsTextPrompt() {
        String text = post("/v1/completions", "{\"prompt\":\"Hi\",\"max_tokens\":12,\"temperature\":0}", HttpStatus.OK)
                .get("choices").get(0).get("text").asString();
        String ids = post("/v1/completions", "{\"prompt\":[72,105],\"max_tokens\":12,\"temperature\":0}", HttpStatus.OK)
                .get("choices").get(0).get("text").asString();
        assertThat(ids).isEqualTo(text);
    }

    @Test
    void sixteenConcurrentIdenticalRequestsReturnTheTextOfOneAlone() throws Exception {
        String body = "{\"prompt\":\"Concurrency is not parallelism.\",\"max_tokens\":40,\"temperature\":0,\"ignore_eos\":true}";
        String alone = post("/v1/completions", body, HttpStatus.OK).get("choices").get(0).get("text").asString();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<CompletableFuture<String>> all = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                all.add(CompletableFuture.supplyAsync(() ->
                        post("/v1/completions", body, HttpStatus.OK).get("choices").get(0).get("text").asString(), pool));
            }
            for (CompletableFuture<String> f : all) assertThat(f.get()).isEqualTo(alone);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void seededSamplingIsReproducible() {
        String body = "{\"prompt\":\"seed\",\"max_tokens\":30,\"temperature\":0.9,\"top_p\":0.95,\"seed\":1234,\"ignore_eos\":true}";
        String a = post("/v1/completions", body, HttpStatus.OK).get("choices").get(0).get("text").asString();
        String b = post("/v1/completions", body, HttpStatus.OK).get("choices").get(0).get("text").asString();
        assertThat(a).isEqualTo(b);
    }

    @Test
    void logprobsAreReturnedWhenAsked() {
        JsonNode lp = post("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":3,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":2}",
                HttpStatus.OK).get("choices").get(0).get("logprobs");
        assertThat(lp.get("tokens")).hasSize(3);
        assertThat(lp.get("token_logprobs").get(0).asDouble()).isLessThanOrEqualTo(0.0);
        assertThat(lp.get("top_logprobs").get(0).size()).isBetween(1, 2);
    }

    @Test
    void badInputIsA400InTheEnvelope() {
        assertEnvelope(post("/v1/completions", "{not json", HttpStatus.BAD_REQUEST), 400, "BadRequestError", null);
        assertEnvelope(post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":\"many\"}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "max_tokens");
        assertEnvelope(post("/v1/completions", "{\"prompt\":\"x\",\"temperature\":7}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "temperature");
        assertEnvelope(post("/v1/completions", "{\"max_tokens\":3}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "prompt");
        // A fraction in an integer field is refused, as OpenAI and vLLM do, not truncated.
        assertEnvelope(post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1.5}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "max_tokens");
        assertEnvelope(post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1,\"n\":2.9}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "n");
        assertEnvelope(post("/v1/completions", "{\"prompt\":[1,\"x\"]}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "prompt");
        assertEnvelope(post("/v1/completions", "{\"prompt\":[1, 99999]}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "prompt");
        assertEnvelope(post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":5000}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "max_tokens");
        assertEnvelope(post("/v1/completions", "{\"model\":\"nope\",\"prompt\":\"x\"}", HttpStatus.NOT_FOUND),
                404, "NotFoundError", "model");
        JsonNode tooLong = post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":5000}", HttpStatus.BAD_REQUEST);
        assertThat(tooLong.get("error").get("message").asString()).contains("4096").contains("5001");
    }

    /** best_of: OpenAI's rules (at least n, not streamed, bounded like n). */
    @Test
    void bestOfIsHeldToItsRules() {
        String x = "{\"prompt\":\"x\",\"max_tokens\":1,";
        assertEnvelope(post("/v1/completions", x + "\"n\":2,\"best_of\":1}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "best_of");
        assertEnvelope(post("/v1/completions", x + "\"best_of\":3,\"stream\":true}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "best_of");
        assertEnvelope(post("/v1/completions", x + "\"best_of\":10000}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "best_of");
        assertThat(post("/v1/completions", x + "\"best_of\":2,\"n\":2}", HttpStatus.OK).get("choices")).hasSize(2);
        assertThat(ApiTestSupport.postRaw(client, "/v1/completions", x + "\"best_of\":1,\"stream\":true}", HttpStatus.OK))
                .endsWith("data: [DONE]\n\n");
    }

    /**
     * best_of 4, n 2, against a slow reference: the same four seeded candidates asked for as n 4
     * with their log-probabilities, ranked here by log-probability per token. Two prompts, so the
     * renumbering across prompts is checked too; usage counts all eight candidates.
     */
    @Test
    void bestOfReturnsTheLikeliestCandidatesPerToken() {
        String common = "\"prompt\":[\"Once upon\",\"The\"],\"max_tokens\":6,\"temperature\":1.3,\"seed\":41,\"ignore_eos\":true";
        JsonNode all = post("/v1/completions", "{" + common + ",\"n\":4,\"logprobs\":0}", HttpStatus.OK);
        JsonNode best = post("/v1/completions", "{" + common + ",\"n\":2,\"best_of\":4}", HttpStatus.OK);
        assertThat(best.get("choices")).hasSize(4);
        for (int p = 0; p < 2; p++) {
            List<JsonNode> candidates = new ArrayList<>();
            for (int c = 0; c < 4; c++) candidates.add(all.get("choices").get(p * 4 + c));
            List<JsonNode> ranked = new ArrayList<>(candidates);
            ranked.sort(java.util.Comparator.comparingDouble(c -> {
                double sum = 0;
                for (JsonNode v : c.get("logprobs").get("token_logprobs")) sum += v.asDouble();
                return -sum / c.get("logprobs").get("token_logprobs").size();
            }));
            for (int k = 0; k < 2; k++) {
                JsonNode got = best.get("choices").get(p * 2 + k);
                assertThat(got.get("index").asInt()).isEqualTo(p * 2 + k);
                assertThat(got.get("text").asString()).isEqualTo(ranked.get(k).get("text").asString());
                assertThat(got.get("logprobs").isNull()).as("not asked for").isTrue();
            }
        }
        assertThat(best.get("usage").get("completion_tokens").asInt()).isEqualTo(all.get("usage").get("completion_tokens").asInt());
    }

    @Test
    void unknownRoutesAndMethodsAndMediaTypesKeepTheEnvelope() {
        JsonNode notFound = json.readTree(client.get().uri("/v1/nothing").exchange().expectStatus().isNotFound()
                .expectBody().returnResult().getResponseBody());
        assertEnvelope(notFound, 404, "NotFoundError", null);
        assertThat(notFound.get("error").get("message").asString()).isEqualTo("Invalid URL: no such route.");
        JsonNode method = json.readTree(client.get().uri("/v1/completions").exchange()
                .expectStatus().isEqualTo(HttpStatus.METHOD_NOT_ALLOWED)
                .expectHeader().valueMatches("Allow", ".*POST.*").expectBody().returnResult().getResponseBody());
        assertEnvelope(method, 405, "MethodNotAllowedError", null);
        JsonNode media = json.readTree(client.post().uri("/v1/completions").contentType(MediaType.TEXT_PLAIN).bodyValue("hi")
                .exchange().expectStatus().isEqualTo(HttpStatus.UNSUPPORTED_MEDIA_TYPE).expectBody().returnResult().getResponseBody());
        assertEnvelope(media, 415, "UnsupportedMediaTypeError", null);
    }

    @Test
    void unknownFieldsAreIgnored() {
        JsonNode r = post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2,\"frobnicate\":{\"a\":[1]},\"user\":\"u\"}", HttpStatus.OK);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isBetween(1, 2);
    }

    @Test
    void everyBlockIsFreeAfterTheRequests() throws Exception {
        post("/v1/completions", "{\"prompt\":\"free\",\"max_tokens\":5}", HttpStatus.OK);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (holder.require().engine().stats().kvUsage() > 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(holder.require().engine().stats().kvUsage()).isZero();
    }

    private String text(String body) {
        return post("/v1/completions", body, HttpStatus.OK).get("choices").get(0).get("text").asString();
    }

    /** Each sampling field changes the output the way it should, so none is dropped on the way to the engine. */
    @Test
    void everySamplingFieldReachesTheEngine() {
        String base = "\"prompt\":\"fields\",\"max_tokens\":24,\"ignore_eos\":true";
        String greedy = text("{" + base + ",\"temperature\":0}");
        assertThat(text("{" + base + ",\"temperature\":1.5,\"top_k\":1,\"seed\":3}")).isEqualTo(greedy);
        assertThat(text("{" + base + ",\"temperature\":1.5,\"min_p\":1.0,\"seed\":3}")).isEqualTo(greedy);
        assertThat(text("{" + base + ",\"temperature\":1.5,\"top_p\":1e-9,\"seed\":3}")).isEqualTo(greedy);
        assertThat(text("{" + base + ",\"temperature\":1.5,\"seed\":3}")).isNotEqualTo(greedy);
        assertThat(text("{" + base + ",\"temperature\":0,\"repetition_penalty\":2.0}")).isNotEqualTo(greedy);
        assertThat(text("{" + base + ",\"temperature\":0,\"frequency_penalty\":2.0}")).isNotEqualTo(greedy);
        assertThat(text("{" + base + ",\"temperature\":0,\"presence_penalty\":2.0}")).isNotEqualTo(greedy);
        // min_tokens holds EOS back; then the forced EOS ends the request with "stop".
        JsonNode min = post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":10,\"min_tokens\":4,"
                + "\"logit_bias\":{\"258\":100}}", HttpStatus.OK);
        assertThat(min.get("usage").get("completion_tokens").asInt()).isEqualTo(5);
        assertThat(min.get("choices").get(0).get("finish_reason").asString()).isEqualTo("stop");
        // A stop token id ends the request; its text is not part of the answer.
        JsonNode stopId = post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":10,\"stop_token_ids\":[65],"
                + "\"logit_bias\":{\"65\":100}}", HttpStatus.OK);
        assertThat(stopId.get("choices").get(0).get("finish_reason").asString()).isEqualTo("stop");
        assertThat(stopId.get("choices").get(0).get("text").asString()).isEmpty();
        assertThat(stopId.get("usage").get("completion_tokens").asInt()).isEqualTo(1);
        // echo puts the prompt first.
        assertThat(text("{\"prompt\":\"echo me\",\"echo\":true,\"max_tokens\":3,\"logit_bias\":{\"65\":100}}"))
                .isEqualTo("echo meAAA");
    }
}
