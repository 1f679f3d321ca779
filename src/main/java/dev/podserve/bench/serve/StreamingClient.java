package dev.podserve.bench.serve;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sends one streaming request to an OpenAI-compatible server and times its SSE chunks as they
 * arrive. Uses the JDK's HTTP client with a line subscriber, so no thread waits per request and a
 * chunk's timestamp is taken when its line is delivered, not after the body ends.
 *
 * <p>Only {@code data:} lines matter: comments ({@code : ping}), blank separators and other fields
 * are skipped; {@code [DONE]} ends nothing by itself (the stream's end does). A chunk counts as a
 * token arrival when it carries non-empty text ({@code choices[0].text} or
 * {@code choices[0].delta.content}): the role-only first chat chunk and the finishing chunk are not
 * tokens.
 */
public final class StreamingClient {

    /** Which OpenAI route to stream through. */
    public enum Endpoint {
        COMPLETIONS("/v1/completions"), CHAT("/v1/chat/completions");

        public final String path;

        Endpoint(String path) {
            this.path = path;
        }

        public static Endpoint parse(String text) {
            return switch (text.trim()) {
                case "completions", "/v1/completions" -> COMPLETIONS;
                case "chat", "/v1/chat/completions" -> CHAT;
                default -> throw new IllegalArgumentException("--endpoint must be completions or chat, not " + text);
            };
        }
    }

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final int MAX_ERROR_CHARS = 500;

    private final HttpClient http;
    private final URI baseUri;
    private final Endpoint endpoint;
    private final String model;
    private final String apiKey;
    private final Duration timeout;
    private final double temperature;
    private final double topP;
    /** Fields put into every request body last, over the client's own ({@code --extra-body}); null: none. */
    private ObjectNode extraBody;
    /** Keep each output's text and say whether it parses as JSON ({@code --check-json}). */
    private boolean checkJson;

    /** A greedy client: temperature 0, no top-p. */
    public StreamingClient(String baseUrl, Endpoint endpoint, String model, String apiKey, Duration timeout) {
        this(baseUrl, endpoint, model, apiKey, timeout, 0, 1);
    }

    /** @param temperature every request's; 0 is greedy. @param topP sent when below 1 */
    public StreamingClient(String baseUrl, Endpoint endpoint, String model, String apiKey, Duration timeout,
                           double temperature, double topP) {
        // HTTP/1.1: an h2c upgrade attempt would only add a round trip; servers stream SSE over 1.1 anyway.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        this.baseUri = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
        this.endpoint = endpoint;
        this.model = model;
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.temperature = temperature;
        this.topP = topP;
    }

    /**
     * Every request body gets these fields, replacing the client's own of the same name: a
     * {@code response_format}, say, with {@code "ignore_eos": false} since a format ends its output.
     * {@code checkJson}: each output's text is kept and tested for being one JSON value.
     */
    public StreamingClient withExtras(ObjectNode extra, boolean checkJson) {
        this.extraBody = extra == null ? null : extra.deepCopy();
        this.checkJson = checkJson;
        return this;
    }

    /** The first model the server lists, for runs that name none. */
    public static String firstModel(String baseUrl, String apiKey) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(baseUrl.replaceAll("/+$", "") + "/v1/models"))
                .timeout(Duration.ofSeconds(30)).GET();
        if (apiKey != null && !apiKey.isEmpty()) req.header("Authorization", "Bearer " + apiKey);
        HttpResponse<String> response = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) throw new IllegalStateException("GET /v1/models: HTTP " + response.statusCode());
        JsonNode data = JSON.readTree(response.body()).path("data");
        if (!data.isArray() || data.isEmpty()) throw new IllegalStateException("GET /v1/models lists no model");
        return data.get(0).path("id").asString();
    }

    /** The request body: streamed, usage at the end, exactly outputLen tokens (ignore_eos), greedy unless a temperature was given. */
    String body(BenchRequest request) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        if (endpoint == Endpoint.CHAT) {
            ArrayNode messages = body.putArray("messages");
            messages.addObject().put("role", "user").put("content", request.hasTokenIds() ? idsAsText(request.promptIds()) : request.promptText());
        } else if (request.hasTokenIds()) {
            ArrayNode ids = body.putArray("prompt");
            for (int id : request.promptIds()) ids.add(id);
        } else {
            body.put("prompt", request.promptText());
        }
        body.put("max_tokens", request.outputLen());
        // Greedy by default; sampled traffic (a temperature, top-p) costs a server more per token, on the
        // host or the device, and is what most real clients send.
        body.put("temperature", temperature);
        if (topP < 1) body.put("top_p", topP);
        // ignore_eos (vLLM's extension) makes the output length what the workload asked for; a server that
        // does not know it ignores it, and then the measured output tokens show what came back.
        body.put("ignore_eos", true);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        if (extraBody != null) body.setAll(extraBody);
        return JSON.writeValueAsString(body);
    }

    private static String idsAsText(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length * 4);
        for (int id : ids) sb.append(id).append(' ');
        return sb.toString();
    }

    /**
     * Sends the request now; the future always completes normally, with a failed result for HTTP
     * errors, in-band errors, broken streams and timeouts.
     *
     * @param runStart System.nanoTime() at the start of the run, for {@link RequestResult#sentAt()}
     */
    public CompletableFuture<RequestResult> send(BenchRequest request, long runStart) {
        HttpRequest.Builder req = HttpRequest.newBuilder(baseUri.resolve(endpoint.path))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body(request)));
        if (apiKey != null && !apiKey.isEmpty()) req.header("Authorization", "Bearer " + apiKey);
        ChunkTimer timer = new ChunkTimer(checkJson);
        long start = System.nanoTime();
        double sentAt = (start - runStart) / 1e9;
        CompletableFuture<HttpResponse<Void>> exchange = http.sendAsync(req.build(), HttpResponse.BodyHandlers.fromLineSubscriber(timer));
        // Cancelling the exchange aborts the connection, so the server stops generating and the
        // concurrency slot is not given back while the stream still runs (orTimeout would only
        // fail the future and leave the stream going into the next requests and probes).
        CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(() -> exchange.cancel(true));
        return exchange
                .handle((response, error) -> {
                    double latency = (System.nanoTime() - start) / 1e9;
                    Throwable cause = error != null && error.getCause() != null ? error.getCause() : error;
                    if (cause instanceof java.util.concurrent.CancellationException) {
                        return RequestResult.failed(request.index(), request.kind(), sentAt, latency,
                                "timed out after " + timeout.toMillis() + " ms (--timeout)");
                    }
                    if (error != null) {
                        return RequestResult.failed(request.index(), request.kind(), sentAt, latency, cause.toString());
                    }
                    if (response.statusCode() != 200) {
                        return RequestResult.failed(request.index(), request.kind(), sentAt, latency,
                                "HTTP " + response.statusCode() + ": " + timer.otherText());
                    }
                    return timer.result(request, start, sentAt, latency);
                });
    }

    /** Receives the body line by line and keeps the arrival time of every chunk that carries text. */
    private static final class ChunkTimer implements Flow.Subscriber<String> {
        private final List<Long> textChunkTimes = new ArrayList<>();
        /** The last chunk with choices: the end of the request's latency, as vLLM ends it (not the body's end). */
        private long lastChoicesChunk = -1;
        private final StringBuilder other = new StringBuilder();
        /** The output's text, kept only when it is to be checked. */
        private final StringBuilder text;
        private JsonNode usage;
        private String inBandError;
        private boolean sawDone;

        ChunkTimer(boolean keepText) {
            this.text = keepText ? new StringBuilder() : null;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String line) {
            long now = System.nanoTime();
            if (!line.startsWith("data:")) {
                if (!line.isBlank() && !line.startsWith(":") && other.length() < MAX_ERROR_CHARS) other.append(line);
                return;
            }
            String data = line.substring(5).trim();
            if (data.equals("[DONE]")) {
                sawDone = true;
                return;
            }
            JsonNode chunk;
            try {
                chunk = JSON.readTree(data);
            } catch (JacksonException e) {
                if (inBandError == null) inBandError = "unparsable chunk: " + data.substring(0, Math.min(data.length(), 200));
                return;
            }
            if (chunk.hasNonNull("error")) {
                if (inBandError == null) inBandError = "in-band error: " + chunk.get("error").toString();
                return;
            }
            JsonNode u = chunk.get("usage");
            if (u != null && u.isObject()) usage = u;
            JsonNode choices = chunk.path("choices");
            if (choices.isArray() && !choices.isEmpty()) {
                lastChoicesChunk = now;
                JsonNode choice = choices.get(0);
                JsonNode delta = choice.path("delta");
                String text = choice.has("delta") ? delta.path("content").asString("") : choice.path("text").asString("");
                // A reasoning model's thinking streams beside the answer (vLLM and SGLang: reasoning_content,
                // newer vLLM: reasoning): generated tokens all the same, for TTFT and ITL.
                String thinking = delta.path("reasoning_content").asString(delta.path("reasoning").asString(""));
                if (!text.isEmpty() || !thinking.isEmpty()) textChunkTimes.add(now);
                if (this.text != null) this.text.append(text);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            // The future returned by sendAsync fails with it too; that is where it is reported.
        }

        @Override
        public void onComplete() {
        }

        String otherText() {
            return other.toString();
        }

        RequestResult result(BenchRequest request, long start, double sentAt, double latency) {
            if (inBandError != null) return RequestResult.failed(request.index(), request.kind(), sentAt, latency, inBandError);
            // A stream cut off cleanly (a server giving up mid-answer) is a failed request, not a short one.
            if (!sawDone) {
                return RequestResult.failed(request.index(), request.kind(), sentAt, latency, "the stream ended without [DONE]");
            }
            if (textChunkTimes.isEmpty()) {
                return RequestResult.failed(request.index(), request.kind(), sentAt, latency,
                        "no output text in the stream");
            }
            latency = (lastChoicesChunk - start) / 1e9;
            double ttft = (textChunkTimes.get(0) - start) / 1e9;
            double[] itl = new double[textChunkTimes.size() - 1];
            for (int i = 1; i < textChunkTimes.size(); i++) itl[i - 1] = (textChunkTimes.get(i) - textChunkTimes.get(i - 1)) / 1e9;
            int promptTokens = usage != null ? usage.path("prompt_tokens").asInt(request.promptLen()) : request.promptLen();
            int outputTokens = usage != null ? usage.path("completion_tokens").asInt(textChunkTimes.size()) : textChunkTimes.size();
            return new RequestResult(request.index(), request.kind(), true, null, sentAt, ttft, latency, itl, promptTokens, outputTokens,
                    text == null ? null : isJson(text.toString()));
        }

        private static boolean isJson(String s) {
            try {
                JSON.readTree(s);
                return !s.isBlank();
            } catch (JacksonException e) {
                return false;
            }
        }
    }
}
