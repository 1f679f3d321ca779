package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;

import dev.podserve.backend.BackendDecorator;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.ForwardingBackend;
import dev.podserve.config.EngineHolder;

import tools.jackson.databind.JsonNode;

/**
 * The HTTP API over a backend that, like the CUDA one, leaves the host's cores free: each response
 * is then built on its connection's event loop instead of the engine thread. Streams, the
 * non-streamed body, several choices and usage must come out exactly as on the engine thread.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(DeviceLikeDeliveryApiTest.DeviceLike.class)
class DeviceLikeDeliveryApiTest {

    /** Reports the embedded CPU model as a device-like backend; everything else passes through. */
    @TestConfiguration(proxyBeanMethods = false)
    static class DeviceLike {
        @Bean
        BackendDecorator deviceLike() {
            return inner -> new ForwardingBackend(inner) {
                @Override
                public boolean usesHostCores() {
                    return false;
                }
            };
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @Test
    void streamsAndBodiesMatchWhenBuiltOnTheEventLoop() throws Exception {
        assertThat(holder.await().engine().forwardUsesHostCores()).isFalse();
        var client = ApiTestSupport.client(port);
        String body = "{\"prompt\":[\"Event loops\",\"and engines\"],\"n\":2,\"max_tokens\":24,\"temperature\":0,\"ignore_eos\":true";
        JsonNode whole = ApiTestSupport.post(client, "/v1/completions", body + "}", HttpStatus.OK);
        assertThat(whole.get("choices")).hasSize(4);
        assertThat(whole.get("usage").get("completion_tokens").asInt()).isEqualTo(4 * 24);

        String sse = ApiTestSupport.postRaw(client, "/v1/completions",
                body + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}", HttpStatus.OK);
        assertThat(sse).endsWith("data: [DONE]\n\n");
        List<StringBuilder> texts = new ArrayList<>();
        for (int i = 0; i < 4; i++) texts.add(new StringBuilder());
        JsonNode usage = null;
        Set<String> ids = new TreeSet<>();
        for (String event : sse.split("\n\n")) {
            if (!event.startsWith("data: {")) continue;
            JsonNode chunk = ApiTestSupport.JSON.readTree(event.substring("data: ".length()));
            ids.add(chunk.get("id").asString());
            for (JsonNode c : chunk.get("choices")) texts.get(c.get("index").asInt()).append(c.get("text").asString());
            if (chunk.hasNonNull("usage")) usage = chunk.get("usage");
        }
        assertThat(ids).hasSize(1);
        for (int i = 0; i < 4; i++) {
            assertThat(texts.get(i).toString()).as("choice %d", i).isEqualTo(whole.get("choices").get(i).get("text").asString());
        }
        assertThat(usage).isNotNull();
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(4 * 24);

        // Every request has left the engine once the responses are done.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (holder.require().engine().stats().running() > 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(holder.require().engine().stats().running()).isZero();
    }
}
