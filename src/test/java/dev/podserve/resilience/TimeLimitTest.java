package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

/**
 * The per-request time limits over HTTP (max-queue-time 1 s, request-timeout 2 s here): a request
 * that cannot get a place in time is answered 429 with {@code Retry-After}; requests still running
 * at their limit end at once with what they have and {@code finish_reason} "abort", streaming or
 * not; and their KV blocks are all free afterwards. (The engine's side, a request withdrawn from
 * the engine's own queue, is EngineDeadlinesTest's.)
 */
class TimeLimitTest extends ResilienceTestServer {

    private static final int LONG = 500;

    @Test
    void requestsPastTheirLimitsAreEndedAndTheirBlocksFreed() throws Exception {
        // 40 ms a step: 500 tokens would take 20 s, ten times the request timeout.
        faults.delay(40);
        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
        for (int i = 0; i < CONCURRENT - 1; i++) {
            streams.add(client.sendAsync(client.post("/v1/chat/completions", HttpTestClient.chat("long " + i, LONG, true))));
        }
        CompletableFuture<HttpResponse<String>> plain =
                client.sendAsync(client.post("/v1/chat/completions", HttpTestClient.chat("long plain", LONG, false)));
        long until = System.nanoTime() + 10_000_000_000L;
        while (gate.inFlight() < CONCURRENT && System.nanoTime() < until) Thread.sleep(5);
        assertThat(gate.inFlight()).isEqualTo(CONCURRENT);

        // Every place is taken for two seconds: one more request waits, and gives up after one.
        long queuedAt = System.nanoTime();
        HttpResponse<String> late = client.send(client.post("/v1/chat/completions", HttpTestClient.chat("late", 4, false)));
        long waitedMs = (System.nanoTime() - queuedAt) / 1_000_000;
        assertThat(HttpTestClient.assertEnvelope(late, 429, "rate_limit_exceeded")).contains("max-queue-time");
        assertThat(late.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(waitedMs).isBetween(900L, 1900L);
        assertThat(gate.queued()).isZero();

        for (CompletableFuture<HttpResponse<String>> f : streams) {
            HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            HttpTestClient.Stream s = HttpTestClient.parseStream(r.body());
            assertThat(s.error()).isNull();
            assertThat(s.done()).isTrue();
            assertThat(s.finishReason()).isEqualTo("abort");
            assertThat(s.completionTokens()).isBetween(1, LONG - 1);
            assertThat(s.text()).isNotEmpty();
        }
        HttpResponse<String> r = plain.get(30, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = HttpTestClient.JSON.readTree(r.body());
        assertThat(body.get("choices").get(0).get("finish_reason").asString()).isEqualTo("abort");
        assertThat(body.get("usage").get("completion_tokens").asInt()).isBetween(1, LONG - 1);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertThat(tookMs).as("ended by the 2 s request timeout, not by max_tokens").isBetween(1900L, 8000L);

        awaitIdle();
        assertThat(engine().stats().kvUsage()).isZero();
    }
}
