package dev.podserve.api;

import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.podserve.config.EngineHolder;
import dev.podserve.engine.EngineUnavailableException;

/**
 * {@code GET /health}: 200 once the model serves; 503 in the error envelope while it loads, and
 * after the engine stopped (shutting down, or its loop died), so an orchestrator restarts it.
 */
@RestController
class HealthController {

    private final EngineHolder holder;

    HealthController(EngineHolder holder) {
        this.holder = holder;
    }

    @GetMapping("/health")
    Map<String, String> health() {
        if (!holder.require().engine().isServing()) {
            throw new EngineUnavailableException("the engine is not serving (shutting down or failed)");
        }
        return Map.of("status", "ok");
    }
}
