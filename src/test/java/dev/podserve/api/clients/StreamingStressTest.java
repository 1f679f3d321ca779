package dev.podserve.api.clients;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.podserve.config.EngineHolder;
import dev.podserve.engine.Engine;
import dev.podserve.engine.EngineStats;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Streaming under stress, over a raw JDK HTTP client so nothing between the test and the socket
 * retries, buffers or hides a disconnect: a client that leaves mid-stream, and many at once.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamingStressTest {

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @Autowired
    ObjectMapper json;

    HttpClient http;

    @BeforeAll
    void start() throws InterruptedException {
        holder.await();
        // HTTP/1.1: one connection per request, so closing the body really closes the socket the server watches.
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterAll
    void stop() {
        // HttpClient is AutoCloseable only from Java 21; on 17 its threads are daemons and go with the JVM.
        if (http instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    private Engine engine() {
        return holder.require().engine();
    }

    private HttpRequest chat(String content, int maxTokens) {
        ObjectNode body = json.createObjectNode().put("model", "podserve-tiny").put("stream", true).put("temperature", 0.0)
                .put("max_tokens", maxTokens).put("ignore_eos", true);
        body.putObject("stream_options").put("include_usage", true);
        body.putArray("messages").addObject().put("role", "user").put("content", content);
        return HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/chat/completions"))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))).build();
    }

    /** One finished stream, read from its raw SSE body. */
    private record Result(String text, String finishReason, int completionTokens) {
    }

    /** Parses a whole SSE body, checking the framing OpenAI clients rely on along the way. */
    private Result parse(String body) {
        assertThat(body).endsWith("data: [DONE]\n\n");
        StringBuilder text = new StringBuilder();
        String finish = null;
        int completion = -1;
        for (String event : body.split("\n\n")) {
            if (event.startsWith(":")) continue;
            assertThat(event).as("one data line per event").startsWith("data: ").doesNotContain("\n");
            String data = event.substring("data: ".length());
            if (data.equals("[DONE]")) continue;
            JsonNode chunk = json.readTree(data);
            assertThat(chunk.has("error")).as("in-band error: %s", data).isFalse();
            for (JsonNode c : chunk.get("choices")) {
                JsonNode content = c.get("delta").get("content");
                if (content != null && !content.isNull()) text.append(content.asString());
                if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asString();
            }
            JsonNode usage = chunk.get("usage");
            if (usage != null && !usage.isNull()) completion = usage.get("completion_tokens").asInt();
        }
        return new Result(text.toString(), finish, completion);
    }

    private Result stream(String content, int maxTokens) throws Exception {
        HttpResponse<String> r = http.send(chat(content, maxTokens), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        return parse(r.body());
    }

    private static void awaitIdle(Engine engine, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        EngineStats s = engine.stats();
        while (!(s.running() == 0 && s.waiting() == 0 && s.kvUsage() == 0.0) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            s = engine.stats();
        }
        assertThat(s).as("engine idle with every KV block back").satisfies(x -> {
            assertThat(x.running()).isZero();
            assertThat(x.waiting()).isZero();
            assertThat(x.kvUsage()).isZero();
        });
    }

    @Test
    void aClientThatLeavesMidStreamIsAbortedAndItsKvBlocksReturn() throws Exception {
        Engine engine = engine();
        awaitIdle(engine, Duration.ofSeconds(10));
        int maxTokens = 3000;
        long stepsBefore = engine.stepCount();

        HttpResponse<InputStream> r = http.send(chat("Tell me a very long story.", maxTokens),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        int contentEvents = 0;
        for (String line; contentEvents < 5 && (line = reader.readLine()) != null; ) {
            if (line.startsWith("data: ") && line.contains("\"content\"") && !line.contains("\"role\"")) contentEvents++;
        }
        assertThat(contentEvents).isEqualTo(5);
        EngineStats mid = engine.stats();
        assertThat(mid.running()).as("the request is generating when the client leaves").isEqualTo(1);
        assertThat(mid.kvUsage()).isPositive();

        reader.close();

        awaitIdle(engine, Duration.ofSeconds(5));
        // ignore_eos and no stop strings: the only way to end before max_tokens is the abort.
        long steps = engine.stepCount() - stepsBefore;
        assertThat(steps).as("engine steps the request got before it ended").isLessThan(maxTokens / 2);
    }

    @Test
    void sixtyFourConcurrentStreamsEachGetTheTextOfOneAlone() throws Exception {
        String prompt = "Sixty-four clients ask the same thing.";
        int maxTokens = 24;
        Result alone = stream(prompt, maxTokens);
        assertThat(alone.text()).isNotEmpty();
        assertThat(alone.finishReason()).isEqualTo("length");
        assertThat(alone.completionTokens()).isEqualTo(maxTokens);

        Engine engine = engine();
        AtomicInteger peak = new AtomicInteger();
        AtomicBoolean watching = new AtomicBoolean(true);
        // Proves the requests really shared batches instead of running one after another.
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                peak.accumulateAndGet(engine.stats().running(), Math::max);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "running-watcher");
        watcher.setDaemon(true);
        watcher.start();

        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) all.add(http.sendAsync(chat(prompt, maxTokens), HttpResponse.BodyHandlers.ofString()));
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } finally {
            watching.set(false);
            watcher.join();
        }
        for (int i = 0; i < all.size(); i++) {
            HttpResponse<String> r = all.get(i).get();
            assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
            assertThat(parse(r.body())).as("request %d", i).isEqualTo(alone);
        }
        assertThat(peak.get()).as("most requests running at once").isGreaterThan(8);
        awaitIdle(engine, Duration.ofSeconds(5));
    }
}
