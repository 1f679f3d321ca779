package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * The circuit breaker around the backend (opens at 50% failed steps over the last 4, at least 3;
 * 600 ms open here): repeated backend failures open it; while open, new requests get 503 with
 * {@code Retry-After} and {@code /health} is DOWN; a half-open probe that fails opens it again; one
 * that succeeds closes it, whether the probe is the one {@code /health} sends or a real request.
 */
class CircuitBreakerTest extends ResilienceTestServer {

    private static final String SHORT = HttpTestClient.chat("ping", 4, false);

    private HttpResponse<String> chat() {
        return client.send(client.post("/v1/chat/completions", SHORT));
    }

    /** Sends requests to the failing backend until the breaker refuses one; each before that failed with a 500. */
    private void breakIt() {
        faults.failing(true);
        int failed = 0;
        HttpResponse<String> r = chat();
        while (r.statusCode() == 500 && failed < 10) {
            HttpTestClient.assertEnvelope(r, 500, "InternalServerError");
            failed++;
            r = chat();
        }
        assertThat(failed).as("failed steps before the breaker opened").isBetween(2, 3);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(HttpTestClient.assertEnvelope(r, 503, "ServiceUnavailableError")).contains("circuit breaker open");
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        HttpResponse<String> health = client.get("/health");
        assertThat(HttpTestClient.assertEnvelope(health, 503, "ServiceUnavailableError")).contains("DOWN").contains("circuit breaker");
    }

    private static void waitOutTheOpenState() throws InterruptedException {
        Thread.sleep(700);
    }

    @Test
    void repeatedFailuresOpenItAndAHealthProbeClosesIt() throws Exception {
        breakIt();

        // Half-open with the backend still broken: the probe (this request) fails, the breaker opens again.
        waitOutTheOpenState();
        HttpTestClient.assertEnvelope(chat(), 500, "InternalServerError");
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        HttpTestClient.assertEnvelope(chat(), 503, "ServiceUnavailableError");

        // Repaired, and no client traffic: polling /health sends the probe that closes it.
        faults.failing(false);
        waitOutTheOpenState();
        long until = System.nanoTime() + 10_000_000_000L;
        HttpResponse<String> health = client.get("/health");
        assertThat(health.statusCode()).as("DOWN until the probe has succeeded").isEqualTo(503);
        while (health.statusCode() != 200 && System.nanoTime() < until) {
            Thread.sleep(20);
            health = client.get("/health");
        }
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(chat().statusCode()).isEqualTo(200);
    }

    @Test
    void aRealRequestCanBeTheProbe() throws Exception {
        breakIt();
        faults.failing(false);
        waitOutTheOpenState();
        HttpResponse<String> r = chat();
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(client.get("/health").statusCode()).isEqualTo(200);
    }
}
