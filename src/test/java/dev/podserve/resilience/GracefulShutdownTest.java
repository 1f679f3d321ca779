package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;

import dev.podserve.config.EngineHolder;
import dev.podserve.engine.Engine;
import dev.podserve.engine.EngineStats;

/**
 * Stopping the application while requests run, as closing it on SIGTERM does first: admission
 * stops at once (new requests and those waiting for a place get 503, {@code /health} is DOWN); a
 * request that finishes within the grace period finishes normally; one that does not is aborted
 * when it ends ({@code finish_reason} "abort"); then the engine is empty, every KV block free, and
 * the web server stopped. The context is this test's own: stopped here (stop runs the same
 * lifecycle phases as close, in the same order, but leaves the test framework a context to talk
 * to) and closed after the class. SigtermExitTest covers the whole close, in a process of its own.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "podserve.resilience.max-concurrent-requests=2",
    "podserve.resilience.max-waiting-requests=2",
    "podserve.resilience.request-timeout=0",
    "podserve.resilience.max-queue-time=0",
    "podserve.resilience.shutdown-grace-period=1500ms",
})
@Import(BackendFaults.Config.class)
@DirtiesContext
class GracefulShutdownTest {

    @LocalServerPort
    int port;

    @Autowired
    ConfigurableApplicationContext context;

    @Autowired
    EngineHolder holder;

    @Autowired
    AdmissionGate gate;

    @Autowired
    BackendFaults faults;

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long until = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) throw new AssertionError("timed out waiting until " + what);
            Thread.sleep(5);
        }
    }

    @Test
    void runningRequestsFinishWithinTheGracePeriodTheRestAreAbortedAndAllIsFreed() throws Exception {
        Engine engine = holder.await().engine();
        HttpTestClient client = new HttpTestClient(port);
        faults.delay(20);
        CompletableFuture<HttpResponse<String>> shortOne =
                client.sendAsync(client.post("/v1/chat/completions", HttpTestClient.chat("short", 20, true)));
        CompletableFuture<HttpResponse<String>> longOne =
                client.sendAsync(client.post("/v1/chat/completions", HttpTestClient.chat("long", 2000, true)));
        await(() -> engine.stats().running() == 2, "both run");
        // No step until shutdown has begun, so the short one still holds its place while the third
        // queues and admission closes, however slow the machine: its 20 steps of 20 ms were all the margin.
        faults.hold();
        CompletableFuture<HttpResponse<String>> waiting =
                client.sendAsync(client.post("/v1/chat/completions", HttpTestClient.chat("waiting", 5, false)));
        await(() -> gate.queued() == 1, "the third waits for a place");

        long closing = System.nanoTime();
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(context::stop);
        await(gate::draining, "shutdown begins");
        // Faster steps from here, so the short one's rest fits the grace period on a slow machine too;
        // 2000 tokens still take far longer than 1.5 s.
        faults.delay(5);
        faults.release();

        String refused = HttpTestClient.assertEnvelope(waiting.get(10, TimeUnit.SECONDS), 503, "ServiceUnavailableError");
        assertThat(refused).contains("shutting down");
        HttpTestClient.assertEnvelope(client.send(client.post("/v1/chat/completions", HttpTestClient.chat("new", 5, false))),
                503, "ServiceUnavailableError");
        assertThat(HttpTestClient.assertEnvelope(client.get("/health"), 503, null)).contains("DOWN").contains("shutting down");

        HttpTestClient.Stream done = HttpTestClient.parseStream(shortOne.get(20, TimeUnit.SECONDS).body());
        assertThat(done.finishReason()).isEqualTo("length");
        assertThat(done.completionTokens()).isEqualTo(20);
        assertThat(done.done()).isTrue();

        HttpTestClient.Stream aborted = HttpTestClient.parseStream(longOne.get(20, TimeUnit.SECONDS).body());
        long abortedAfterMs = (System.nanoTime() - closing) / 1_000_000;
        assertThat(aborted.error()).isNull();
        assertThat(aborted.finishReason()).isEqualTo("abort");
        assertThat(aborted.completionTokens()).isBetween(1, 1999);
        assertThat(aborted.done()).isTrue();
        assertThat(abortedAfterMs).as("aborted when the grace period ran out").isGreaterThanOrEqualTo(1400);

        stopped.get(20, TimeUnit.SECONDS);
        EngineStats s = engine.stats();
        assertThat(s.running()).isZero();
        assertThat(s.waiting()).isZero();
        assertThat(s.kvUsage()).as("KV blocks in use after shutdown").isZero();
        assertThat(gate.inFlight()).isZero();
        assertThatThrownBy(() -> client.get("/health")).as("the port is closed").hasCauseInstanceOf(ConnectException.class);
    }
}
