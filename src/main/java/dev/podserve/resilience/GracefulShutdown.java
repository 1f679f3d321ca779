package dev.podserve.resilience;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import dev.podserve.config.EngineHolder;
import dev.podserve.config.PodserveProperties;
import dev.podserve.engine.Engine;
import dev.podserve.engine.EngineStats;
import dev.podserve.engine.EngineUnavailableException;

/**
 * Graceful shutdown, first thing when the application context closes (SIGTERM, see
 * {@link SigtermExit}): admission stops (new generation requests get 503, {@code /health} reports
 * DOWN, requests still waiting for a place are refused), running requests get
 * {@code shutdown-grace-period} to finish, and whatever is still running then is aborted: its
 * streams end with {@code finish_reason} "abort", requests the engine had not started fail with
 * 503. Only after that does the web server stop (Spring Boot's own graceful phase, which waits for
 * the responses being written) and the engine and backend close, freeing the KV cache.
 *
 * <p>Its phase is the highest, so it stops before the web server's graceful shutdown, while the
 * port still answers: clients get a clear 503 rather than a refused connection.
 */
@Component
public class GracefulShutdown implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(GracefulShutdown.class);

    /** After the abort, how long the aborted responses may take to be written. */
    private static final Duration ABORT_SETTLE = Duration.ofSeconds(5);

    private final AdmissionGate gate;
    private final EngineHolder holder;
    private final Duration grace;
    private volatile boolean running;

    public GracefulShutdown(AdmissionGate gate, EngineHolder holder, PodserveProperties props) {
        this.gate = gate;
        this.holder = holder;
        this.grace = props.resilience().shutdownGracePeriod();
    }

    /** At start-up, and when a stopped context starts again (Spring's test framework pauses idle contexts so). */
    @Override
    public void start() {
        gate.open();
        running = true;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return Integer.MAX_VALUE;
    }

    /** Why {@code /health} must say DOWN, if shutting down is the reason. */
    public Optional<String> downReason() {
        return gate.draining() ? Optional.of("the server is shutting down") : Optional.empty();
    }

    @Override
    public void stop() {
        gate.drain();
        Optional<Engine> engine = holder.ready().map(m -> m.engine());
        log.info("shutting down: admission closed; {} running request(s) have {} ms to finish", gate.inFlight(),
                grace.toMillis());
        if (!await(() -> gate.inFlight() == 0, grace)) {
            log.warn("shutting down: {} request(s) still running after {} ms; aborting them", gate.inFlight(), grace.toMillis());
            engine.ifPresent(e -> e.abortAll(new EngineUnavailableException("The server is shutting down.")));
            if (!await(() -> gate.inFlight() == 0, ABORT_SETTLE)) {
                log.warn("shutting down: {} response(s) still being written; going on", gate.inFlight());
            }
        }
        // Requests that never passed the gate (health probes) end too; the engine closes after this.
        engine.ifPresent(e -> {
            e.abortAll(new EngineUnavailableException("The server is shutting down."));
            await(() -> idle(e.stats()), ABORT_SETTLE);
        });
        running = false;
        log.info("shutting down: no request left in the engine");
    }

    private static boolean idle(EngineStats s) {
        return s.running() == 0 && s.waiting() == 0;
    }

    private static boolean await(BooleanSupplier done, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) return false;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return done.getAsBoolean();
            }
        }
        return true;
    }
}
