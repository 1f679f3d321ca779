package dev.podserve.api;

import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.podserve.config.EngineHolder;

/** {@code GET /health}: 200 once the model serves, 503 in the error envelope while it loads. */
@RestController
class HealthController {

    private final EngineHolder holder;

    HealthController(EngineHolder holder) {
        this.holder = holder;
    }

    @GetMapping("/health")
    Map<String, String> health() {
        holder.require();
        return Map.of("status", "ok");
    }
}
