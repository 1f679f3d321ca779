package dev.podserve.api;

import java.util.Map;
import java.util.Optional;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.podserve.config.EngineHolder;
import dev.podserve.engine.EngineUnavailableException;
import dev.podserve.engine.ServingModel;
import dev.podserve.resilience.BackendCircuitBreaker;
import dev.podserve.resilience.GracefulShutdown;

/**
 * {@code GET /health}: 200 once the model serves; 503 (DOWN) in the error envelope while it loads,
 * while the backend's circuit breaker is open or half-open, from the moment a shutdown begins, and
 * after the engine stopped (its loop died), so a load balancer stops sending requests and an
 * orchestrator restarts what cannot recover. Polling it while the breaker waits for a probe sends
 * one (see {@link BackendCircuitBreaker#probeIfDue}).
 */
@RestController
class HealthController {

    private final EngineHolder holder;
    private final BackendCircuitBreaker breaker;
    private final GracefulShutdown shutdown;

    HealthController(EngineHolder holder, BackendCircuitBreaker breaker, GracefulShutdown shutdown) {
        this.holder = holder;
        this.breaker = breaker;
        this.shutdown = shutdown;
    }

    @GetMapping("/health")
    Map<String, String> health() {
        ServingModel model = holder.require();
        if (!model.engine().isServing()) {
            throw new EngineUnavailableException("DOWN: the engine is not serving (shutting down or failed)");
        }
        Optional<String> down = shutdown.downReason().or(breaker::downReason);
        if (down.isPresent()) {
            breaker.probeIfDue(model.engine());
            throw new EngineUnavailableException("DOWN: " + down.get());
        }
        return Map.of("status", "ok");
    }
}
