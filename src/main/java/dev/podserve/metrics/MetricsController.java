package dev.podserve.metrics;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * {@code GET /metrics}, where vLLM serves it. Always the 0.0.4 text format, whatever the scraper
 * asks for: every Prometheus accepts it, and the series written by hand beside the registry's are
 * in that format only.
 */
@RestController
class MetricsController {

    static final MediaType PROMETHEUS_TEXT = MediaType.parseMediaType("text/plain; version=0.0.4; charset=utf-8");

    private final PrometheusMeterRegistry registry;
    private final EngineMetrics engineMetrics;

    MetricsController(PrometheusMeterRegistry registry, EngineMetrics engineMetrics) {
        this.registry = registry;
        this.engineMetrics = engineMetrics;
    }

    @GetMapping("/metrics")
    ResponseEntity<String> scrape() {
        return ResponseEntity.ok().contentType(PROMETHEUS_TEXT)
                .body(registry.scrape() + engineMetrics.scrapeUnregistered());
    }
}
