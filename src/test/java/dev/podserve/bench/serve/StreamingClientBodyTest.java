package dev.podserve.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** What bench serve asks the server for: greedy by default, the given temperature and top-p otherwise. */
class StreamingClientBodyTest {

    private static final BenchRequest REQUEST = new BenchRequest(0, "random", new int[] {5, 6, 7}, null, 3, 9);

    private static JsonNode body(StreamingClient client) {
        return JsonMapper.builder().build().readTree(client.body(REQUEST));
    }

    @Test
    void greedyByDefaultAndSampledWhenAsked() {
        JsonNode greedy = body(new StreamingClient("http://localhost:1", StreamingClient.Endpoint.COMPLETIONS, "m", null,
                Duration.ofSeconds(1)));
        assertThat(greedy.path("temperature").asDouble()).isZero();
        assertThat(greedy.has("top_p")).isFalse();
        assertThat(greedy.path("ignore_eos").asBoolean()).isTrue();
        assertThat(greedy.path("max_tokens").asInt()).isEqualTo(9);

        JsonNode sampled = body(new StreamingClient("http://localhost:1", StreamingClient.Endpoint.COMPLETIONS, "m", null,
                Duration.ofSeconds(1), 0.7, 0.95));
        assertThat(sampled.path("temperature").asDouble()).isEqualTo(0.7);
        assertThat(sampled.path("top_p").asDouble()).isEqualTo(0.95);
    }

    @Test
    void extraBodyFieldsGoInLastAndReplaceTheClientsOwn() {
        ServeBenchmarkOptions o = ServeBenchmarkOptions.parse("--extra-body",
                "{\"response_format\": {\"type\": \"json_object\"}, \"ignore_eos\": false}", "--check-json");
        JsonNode b = body(new StreamingClient("http://localhost:1", StreamingClient.Endpoint.COMPLETIONS, "m", null,
                Duration.ofSeconds(1)).withExtras(o.extraBody, o.checkJson));
        assertThat(b.path("response_format").path("type").asString()).isEqualTo("json_object");
        assertThat(b.path("ignore_eos").asBoolean()).isFalse();
        assertThat(b.path("stream").asBoolean()).isTrue();
        assertThatThrownBy(() -> ServeBenchmarkOptions.parse("--extra-body", "[1]")).hasMessageContaining("--extra-body");
    }

    @Test
    void badSamplingFlagsAreRefused() {
        assertThatThrownBy(() -> ServeBenchmarkOptions.parse("--temperature", "-1")).hasMessageContaining("--temperature");
        assertThatThrownBy(() -> ServeBenchmarkOptions.parse("--top-p", "0")).hasMessageContaining("--top-p");
        assertThatThrownBy(() -> ServeBenchmarkOptions.parse("--top-p", "1.5")).hasMessageContaining("--top-p");
        assertThat(ServeBenchmarkOptions.parse("--temperature", "1.2", "--top-p", "0.5").topP).isEqualTo(0.5);
    }
}
