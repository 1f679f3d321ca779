package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;

import dev.podserve.config.EngineHolder;

/**
 * The latency metrics count from a request's arrival at the server, as its client and its
 * deadlines do: a wait for a place at the admission gate is queue time, and part of the time to the
 * first token and of the whole. One place; the first request holds it (its step held) while the
 * second waits at the gate.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "podserve.resilience.max-concurrent-requests=1",
    "podserve.resilience.max-waiting-requests=4",
    "podserve.resilience.max-queue-time=30s",
    "podserve.resilience.request-timeout=0",
})
@Import(BackendFaults.Config.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GateQueueMetricsTest {

    private static final long WAIT_MS = 800;

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @Autowired
    AdmissionGate gate;

    @Autowired
    BackendFaults faults;

    HttpTestClient client;

    @BeforeAll
    void ready() throws InterruptedException {
        holder.await();
        client = new HttpTestClient(port);
    }

    /** A histogram's cumulative count at bucket {@code le}, or its whole count for "+Inf". */
    private double bucket(String metric, String le) {
        String text = client.get("/metrics").body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(metric) + "_bucket\\{[^}]*le=\"" + Pattern.quote(le) + "\"[^}]*\\} (\\S+)$")
                .matcher(text);
        assertThat(m.find()).as(metric + " le=" + le + " in /metrics").isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aWaitForAPlaceIsQueueTimeAndPartOfTheTimeToTheFirstToken() throws Exception {
        String queue = "vllm:request_queue_time_seconds", ttft = "vllm:time_to_first_token_seconds";
        double queueFast = bucket(queue, "0.3"), queueAll = bucket(queue, "+Inf");
        double ttftFast = bucket(ttft, "0.25"), ttftAll = bucket(ttft, "+Inf");
        try {
            faults.hold();
            CompletableFuture<HttpResponse<String>> first =
                    client.sendAsync(client.post("/v1/chat/completions", HttpTestClient.chat("first", 1, false)));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (gate.inFlight() < 1 && System.nanoTime() < until) Thread.sleep(2);
            CompletableFuture<HttpResponse<String>> second =
                    client.sendAsync(client.post("/v1/chat/completions", HttpTestClient.chat("second", 1, false)));
            while (gate.queued() < 1 && System.nanoTime() < until) Thread.sleep(2);
            assertThat(gate.queued()).isEqualTo(1);
            Thread.sleep(WAIT_MS);
            faults.release();
            assertThat(first.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(second.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        } finally {
            faults.reset();
        }
        assertThat(bucket(queue, "+Inf") - queueAll).isEqualTo(2);
        assertThat(bucket(queue, "0.3") - queueFast).as("queued under 0.3 s: the first only").isEqualTo(1);
        assertThat(bucket(ttft, "+Inf") - ttftAll).isEqualTo(2);
        assertThat(bucket(ttft, "0.25") - ttftFast).as("a first token under 0.25 s: neither").isZero();
    }
}
