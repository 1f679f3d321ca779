package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;

import dev.podserve.config.EngineHolder;
import dev.podserve.engine.Engine;
import dev.podserve.engine.EngineStats;

/**
 * One server, shared by every test class that extends this (same configuration, so Spring's test
 * context cache starts it once): small admission limits so overload is cheap to provoke, short
 * time limits, a circuit breaker that opens after three failed steps, tight request limits, and a
 * {@link BackendFaults} decorator to slow the backend down or break it. Each test leaves the
 * server as it found it: faults off, nothing in the engine, breaker closed.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "podserve.resilience.max-concurrent-requests=" + ResilienceTestServer.CONCURRENT,
    "podserve.resilience.max-waiting-requests=" + ResilienceTestServer.WAITING,
    "podserve.resilience.max-queue-time=1s",
    "podserve.resilience.request-timeout=2s",
    "podserve.resilience.retry-after=2s",
    "podserve.resilience.circuit-breaker.minimum-number-of-calls=3",
    "podserve.resilience.circuit-breaker.sliding-window-size=4",
    "podserve.resilience.circuit-breaker.wait-duration-in-open-state=600ms",
    "podserve.security.limits.max-body-size=256KB",
    "podserve.security.limits.max-prompt-tokens=1024",
    "podserve.security.limits.max-tokens=512",
    "podserve.security.limits.max-n=4",
    "podserve.security.limits.max-prompts=4",
    "podserve.security.limits.max-stop-strings=2",
    "podserve.security.limits.max-logit-bias=8",
})
@Import(BackendFaults.Config.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ResilienceTestServer {

    public static final int CONCURRENT = 4;
    public static final int WAITING = 4;

    @LocalServerPort
    protected int port;

    @Autowired
    protected EngineHolder holder;

    @Autowired
    protected AdmissionGate gate;

    @Autowired
    protected BackendFaults faults;

    @Autowired
    protected BackendCircuitBreaker breaker;

    protected HttpTestClient client;

    @BeforeAll
    void startServer() throws InterruptedException {
        holder.await();
        client = new HttpTestClient(port);
    }

    @AfterEach
    void leaveItClean() throws InterruptedException {
        faults.reset();
        awaitIdle();
    }

    protected Engine engine() {
        return holder.require().engine();
    }

    /** Waits until no request is admitted, queued or in the engine, and every KV block is free. */
    protected void awaitIdle() throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            EngineStats s = engine().stats();
            if (s.running() == 0 && s.waiting() == 0 && s.kvUsage() == 0.0 && gate.inFlight() == 0 && gate.queued() == 0) {
                return;
            }
            Thread.sleep(10);
        }
        EngineStats s = engine().stats();
        assertThat(s.kvUsage()).as("KV usage once idle").isZero();
        assertThat(s.running() + s.waiting()).as("requests left in the engine").isZero();
        assertThat(gate.inFlight() + gate.queued()).as("requests left at the gate").isZero();
    }
}
