package dev.podserve.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.podserve.resilience.HttpTestClient;
import dev.podserve.resilience.ResilienceTestServer;

import tools.jackson.databind.JsonNode;

/**
 * Over a thousand generated malformed or hostile request bodies ({@link HostileBodies}): every one
 * is answered with a 4xx in OpenAI's envelope (never a 5xx, never a hang, never a dropped
 * connection), and afterwards the server still answers a normal request exactly as before and
 * holds nothing for any of them.
 */
class HostileInputFuzzTest extends ResilienceTestServer {

    private static final int CASES = 1000;
    private static final int CLIENTS = 4;
    private static final String NORMAL = HttpTestClient.chat("A normal request.", 12, false);

    @Test
    void everyHostileBodyIsA4xxEnvelopeAndTheServerStillServes() throws Exception {
        HttpResponse<String> before = client.send(client.post("/v1/chat/completions", NORMAL));
        assertThat(before.statusCode()).isEqualTo(200);
        String expected = text(before);

        List<HostileBodies.Case> cases = HostileBodies.generate(20251126L, CASES);
        assertThat(cases).hasSizeGreaterThanOrEqualTo(1000);
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        List<String> wrong = new CopyOnWriteArrayList<>();
        // A few clients at once, as a scanner would, and to keep the run short.
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (HostileBodies.Case c : cases) {
                done.add(pool.submit(() -> {
                    HttpRequest request = client.request(c.path()).header("Content-Type", c.contentType())
                            .method(c.method(), HttpRequest.BodyPublishers.ofByteArray(c.body())).build();
                    HttpResponse<String> r = client.send(request);
                    statuses.merge(r.statusCode(), 1, Integer::sum);
                    String problem = check(r);
                    if (problem != null && wrong.size() < 30) wrong.add(problem + " <- " + c.preview());
                }));
            }
            for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(wrong).as("responses that were not a 4xx envelope (statuses %s)", statuses).isEmpty();

        HttpResponse<String> after = client.send(client.post("/v1/chat/completions", NORMAL));
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(text(after)).isEqualTo(expected);
        awaitIdle();
    }

    /** Null when r is a 4xx in OpenAI's envelope, else what is wrong with it. */
    private static String check(HttpResponse<String> r) {
        int status = r.statusCode();
        if (status < 400 || status > 499) return "status " + status + " " + r.body().substring(0, Math.min(200, r.body().length()));
        JsonNode error;
        try {
            error = HttpTestClient.JSON.readTree(r.body()).get("error");
        } catch (RuntimeException e) {
            return "status " + status + " without a JSON body: " + r.body();
        }
        if (error == null || error.get("code").asInt() != status || error.get("type").asString().isBlank()
                || error.get("message").asString().isBlank()) {
            return "status " + status + " with a bad envelope: " + r.body();
        }
        return null;
    }

    private static String text(HttpResponse<String> r) {
        return HttpTestClient.JSON.readTree(r.body()).get("choices").get(0).get("message").get("content").asString();
    }
}
