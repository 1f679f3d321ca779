package dev.podserve.fidelity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.util.unit.DataSize;

import dev.podserve.config.PodserveProperties;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The transformers reference fixtures under src/test/resources/fixtures (see the README there). */
final class Fixtures {

    static final List<String> MODELS = List.of("llama3-gqa", "llama2-tied-linear", "mistral-window", "qwen2-bias");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Fixtures() {
    }

    static Path dir(String model) {
        try {
            return Path.of(Fixtures.class.getClassLoader().getResource("fixtures/" + model + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode expected(String model) {
        try {
            return JSON.readTree(Files.readString(dir(model).resolve("expected.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<JsonNode> cases(String model) {
        List<JsonNode> out = new ArrayList<>();
        expected(model).get("cases").forEach(out::add);
        return out;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    /** Chat messages as the template sees them: plain maps of strings. */
    static List<Map<String, Object>> messages(JsonNode messages) {
        List<Map<String, Object>> out = new ArrayList<>();
        messages.forEach(m -> out.add(Map.of("role", m.get("role").asString(), "content", m.get("content").asString())));
        return out;
    }

    /** Settings that serve a fixture folder from its real weights, on a small KV cache. */
    static PodserveProperties properties(String model) {
        return new PodserveProperties(
                new PodserveProperties.Model(dir(model).toString(), "auto", 0, null, null, "auto", "auto"),
                new PodserveProperties.Scheduler(128, 16, 64, 0, "", "headroom", true, "fcfs"),
                new PodserveProperties.KvCache(16, DataSize.ofMegabytes(16), 0, true),
                new PodserveProperties.Cpu(2),
                new PodserveProperties.Api(Duration.ofSeconds(15), java.util.List.of()),
                null, null, null, // resilience, security and attention: the CPU backend's loader reads none
                "cpu");
    }
}
