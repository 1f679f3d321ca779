package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Three times the configured capacity (places in the engine plus the waiting queue) of streaming
 * requests at once: the excess is answered 429 with {@code Retry-After} in OpenAI's envelope, never
 * a 5xx; every admitted request streams exactly what it would alone; and afterwards every KV
 * block is free and nothing is left at the gate.
 */
class OverloadTest extends ResilienceTestServer {

    private static final int CAPACITY = CONCURRENT + WAITING;
    private static final int REQUESTS = 3 * CAPACITY;
    private static final int MAX_TOKENS = 24;

    @Test
    void excessIsRefusedWith429AndEveryAdmittedRequestCompletes() throws Exception {
        String body = HttpTestClient.chat("Tell me about overload.", MAX_TOKENS, true);
        HttpTestClient.Stream alone = HttpTestClient.parseStream(client.send(client.post("/v1/chat/completions", body)).body());
        assertThat(alone.finishReason()).isEqualTo("length");

        // Slow steps keep the first requests in the engine while the rest arrive.
        faults.delay(12);
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) futures.add(client.sendAsync(client.post("/v1/chat/completions", body)));
        int completed = 0;
        int refused = 0;
        for (CompletableFuture<HttpResponse<String>> f : futures) {
            HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
            if (r.statusCode() == 200) {
                HttpTestClient.Stream s = HttpTestClient.parseStream(r.body());
                assertThat(s.error()).as("in-band error").isNull();
                assertThat(s.done()).isTrue();
                assertThat(s.finishReason()).isEqualTo("length");
                assertThat(s.completionTokens()).isEqualTo(MAX_TOKENS);
                assertThat(s.text()).as("an admitted request's text").isEqualTo(alone.text());
                completed++;
            } else {
                String message = HttpTestClient.assertEnvelope(r, 429, "rate_limit_exceeded");
                assertThat(message).contains("capacity");
                assertThat(r.headers().firstValue("Retry-After")).hasValue("2");
                refused++;
            }
        }
        assertThat(completed + refused).isEqualTo(REQUESTS);
        assertThat(completed).as("admitted: at least the capacity").isGreaterThanOrEqualTo(CAPACITY);
        assertThat(refused).as("refused").isPositive();
        awaitIdle();
        assertThat(engine().stats().kvUsage()).isZero();
    }
}
