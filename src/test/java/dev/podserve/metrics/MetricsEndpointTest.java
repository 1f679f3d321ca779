package dev.podserve.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;

import dev.podserve.config.EngineHolder;
import dev.podserve.engine.Engine;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * {@code GET /metrics} over a real port after real completions on the embedded model, with the
 * step trace on beside the meters (both hear the engine through one composite listener).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "podserve.scheduler.step-trace=target/metrics-endpoint-test-steps.csv")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetricsEndpointTest {

    private static final String MODEL = "podserve-tiny";
    private static final int REQUESTS = 3;
    private static final int MAX_TOKENS = 5;

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @Autowired
    ObjectMapper json;

    @Autowired
    StepTrace trace;

    WebTestClient client;

    @BeforeAll
    void ready() throws InterruptedException {
        holder.await();
        client = WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(60)).build();
    }

    private PrometheusText scrape() {
        EntityExchangeResult<String> r = client.get().uri("/metrics").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult();
        MediaType type = r.getResponseHeaders().getContentType();
        assertThat(type).isNotNull();
        assertThat(type.isCompatibleWith(MediaType.TEXT_PLAIN)).isTrue();
        assertThat(type.getParameter("version")).isEqualTo("0.0.4");
        return PrometheusText.parse(r.getResponseBody());
    }

    private static double get(PrometheusText t, String name, String... labels) {
        String[] all = new String[labels.length + 2];
        all[0] = "model_name";
        all[1] = MODEL;
        System.arraycopy(labels, 0, all, 2, labels.length);
        return t.value(name, all);
    }

    private static double delta(PrometheusText before, PrometheusText after, String name, String... labels) {
        return get(after, name, labels) - get(before, name, labels);
    }

    private int complete() {
        byte[] body = client.post().uri("/v1/completions").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"prompt\":\"hi\",\"max_tokens\":" + MAX_TOKENS + ",\"temperature\":0,\"ignore_eos\":true}")
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody();
        JsonNode usage = json.readTree(body).get("usage");
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(MAX_TOKENS);
        return usage.get("prompt_tokens").asInt();
    }

    @Test
    void servesEveryVllmSeriesAndCountsCompletions() throws Exception {
        // Other test classes share this application; let whatever they left running drain first.
        Engine engine = holder.await().engine();
        long idleBy = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (engine.stats().running() + engine.stats().waiting() > 0 && System.nanoTime() < idleBy) Thread.sleep(5);
        PrometheusText before = scrape();
        int promptTokens = 0;
        for (int i = 0; i < REQUESTS; i++) promptTokens += complete();
        assertThat(promptTokens).as("\"hi\" is BOS plus one token").isEqualTo(2 * REQUESTS);
        int generated = REQUESTS * MAX_TOKENS;
        // The engine reports a finish just after it completes the response stream, so the last may lag a little.
        PrometheusText after = scrape();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (delta(before, after, "vllm:request_success_total", "finished_reason", "length") < REQUESTS
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
            after = scrape();
        }

        for (String gauge : List.of("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc")) {
            assertThat(after.types).containsEntry(gauge, "gauge");
            assertThat(get(after, gauge)).isBetween(0.0, 1.0);
        }
        for (String counter : List.of("vllm:prompt_tokens_total", "vllm:generation_tokens_total",
                "vllm:num_preemptions_total", "vllm:request_success_total")) {
            assertThat(after.types).containsEntry(counter, "counter");
        }
        for (String reason : List.of("stop", "length", "abort")) {
            get(after, "vllm:request_success_total", "finished_reason", reason);
        }
        get(after, "vllm:num_preemptions_total");
        for (String histogram : List.of("vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds",
                "vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds", "vllm:iteration_tokens_total",
                "podserve:step_prefill_tokens", "podserve:step_decode_tokens", "podserve:step_forward_seconds")) {
            assertThat(after.types).containsEntry(histogram, "histogram");
            double count = get(after, histogram + "_count");
            assertThat(get(after, histogram + "_bucket", "le", "+Inf")).isEqualTo(count);
            assertThat(after.samples.stream().filter(s -> s.name().equals(histogram + "_bucket")).count())
                    .as("explicit buckets of %s", histogram).isGreaterThan(5);
            get(after, histogram + "_sum");
        }

        assertThat(delta(before, after, "vllm:prompt_tokens_total")).isEqualTo(promptTokens);
        assertThat(delta(before, after, "vllm:generation_tokens_total")).isEqualTo(generated);
        assertThat(delta(before, after, "vllm:request_success_total", "finished_reason", "length")).isEqualTo(REQUESTS);
        assertThat(delta(before, after, "vllm:request_success_total", "finished_reason", "stop")).isZero();
        for (String perRequest : List.of("vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds",
                "vllm:request_queue_time_seconds")) {
            assertThat(delta(before, after, perRequest + "_count")).as(perRequest).isEqualTo(REQUESTS);
        }
        assertThat(delta(before, after, "vllm:inter_token_latency_seconds_count")).isEqualTo(generated - REQUESTS);
        assertThat(delta(before, after, "vllm:iteration_tokens_total_sum")).isEqualTo(promptTokens + generated);
        double steps = delta(before, after, "podserve:step_forward_seconds_count");
        assertThat(steps).isPositive();
        assertThat(delta(before, after, "vllm:iteration_tokens_total_count")).isEqualTo(steps);
        // One request at a time: each prompt is one prefill chunk, and every sampled token but the last is decoded once.
        assertThat(delta(before, after, "podserve:step_prefill_tokens_sum")).isEqualTo(promptTokens);
        assertThat(delta(before, after, "podserve:step_decode_tokens_sum")).isEqualTo(generated - REQUESTS);
        // The step trace heard the same steps: its last lines add up to the same tokens.
        trace.flush();
        List<String[]> lines = Files.readAllLines(Path.of("target/metrics-endpoint-test-steps.csv")).stream().skip(1)
                .map(l -> l.split(",")).toList();
        List<String[]> ours = lines.subList(lines.size() - (int) steps, lines.size());
        assertThat(ours.stream().mapToInt(l -> Integer.parseInt(l[5])).sum()).isEqualTo(promptTokens);
        assertThat(ours.stream().mapToInt(l -> Integer.parseInt(l[7])).sum()).isEqualTo(generated - REQUESTS);
        assertThat(ours).allSatisfy(l -> assertThat(Double.parseDouble(l[3])).isPositive());

        // The engine publishes its gauges just after the step that answered the last request.
        deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (get(scrape(), "vllm:num_requests_running") != 0 && System.nanoTime() < deadline) Thread.sleep(5);
        PrometheusText idle = scrape();
        assertThat(get(idle, "vllm:num_requests_running")).isZero();
        assertThat(get(idle, "vllm:kv_cache_usage_perc")).isZero();
    }

    @Test
    void healthStaysOursAndNoActuatorAppears() {
        client.get().uri("/health").exchange().expectStatus().isOk().expectBody()
                .jsonPath("$.status").isEqualTo("ok");
        client.get().uri("/actuator").exchange().expectStatus().isNotFound();
        client.get().uri("/actuator/prometheus").exchange().expectStatus().isNotFound();
    }
}
