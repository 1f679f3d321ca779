package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Raw HTTP against a test server with the JDK client (nothing in between retries or hides a
 * status), plus the parsing of OpenAI's SSE streams and error envelopes the tests check.
 */
public final class HttpTestClient {

    public static final ObjectMapper JSON = JsonMapper.builder().build();

    private final HttpClient http;
    private final String base;
    private final String apiKey;

    public HttpTestClient(int port) {
        this(port, null);
    }

    public HttpTestClient(int port, String apiKey) {
        // HTTP/1.1: one connection per concurrent request, as most clients of an LLM server do.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        this.base = "http://localhost:" + port;
        this.apiKey = apiKey;
    }

    public HttpTestClient withKey(String key) {
        return new HttpTestClient(http, base, key);
    }

    private HttpTestClient(HttpClient http, String base, String apiKey) {
        this.http = http;
        this.base = base;
        this.apiKey = apiKey;
    }

    public HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        return b;
    }

    public HttpRequest post(String path, byte[] body) {
        return request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    public HttpRequest post(String path, String body) {
        return post(path, body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError("request to " + request.uri() + " failed: " + e, e);
        }
    }

    public CompletableFuture<HttpResponse<String>> sendAsync(HttpRequest request) {
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    /** A greedy chat request that runs exactly maxTokens tokens. */
    public static String chat(String content, int maxTokens, boolean stream) {
        ObjectNode body = JSON.createObjectNode().put("model", "podserve-tiny").put("temperature", 0.0)
                .put("max_tokens", maxTokens).put("ignore_eos", true).put("stream", stream);
        if (stream) body.putObject("stream_options").put("include_usage", true);
        body.putArray("messages").addObject().put("role", "user").put("content", content);
        return JSON.writeValueAsString(body);
    }

    /** Asserts OpenAI's error envelope with the given status in the body, and returns its message. */
    public static String assertEnvelope(HttpResponse<String> r, int status, String type) {
        assertThat(r.statusCode()).as("status of %s", r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertThat(e).as("error envelope in %s", r.body()).isNotNull();
        assertThat(e.get("code").asInt()).isEqualTo(status);
        if (type != null) assertThat(e.get("type").asString()).isEqualTo(type);
        assertThat(e.get("message").asString()).isNotBlank();
        return e.get("message").asString();
    }

    /** What a whole SSE body said: text per choice joined, the last finish reason, usage, and any in-band error. */
    public record Stream(String text, String finishReason, int completionTokens, JsonNode error, boolean done) {
    }

    public static Stream parseStream(String body) {
        StringBuilder text = new StringBuilder();
        String finish = null;
        int completion = -1;
        JsonNode error = null;
        boolean done = false;
        for (String event : body.split("\n\n")) {
            if (event.isEmpty() || event.startsWith(":")) continue;
            assertThat(event).as("one data line per event").startsWith("data: ").doesNotContain("\n");
            String data = event.substring("data: ".length());
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            JsonNode chunk = JSON.readTree(data);
            if (chunk.has("error")) {
                error = chunk.get("error");
                continue;
            }
            for (JsonNode c : chunk.get("choices")) {
                JsonNode delta = c.get("delta");
                JsonNode content = delta != null ? delta.get("content") : c.get("text");
                if (content != null && !content.isNull()) text.append(content.asString());
                if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asString();
            }
            JsonNode usage = chunk.get("usage");
            if (usage != null && !usage.isNull()) completion = usage.get("completion_tokens").asInt();
        }
        return new Stream(text.toString(), finish, completion, error, done);
    }
}
