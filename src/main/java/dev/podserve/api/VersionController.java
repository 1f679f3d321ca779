package dev.podserve.api;

import java.util.Map;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /version}: the server's version as vLLM reports its own, {@code {"version": ...}}. It is
 * the build's project version ({@code spring.application.version}, set from the pom), so it cannot
 * drift from the release it is part of. Answered while the model loads, as it needs none.
 */
@RestController
class VersionController {

    private final Map<String, String> body;

    VersionController(@Value("${spring.application.version}") String version) {
        this.body = Map.of("version", version);
    }

    @GetMapping("/version")
    Map<String, String> version() {
        return body;
    }
}
